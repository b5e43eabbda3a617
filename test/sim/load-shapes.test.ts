import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArrivalSpec } from "../../src/sim/arrival-spec.js";
import { type Arrival, DEFAULT_REQUEST_LENGTHS, RateArrivals } from "../../src/sim/arrivals.js";
import { CostModel } from "../../src/sim/cost-model.js";
import { type LoadShape, cumulativeArrivals, loadShapeProblem, rateAt } from "../../src/sim/load-shape.js";
import { ConfigError } from "../../src/util/errors.js";

function take(src: { next(): Arrival | null }): Arrival[] {
  const out: Arrival[] = [];
  for (let a = src.next(); a; a = src.next()) out.push(a);
  return out;
}

/** The rate's integral by the midpoint rule, to check the closed forms. */
function numericIntegral(shape: LoadShape, tS: number, steps = 200_000): number {
  const h = tS / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += rateAt(shape, (i + 0.5) * h) * h;
  return sum;
}

const sine: LoadShape = { kind: "sine", minRate: 10, maxRate: 130, periodS: 600, phaseS: 0 };
const burst: LoadShape = { kind: "burst", baseRate: 10, burstRate: 120, everyS: 120, lengthS: 30, startS: 60 };

test("sim - a sinusoid starts at its minimum and peaks half a period later", () => {
  assert.equal(rateAt(sine, 0), 10);
  assert.ok(Math.abs(rateAt(sine, 300) - 130) < 1e-9);
  assert.ok(Math.abs(rateAt(sine, 150) - 70) < 1e-9);
  assert.ok(Math.abs(rateAt(sine, 600) - 10) < 1e-9);
});

test("sim - periodic bursts: the peak rate for LENGTH seconds every EVERY seconds from START", () => {
  assert.equal(rateAt(burst, 59.9), 10);
  assert.equal(rateAt(burst, 60), 120);
  assert.equal(rateAt(burst, 89.9), 120);
  assert.equal(rateAt(burst, 90), 10);
  assert.equal(rateAt(burst, 180), 120);
  assert.equal(rateAt(burst, 215), 10);
});

test("sim - the closed-form integrals of sine and burst match the numeric and hand-worked ones", () => {
  for (const shape of [sine, { ...sine, phaseS: 123 } as LoadShape])
    for (const t of [0, 45, 299, 777, 1234]) {
      const want = numericIntegral(shape, t);
      assert.ok(Math.abs(cumulativeArrivals(shape, t) - want) < 0.01, `${shape.kind} at ${t}`);
    }
  // 1234 s: 10 req/s throughout, plus 110 more in 9 whole bursts and one more whole one (94 s into it).
  assert.equal(cumulativeArrivals(burst, 1234), 12340 + 110 * 300);
  assert.equal(cumulativeArrivals(burst, 75), 750 + 110 * 15);
  assert.equal(cumulativeArrivals(burst, 60), 600);
});

test("sim - evenly spaced arrivals follow the sinusoid and the bursts", () => {
  const got = take(new RateArrivals({ shape: sine, endS: 600 }));
  assert.ok(Math.abs(got.length - cumulativeArrivals(sine, 600)) <= 1, `got ${got.length}`);
  const firstHalf = got.filter((a) => a.atS < 150).length;
  const middle = got.filter((a) => a.atS >= 225 && a.atS < 375).length;
  assert.ok(middle > 3 * firstHalf, `${middle} around the peak vs ${firstHalf} near the trough`);
  const b = take(new RateArrivals({ shape: burst, endS: 300 }));
  assert.equal(b.filter((a) => a.atS >= 60 && a.atS < 90).length, 30 * 120, "30 s at 120 req/s");
});

test("sim - the arrivals grammar takes sine and burst forms and rejects extra fields", () => {
  const opts = { lengths: DEFAULT_REQUEST_LENGTHS, seed: 1, poisson: true };
  assert.deepEqual(parseArrivalSpec("sine:10:130:7200", opts).shape, {
    kind: "sine",
    minRate: 10,
    maxRate: 130,
    periodS: 7200,
    phaseS: 0,
  });
  assert.deepEqual(parseArrivalSpec("burst:10:120:120:30:60", opts).shape, burst);
  assert.throws(() => parseArrivalSpec("sine:10:130:0", opts), /periodS must be > 0/);
  assert.throws(() => parseArrivalSpec("burst:10:120:20:30", opts), /lengthS must be > 0 and at most everyS/);
  assert.throws(() => parseArrivalSpec("step:1:2:3:4:5", opts), ConfigError);
  assert.equal(loadShapeProblem(sine), null);
});

test("sim - the cost model's per-decoding-request term defaults to 0", () => {
  const old = new CostModel({ a: 0.01, b: 1e-4, c: 1e-6, noise: 0 });
  assert.equal(old.wallTime(1000, 20000, 64), 0.01 + 0.1 + 0.02);
  const m = new CostModel({ a: 0.01, b: 1e-4, c: 1e-6, d: 1e-5, noise: 0 });
  assert.equal(m.expected(0, 20000, 64), 0.01 + 0.02 + 64e-5);
  assert.throws(() => new CostModel({ d: -1 }), /d must be/);
});
