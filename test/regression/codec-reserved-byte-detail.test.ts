/**
 * Regression: a payload starting with the reserved byte 0xc1 was reported as
 * "decode: $: expected map, got reserved", which reads like a type mismatch. It is
 * malformed msgpack, and the detail now says so and gives the offset.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEnvelope, decodeFpm } from "../../src/index.js";

test("regression - 0xc1 is reported as a reserved byte with its offset, in payloads and envelopes", () => {
  const top = decodeFpm(new Uint8Array([0xc1]));
  assert.deepEqual(top, { ok: false, reason: "decode", detail: "reserved msgpack byte 0xc1 at byte 0" });
  const nested = decodeFpm(new Uint8Array([0x81, 0xa7, ...Buffer.from("dp_rank"), 0xc1]));
  assert.deepEqual(nested, { ok: false, reason: "decode", detail: "reserved msgpack byte 0xc1 at byte 9" });
  const env = decodeEnvelope(new Uint8Array([0xc1]));
  assert.deepEqual(env, { ok: false, reason: "decode", detail: "reserved msgpack byte 0xc1 at byte 0" });
});
