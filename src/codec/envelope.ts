/**
 * The NATS event-plane envelope (WIRE.md section 4): encode in Dynamo's key order,
 * decode with u64 fields kept exact as bigint. Never throws on decode.
 */
import { ENVELOPE_FIELDS, type EventEnvelope, U64_MAX } from "../schema/envelope.js";
import { CodecFailure, MsgpackCursor } from "./msgpack-cursor.js";
import { MsgpackWriter, encodedKey } from "./msgpack-writer.js";
import type { DecodeResult, EnvelopeRejectReason } from "./result.js";

const KEYS = ENVELOPE_FIELDS.map((f) => encodedKey(f.wire));
const KEY_STRINGS = ENVELOPE_FIELDS.map((f) => f.wire as string);
const writer = new MsgpackWriter(1024);

/** Encodes an envelope; `payload` is copied in unchanged. */
export function encodeEnvelope(env: EventEnvelope): Uint8Array {
  if (env.publisherId < 0n || env.publisherId > U64_MAX) throw new RangeError("publisherId must be a u64");
  const w = writer.reset();
  w.mapHeader(5);
  w.raw(KEYS[0]);
  w.uint64(env.publisherId);
  w.raw(KEYS[1]);
  w.uint64(env.sequence);
  w.raw(KEYS[2]);
  w.uint64(env.publishedAtMs);
  w.raw(KEYS[3]);
  w.str(env.topic);
  w.raw(KEYS[4]);
  w.bin(env.payload);
  return w.finish();
}

function readU64(c: MsgpackCursor, path: string): bigint {
  const tag = c.byte();
  if (tag <= 0x7f) return BigInt(tag);
  switch (tag) {
    case 0xcc: return BigInt(c.byte());
    case 0xcd: return BigInt(c.u16());
    case 0xce: return BigInt(c.u32());
    case 0xcf: return c.u64BigInt();
  }
  const negative = tag >= 0xe0 || (tag >= 0xd0 && tag <= 0xd3);
  if (negative) return c.fail("schema", `${path}: expected u64, got a negative int`);
  return c.mismatch(tag, path, "u64");
}

/**
 * Decodes an envelope. The returned `payload` is a view into `bytes` (no copy): copy it
 * if `bytes` will be reused. Missing keys are a schema error; unknown keys are skipped.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodeResult<EventEnvelope, EnvelopeRejectReason> {
  const c = new MsgpackCursor(bytes);
  let publisherId: bigint | undefined, sequence: bigint | undefined, publishedAtMs: bigint | undefined;
  let topic: string | undefined, payload: Uint8Array | undefined;
  try {
    const tag = c.byte();
    const n = c.mapLength(tag);
    if (n < 0) c.mismatch(tag, "$", "map");
    for (let k = 0; k < n; k++) {
      const kt = c.byte();
      const len = c.strLength(kt);
      if (len < 0) c.mismatch(kt, "$ map key", "str");
      const key = c.strBody(len);
      switch (key) {
        case "publisher_id": publisherId = readU64(c, "$.publisher_id"); break;
        case "sequence": sequence = readU64(c, "$.sequence"); break;
        case "published_at": publishedAtMs = readU64(c, "$.published_at"); break;
        case "topic": {
          const t = c.byte();
          const l = c.strLength(t);
          if (l < 0) c.mismatch(t, "$.topic", "str");
          topic = c.strBody(l);
          break;
        }
        case "payload": {
          const t = c.byte();
          const l = c.binLength(t);
          if (l < 0) c.mismatch(t, "$.payload", "bin");
          c.need(l);
          payload = bytes.subarray(c.pos, c.pos + l);
          c.pos += l;
          break;
        }
        default:
          c.skipValue();
      }
    }
    if (c.pos !== c.end) return { ok: false, reason: "decode", detail: `${c.end - c.pos} trailing byte(s) after the envelope at byte ${c.pos}` };
  } catch (e) {
    if (e instanceof CodecFailure) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "decode", detail: `unexpected decoder error: ${String(e)}` };
  }
  const values = [publisherId, sequence, publishedAtMs, topic, payload];
  const missing = KEY_STRINGS.filter((_, i) => values[i] === undefined);
  if (missing.length > 0) return { ok: false, reason: "schema", detail: `$: missing ${missing.join(", ")}` };
  return { ok: true, value: { publisherId: publisherId!, sequence: sequence!, publishedAtMs: publishedAtMs!, topic: topic!, payload: payload! } };
}
