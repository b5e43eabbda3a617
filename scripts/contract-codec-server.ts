/**
 * The TypeScript codec as a long-running process for the Python contract tests
 * (contract-tests/codec_client.py starts one per pytest session).
 *
 * Protocol: one JSON request per stdin line, one JSON response per stdout line, in order.
 *   {"id", "op": "decode_fpm", "items": [hex...]}      -> {"id", "ok": true, "result": [{ok, value}|{ok: false, reason, detail}]}
 *   {"id", "op": "encode_fpm", "items": [exact...]}    -> {"id", "ok": true, "result": [{ok, hex}|{ok: false, error}]}
 *   {"id", "op": "roundtrip_fpm", "items": [{hex, value}]} -> [{decoded: <decode_fpm result of hex>, encoded: <encode_fpm result of value>}]
 *   {"id", "op": "decode_envelope" | "encode_envelope", "items": [...]} likewise
 *   {"id", "op": "describe"}                           -> field tables, TS defaults, zod description
 * Values are exact JSON (scripts/contract-exact-json.ts). A request that cannot be served gets
 * {"id", "ok": false, "error"}; the process never dies on bad input and exits when stdin closes.
 */
import readline from "node:readline";
import { decodeEnvelope, encodeEnvelope } from "../src/codec/envelope.js";
import { decodeFpm } from "../src/codec/fpm-decode.js";
import { encodeFpm } from "../src/codec/fpm-encode.js";
import { describeFieldTables, describeZod } from "./contract-describe.js";
import {
  type ExactObject,
  envelopeFromExact,
  envelopeToExact,
  fpmFromExact,
  fpmToExact,
} from "./contract-exact-json.js";

interface CodecRequest {
  id: number;
  op: string;
  items?: unknown[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromHex = (h: unknown): Uint8Array => {
  if (typeof h !== "string" || !/^([0-9a-f]{2})*$/i.test(h)) throw new TypeError("item must be a hex string");
  return Buffer.from(h, "hex");
};

function encodeEach(items: unknown[], encode: (item: ExactObject) => Uint8Array): unknown[] {
  return items.map((item) => {
    try {
      return { ok: true, hex: hex(encode(item as ExactObject)) };
    } catch (e) {
      return { ok: false, error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  });
}

function serve(req: CodecRequest): unknown {
  const items = req.items ?? [];
  switch (req.op) {
    case "decode_fpm":
      return items.map((h) => {
        const r = decodeFpm(fromHex(h));
        return r.ok ? { ok: true, value: fpmToExact(r.value) } : r;
      });
    case "encode_fpm":
      return encodeEach(items, (item) => encodeFpm(fpmFromExact(item)));
    case "roundtrip_fpm":
      // Both directions of one property-test example in a single round trip.
      return items.map((item) => {
        const { hex: h, value } = item as { hex: string; value: ExactObject };
        const r = decodeFpm(fromHex(h));
        return {
          decoded: r.ok ? { ok: true, value: fpmToExact(r.value) } : r,
          encoded: encodeEach([value], (v) => encodeFpm(fpmFromExact(v)))[0],
        };
      });
    case "decode_envelope":
      return items.map((h) => {
        const r = decodeEnvelope(fromHex(h));
        return r.ok ? { ok: true, value: envelopeToExact(r.value) } : r;
      });
    case "encode_envelope":
      return encodeEach(items, (item) => encodeEnvelope(envelopeFromExact(item)));
    case "describe":
      return { tables: describeFieldTables(), zod: describeZod() };
    default:
      throw new TypeError(`unknown op ${req.op}`);
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let id: unknown = null;
  let response: unknown;
  try {
    const req = JSON.parse(line) as CodecRequest;
    id = req.id;
    response = { id, ok: true, result: serve(req) };
  } catch (e) {
    response = { id, ok: false, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
  process.stdout.write(`${JSON.stringify(response)}\n`);
});
lines.on("close", () => process.exit(0));
