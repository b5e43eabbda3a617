/**
 * The codec's canonical fast path must never disagree with the general decoder: on every
 * golden vector and on many mutated messages, it either declines (null, the general
 * decoder decides) or returns exactly what the general decoder returns.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelopeGeneral, encodeEnvelope } from "../../src/codec/envelope.js";
import { decodeFpmGeneral } from "../../src/codec/fpm-decode.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { SeededRandom } from "../../src/sim/prng.js";
import { decodeCanonicalEnvelope, decodeCanonicalFpm } from "../../src/codec/canonical-fast-path.js";
import { envelopeVectors, fpmVectors } from "../harness/vectors.js";
import { fpm } from "../planner/fpm-fixture.js";

function agreesFpm(bytes: Uint8Array, what: string): boolean {
  const fast = decodeCanonicalFpm(bytes);
  if (fast === null) return false;
  const ref = decodeFpmGeneral(bytes);
  assert.ok(ref.ok, `${what}: fast path accepted what the codec rejects (${ref.ok ? "" : ref.reason})`);
  assert.deepEqual(fast, ref.value, what);
  return true;
}

function agreesEnvelope(bytes: Uint8Array, what: string): boolean {
  const fast = decodeCanonicalEnvelope(bytes);
  if (fast === null) return false;
  const ref = decodeEnvelopeGeneral(bytes);
  assert.ok(ref.ok, `${what}: fast path accepted what the codec rejects`);
  assert.equal(ref.value.topic, FPM_TOPIC, what);
  assert.equal(fast.publisherId, ref.value.publisherId, what);
  assert.equal(fast.sequence, ref.value.sequence, what);
  assert.equal(fast.publishedAtMs, ref.value.publishedAtMs, what);
  assert.deepEqual(Buffer.from(fast.payload), Buffer.from(ref.value.payload), what);
  return true;
}

test("codec - the canonical fast path agrees with the general decoder on every golden vector", () => {
  let taken = 0;
  for (const v of fpmVectors()) {
    if (agreesFpm(Buffer.from(v.hex, "hex"), `fpm vector ${v.name}`)) taken++;
    if (v.canonical_hex && agreesFpm(Buffer.from(v.canonical_hex, "hex"), `fpm vector ${v.name} (canonical)`)) taken++;
  }
  assert.ok(taken > 0, "the fast path takes canonical vectors");
  for (const v of envelopeVectors()) agreesEnvelope(Buffer.from(v.hex, "hex"), `envelope vector ${v.name}`);
});

test("codec - the canonical fast path agrees with the general decoder on 20,000 mutated messages", () => {
  const rng = new SeededRandom(42);
  let taken = 0;
  for (let i = 0; i < 20_000; i++) {
    const big = rng.next() < 0.1;
    const payload = encodeFpm(
      fpm({
        workerId: rng.next() < 0.05 ? "wörker" : `w${rng.int(0, 1e6)}`,
        dpRank: rng.int(0, big ? 2 ** 40 : 300),
        counterId: rng.int(0, big ? 2 ** 52 : 70_000),
        wallTimeS: rng.next() < 0.1 ? 0 : rng.next(),
        scheduled: {
          sumPrefillTokens: rng.int(0, 70_000),
          numDecodeRequests: rng.int(0, 300),
          varDecodeKvTokens: rng.next() * 1e6,
        },
        queued: { sumDecodeKvTokens: rng.int(0, 2 ** 33) },
      }),
    );
    const bytes = Uint8Array.from(payload);
    const flips = rng.int(0, 2);
    for (let f = 0; f < flips; f++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    const cut = rng.next() < 0.05 ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes;
    if (agreesFpm(cut, `mutated payload ${i}`)) taken++;
    const env = Uint8Array.from(
      encodeEnvelope({
        publisherId: BigInt(rng.int(0, 2 ** 31)) * (big ? 2n ** 30n : 1n),
        sequence: BigInt(rng.int(0, 1e9)),
        publishedAtMs: 1_700_000_000_000n,
        topic: rng.next() < 0.05 ? "kv-events" : FPM_TOPIC,
        payload,
      }),
    );
    if (rng.next() < 0.5) env[rng.int(0, env.length - 1)] = rng.int(0, 255);
    agreesEnvelope(env, `mutated envelope ${i}`);
  }
  assert.ok(taken > 5000, `fast path taken ${taken} times`);
});
