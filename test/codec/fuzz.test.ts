/**
 * Fuzz: 100,000+ random and mutated payloads (bit flips, truncations, splices of valid
 * vectors, random bytes) through decodeFpm and decodeEnvelope. None may throw; each gives a
 * value or a known reason; an accepted payload re-encodes to bytes that decode to the same value.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FPM_REJECT_REASONS, decodeEnvelope, decodeFpm, encodeEnvelope, encodeFpm } from "../../src/index.js";
import { SeededRandom } from "../../src/sim/prng.js";
import { envelopeVectors, fpmVectors } from "../harness/vectors.js";

const SEED = Number(process.env.FPM_FUZZ_SEED ?? 20261122);
const ITERATIONS = Number(process.env.FPM_FUZZ_ITERATIONS ?? 100_000);

function mutate(rng: SeededRandom, seeds: Uint8Array[]): Uint8Array {
  const base = seeds[rng.int(0, seeds.length - 1)];
  const op = rng.int(0, 5);
  switch (op) {
    case 0: {
      // bit flips
      const out = Uint8Array.from(base);
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips && out.length > 0; i++) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      return out;
    }
    case 1: // truncation
      return base.subarray(0, rng.int(0, Math.max(0, base.length - 1)));
    case 2: {
      // splice two seeds at random points
      const other = seeds[rng.int(0, seeds.length - 1)];
      const a = rng.int(0, base.length),
        b = rng.int(0, other.length);
      return Uint8Array.from([...base.subarray(0, a), ...other.subarray(b)]);
    }
    case 3: {
      // overwrite a byte with a msgpack type tag
      const out = Uint8Array.from(base);
      const tags = [0xc0, 0xc1, 0xc2, 0xca, 0xcb, 0xcf, 0xd3, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0x90, 0x80, 0xa0, 0xff];
      if (out.length > 0) out[rng.int(0, out.length - 1)] = tags[rng.int(0, tags.length - 1)];
      return out;
    }
    case 4: {
      // random bytes
      const out = new Uint8Array(rng.int(0, 64));
      for (let i = 0; i < out.length; i++) out[i] = rng.int(0, 255);
      return out;
    }
    default: {
      // insert or delete a run
      const at = rng.int(0, base.length);
      if (rng.next() < 0.5)
        return Uint8Array.from([...base.subarray(0, at), ...base.subarray(Math.min(base.length, at + rng.int(1, 8)))]);
      const junk = Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 255));
      return Uint8Array.from([...base.subarray(0, at), ...junk, ...base.subarray(at)]);
    }
  }
}

test(`codec - fuzz: ${ITERATIONS} mutated payloads never throw and always give a value or a known reason (seed ${SEED})`, () => {
  const rng = new SeededRandom(SEED);
  const seeds = fpmVectors().map((v) => Buffer.from(v.hex, "hex"));
  const outcomes = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const bytes = mutate(rng, seeds);
    let r: ReturnType<typeof decodeFpm>;
    try {
      r = decodeFpm(bytes);
    } catch (err) {
      assert.fail(`decodeFpm threw on ${Buffer.from(bytes).toString("hex")}: ${err}`);
    }
    const key = r.ok ? "ok" : r.reason;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (r.ok) {
      const again = decodeFpm(encodeFpm(r.value));
      assert.ok(again.ok, `re-encoded accepted payload is rejected: ${Buffer.from(bytes).toString("hex")}`);
      assert.deepEqual(again.value, r.value);
    } else {
      assert.ok(FPM_REJECT_REASONS.includes(r.reason), `unknown reason ${r.reason}`);
      assert.equal(typeof r.detail, "string");
    }
  }
  // The mutations must reach every verdict, or the fuzzer is not exploring.
  for (const k of ["ok", "decode", "schema", "unsupported_version"])
    assert.ok((outcomes.get(k) ?? 0) > 0, `no ${k} outcome in ${JSON.stringify([...outcomes])}`);
});

test(`codec - fuzz: ${ITERATIONS} mutated envelopes never throw`, () => {
  const rng = new SeededRandom(SEED + 1);
  const seeds = envelopeVectors().map((v) => Buffer.from(v.hex, "hex"));
  let accepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const bytes = mutate(rng, seeds);
    let r: ReturnType<typeof decodeEnvelope>;
    try {
      r = decodeEnvelope(bytes);
    } catch (err) {
      assert.fail(`decodeEnvelope threw on ${Buffer.from(bytes).toString("hex")}: ${err}`);
    }
    if (r.ok) {
      accepted++;
      const again = decodeEnvelope(encodeEnvelope(r.value));
      assert.ok(again.ok);
      assert.equal(again.value.publisherId, r.value.publisherId);
      assert.deepEqual(Buffer.from(again.value.payload), Buffer.from(r.value.payload));
    } else assert.ok(r.reason === "decode" || r.reason === "schema");
  }
  assert.ok(accepted > 0, "some mutations stay valid envelopes");
});
