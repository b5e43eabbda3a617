import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArrivalsNdjson } from "../../src/sim/arrival-file.js";
import { type Arrival, RateArrivals } from "../../src/sim/arrivals.js";
import { CostModel } from "../../src/sim/cost-model.js";
import { rateAt } from "../../src/sim/load-shape.js";
import { SeededRandom } from "../../src/sim/prng.js";
import { RunningVariance } from "../../src/sim/welford.js";

function take(src: { next(): Arrival | null }, max = 100_000): Arrival[] {
  const out: Arrival[] = [];
  for (let a = src.next(); a && out.length < max; a = src.next()) out.push(a);
  return out;
}

test("sim - constant arrivals are evenly spaced from time 0", () => {
  const got = take(new RateArrivals({ shape: { kind: "constant", rate: 2 }, endS: 2 }));
  assert.deepEqual(
    got.map((a) => a.atS),
    [0, 0.5, 1, 1.5],
  );
});

test("sim - a step from 0 to 10 req/s starts at the step and stops at its end", () => {
  const got = take(new RateArrivals({ shape: { kind: "step", baseRate: 0, stepRate: 10, atS: 1, untilS: 2 } }));
  assert.equal(got.length, 10);
  assert.equal(got[0].atS, 1);
  assert.ok(got.every((a) => a.atS >= 1 && a.atS < 2));
});

test("sim - a step with a base rate returns to it", () => {
  const got = take(new RateArrivals({ shape: { kind: "step", baseRate: 1, stepRate: 4, atS: 2, untilS: 3 }, endS: 5 }));
  assert.deepEqual(
    got.map((a) => +a.atS.toFixed(6)),
    [0, 1, 2, 2.25, 2.5, 2.75, 3, 4],
  );
});

test("sim - a ramp interpolates the rate linearly", () => {
  const shape = { kind: "ramp" as const, fromRate: 0, toRate: 10, startS: 5, durationS: 10 };
  assert.equal(rateAt(shape, 0), 0);
  assert.equal(rateAt(shape, 10), 5);
  assert.equal(rateAt(shape, 20), 10);
  const got = take(new RateArrivals({ shape, endS: 15 }));
  // Integral of the rate over [5, 15] is 50; even spacing at the local rate lands close to it.
  assert.ok(got.length > 35 && got.length < 60, `got ${got.length}`);
  assert.ok(got[0].atS >= 5);
});

test("sim - Poisson arrivals are repeatable for a seed and have the right mean rate", () => {
  const a = take(new RateArrivals({ shape: { kind: "constant", rate: 50 }, poisson: true, seed: 7, endS: 200 }));
  const b = take(new RateArrivals({ shape: { kind: "constant", rate: 50 }, poisson: true, seed: 7, endS: 200 }));
  assert.deepEqual(a, b);
  assert.ok(Math.abs(a.length / 200 - 50) < 2.5, `rate ${a.length / 200}`);
  const c = take(new RateArrivals({ shape: { kind: "constant", rate: 50 }, poisson: true, seed: 8, endS: 200 }));
  assert.notDeepEqual(a.slice(0, 5), c.slice(0, 5));
});

test("sim - request lengths stay within their ranges", () => {
  const got = take(
    new RateArrivals({
      shape: { kind: "constant", rate: 100 },
      lengths: { inputMin: 10, inputMax: 20, outputMin: 1, outputMax: 3 },
      endS: 10,
    }),
  );
  assert.ok(got.every((a) => a.inputTokens >= 10 && a.inputTokens <= 20 && a.outputTokens >= 1 && a.outputTokens <= 3));
  assert.ok(new Set(got.map((a) => a.inputTokens)).size > 5);
});

test("sim - an arrivals file is parsed and each malformed line is reported with its number", () => {
  const text = [
    '{"t": 0, "input_tokens": 100, "output_tokens": 10}',
    "not json",
    '{"t": 0.5, "input_tokens": 0, "output_tokens": 10}',
    "",
    '{"t": 1.0, "input_tokens": 50, "output_tokens": 5, "cached_tokens": 20}',
    '{"t": 0.2, "input_tokens": 50, "output_tokens": 5}',
    "[1,2]",
  ].join("\n");
  const { arrivals, problems } = parseArrivalsNdjson(text);
  assert.deepEqual(arrivals, [
    { atS: 0, inputTokens: 100, outputTokens: 10, cachedTokens: 0 },
    { atS: 1, inputTokens: 50, outputTokens: 5, cachedTokens: 20 },
  ]);
  assert.deepEqual(
    problems.map((p) => p.line),
    [2, 3, 6, 7],
  );
  assert.match(problems[1].reason, /input_tokens/);
  assert.match(problems[2].reason, /back in time/);
});

test("sim - cost model is exact without noise and seeded with it", () => {
  const m = new CostModel({ a: 0.01, b: 1e-4, c: 1e-6, noise: 0 });
  assert.equal(m.wallTime(1000, 20000), 0.01 + 0.1 + 0.02);
  const n1 = new CostModel({ noise: 0.1, seed: 3 });
  const n2 = new CostModel({ noise: 0.1, seed: 3 });
  const xs = Array.from({ length: 5 }, () => n1.wallTime(100, 100));
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => n2.wallTime(100, 100)),
  );
  assert.ok(xs.every((x) => x > 0));
  assert.throws(() => new CostModel({ a: -1 }), /a must be/);
});

test("sim - Welford population variance matches the two-pass formula", () => {
  const rng = new SeededRandom(5);
  const xs = Array.from({ length: 1000 }, () => rng.int(1, 4000));
  const v = new RunningVariance();
  for (const x of xs) v.add(x);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const twoPass = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(v.variance() - twoPass) / twoPass < 1e-9);
  assert.equal(new RunningVariance().variance(), 0);
});
