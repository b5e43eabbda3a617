import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import {
  type ForwardPassMetrics,
  defaultForwardPassMetrics,
  FPM_TOPIC,
} from "../../src/schema/forward-pass-metrics.js";
import { RateArrivals } from "../../src/sim/arrivals.js";
import { SimulatedDeployment } from "../../src/sim/deployment.js";
import { arrivalsFromRecording } from "../../src/sim/recording-arrivals.js";
import { recordLine } from "../../src/recording/stream-recording.js";

const SUBJECT = "namespace.dynamo.component.backend.forward-pass-metrics";
let sequence = 0;

function line(fpm: ForwardPassMetrics, atS: number): string {
  const env = encodeEnvelope({
    publisherId: 7n,
    sequence: BigInt(++sequence),
    publishedAtMs: BigInt(Math.round(atS * 1000)),
    topic: FPM_TOPIC,
    payload: encodeFpm(fpm),
  });
  return recordLine(SUBJECT, env, 1_700_000_000_000 + atS * 1000);
}

function fpm(
  counterId: number,
  wallTimeS: number,
  set: (f: ForwardPassMetrics) => void = () => {},
): ForwardPassMetrics {
  const f = defaultForwardPassMetrics();
  f.workerId = "w0";
  f.counterId = counterId;
  f.wallTimeS = wallTimeS;
  set(f);
  return f;
}

test("sim - arrivals from a hand-made recording: queue growth plus admissions, at the start of an idle engine's step", () => {
  const lines = [
    line(fpm(0, 0), 0), // idle heartbeat
    // Starts at 1.000 on an idle engine: prefills two prompts (100 + 200), one more waits (150 tokens).
    line(
      fpm(1, 0.01, (f) => {
        Object.assign(f.scheduledRequests, { numPrefillRequests: 2, sumPrefillTokens: 300, varPrefillLength: 2500 });
        Object.assign(f.queuedRequests, { numPrefillRequests: 1, sumPrefillTokens: 150 });
      }),
      1.01,
    ),
    // Back to back: admits the waiting one and decodes the first two; nothing new arrived.
    line(
      fpm(2, 0.02, (f) => {
        Object.assign(f.scheduledRequests, { numPrefillRequests: 1, sumPrefillTokens: 150, numDecodeRequests: 2 });
      }),
      1.03,
    ),
    "not json",
  ];
  const r = arrivalsFromRecording(lines);
  assert.deepEqual(
    r.arrivals.map((a) => a.atS),
    [1, 1, 1],
  );
  // Mean prompt (300 + 150) / 3, spread by the mean variance; 1 + 2 decode steps over 3 requests.
  for (const a of r.arrivals) {
    assert.ok(Math.abs(a.inputTokens - 150) <= Math.sqrt(3 * 1250) + 1, `prompt ${a.inputTokens}`);
    assert.equal(a.outputTokens, 2);
  }
  assert.deepEqual(r.problems, [{ line: 4, reason: "not JSON" }]);
  assert.equal(r.workersAtStart, 1);
  assert.equal(r.dpRanks, 1);
  assert.equal(r.messages, 3);
});

test("sim - arrivals reconstructed from a simulated deployment's recording match the real ones", () => {
  const lines: string[] = [];
  const real: number[] = [];
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({
      shape: { kind: "ramp", fromRate: 5, toRate: 30, startS: 0, durationS: 60 },
      poisson: true,
      seed: 3,
      endS: 60,
    }),
    workers: 2,
    dpRanks: 2,
    heartbeatIntervalS: 1,
    onForwardPass: (e) => lines.push(line(e.fpm, e.atS)),
    onRequestFinished: (r) => real.push(r.arrivalS),
  });
  const prompts: number[] = [];
  const outputs: number[] = [];
  const src = new RateArrivals({
    shape: { kind: "ramp", fromRate: 5, toRate: 30, startS: 0, durationS: 60 },
    poisson: true,
    seed: 3,
    endS: 60,
  });
  for (let a = src.next(); a; a = src.next()) {
    prompts.push(a.inputTokens);
    outputs.push(a.outputTokens);
  }
  d.advanceTo(90);
  const r = arrivalsFromRecording(lines);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(r.arrivals.length - real.length) <= 0.03 * real.length, `${r.arrivals.length} vs ${real.length}`);
  assert.ok(Math.abs(mean(r.arrivals.map((a) => a.inputTokens)) / mean(prompts) - 1) < 0.1, "mean prompt");
  assert.ok(Math.abs(mean(r.arrivals.map((a) => a.outputTokens)) / mean(outputs) - 1) < 0.1, "mean output");
  // The ramp's shape survives: arrivals per 20 s window within 10% of the real ones.
  const t0 = Math.min(...lines.map((l) => JSON.parse(l).received_at)) / 1000 - 1_700_000_000;
  for (const [from, to] of [
    [0, 20],
    [20, 40],
    [40, 60],
  ]) {
    const want = real.filter((t) => t >= from && t < to).length;
    const got = r.arrivals.filter((a) => a.atS + t0 >= from && a.atS + t0 < to).length;
    assert.ok(Math.abs(got - want) <= 0.1 * want, `[${from}, ${to}): ${got} vs ${want}`);
  }
  assert.equal(r.workersAtStart, 2);
  assert.equal(r.dpRanks, 2);
});
