import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEnvelope, decodeFpm, encodeEnvelope, encodeFpm, toWireObject } from "../../src/index.js";
import { encodeFpmTransient } from "../../src/codec/fpm-encode.js";
import { envelopeVectors, fpmVectors } from "../harness/vectors.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

for (const v of fpmVectors()) {
  test(`codec - vector ${v.name}: ${v.valid ? "decodes to its values and re-encodes canonically" : `rejected as ${v.reject_reason}`}`, () => {
    const r = decodeFpm(Buffer.from(v.hex, "hex"));
    if (!v.valid) {
      assert.equal(r.ok, false, `expected a rejection for ${v.name}`);
      if (!r.ok) {
        assert.equal(r.reason, v.reject_reason);
        assert.ok(r.detail.length > 0, "a rejection carries a detail");
      }
      return;
    }
    assert.ok(r.ok, r.ok ? "" : `${r.reason}: ${r.detail}`);
    assert.deepEqual(toWireObject(r.value), v.decoded);
    assert.equal(hex(encodeFpm(r.value)), v.canonical_hex);
    assert.equal(hex(encodeFpmTransient(r.value)), v.canonical_hex, "the copy-free encode writes the same bytes");
  });
}

for (const v of envelopeVectors()) {
  test(`codec - envelope vector ${v.name}`, () => {
    const r = decodeEnvelope(Buffer.from(v.hex, "hex"));
    if (!v.valid) {
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, v.reject_reason);
      return;
    }
    assert.ok(r.ok, r.ok ? "" : `${r.reason}: ${r.detail}`);
    const d = v.decoded!;
    assert.equal(r.value.publisherId, BigInt(d.publisher_id), "publisher_id exact, even above 2^53");
    assert.equal(r.value.sequence, BigInt(d.sequence));
    assert.equal(r.value.publishedAtMs, BigInt(d.published_at));
    assert.equal(r.value.topic, d.topic);
    assert.equal(hex(r.value.payload), d.payload_hex);
    assert.equal(hex(encodeEnvelope(r.value)), v.hex, "re-encodes byte for byte");
  });
}
