import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, encodeEnvelope } from "../../src/codec/envelope.js";
import { RankEnvelopeWriter } from "../../src/relay/envelope-writer.js";

test("relay - the envelope writer produces the codec's bytes at every integer and bin width", () => {
  const ids = [0n, 1n, 127n, 128n, 0xffffffffn, 0x100000000n, (1n << 53n) - 1n, (1n << 64n) - 1n];
  const ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER];
  const payloads = [0, 1, 31, 255, 256, 65535, 65536, 70000].map((n) =>
    Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff),
  );
  for (const id of ids) {
    const w = new RankEnvelopeWriter(id, "forward-pass-metrics");
    for (const seq of ints) {
      for (const at of [0, 200, 1_763_000_000_000, ...ints.slice(-2)]) {
        for (const payload of [payloads[2], payloads[4]]) {
          const want = encodeEnvelope({
            publisherId: id,
            sequence: BigInt(seq),
            publishedAtMs: BigInt(at),
            topic: "forward-pass-metrics",
            payload,
          });
          assert.deepEqual(Buffer.from(w.write(seq, at, payload)), Buffer.from(want), `id ${id} seq ${seq} at ${at}`);
        }
      }
    }
    for (const payload of payloads) {
      const got = w.write(5, 1_763_000_000_000, payload);
      assert.deepEqual(
        Buffer.from(got),
        Buffer.from(
          encodeEnvelope({
            publisherId: id,
            sequence: 5n,
            publishedAtMs: 1_763_000_000_000n,
            topic: "forward-pass-metrics",
            payload,
          }),
        ),
      );
      const d = decodeEnvelope(got);
      assert.ok(d.ok);
      assert.deepEqual(Buffer.from(d.value.payload), Buffer.from(payload));
    }
  }
});
