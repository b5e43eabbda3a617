import { test } from "node:test";
import assert from "node:assert/strict";
import {
  clampReplicas,
  combineAggVerdicts,
  slaVerdict,
  thresholdsFor,
  thresholdVerdict,
} from "../../src/planner/decision-rules.js";

test("planner - sla rule: up when every estimate is above the SLA, down when every one is under SLA x sensitivity", () => {
  assert.equal(slaVerdict([600, 700], 500, 80, 2, 1)?.desired, 3);
  assert.equal(slaVerdict([600, 400], 500, 80, 2, 1), null, "one engine under the SLA: no scale-up");
  assert.equal(slaVerdict([100, 399], 500, 80, 3, 1)?.desired, 2, "all under 400 ms");
  assert.equal(slaVerdict([100, 400], 500, 80, 3, 1), null, "400 is not under 500 x 0.8");
  assert.equal(slaVerdict([100], 500, 80, 1, 1), null, "n = 1 never scales down");
  assert.equal(slaVerdict([100, 100], 500, 80, 2, 2)?.desired, 2, "min_endpoint floors the step");
  assert.equal(slaVerdict([], 500, 80, 2, 1), null);
  assert.equal(slaVerdict([500], 500, 80, 1, 1), null, "equal to the SLA is not above it");
});

test("planner - agg combines TTFT and ITL: up if either, down only if both", () => {
  const v = (desired: number) => ({ desired, rule: "hold" as const });
  assert.deepEqual(combineAggVerdicts(v(4), null, 3), v(4));
  assert.deepEqual(combineAggVerdicts(null, v(4), 3), v(4));
  assert.deepEqual(combineAggVerdicts(v(2), v(4), 3), v(4));
  assert.equal(combineAggVerdicts(v(2), null, 3), null, "TTFT down, ITL hold: hold");
  assert.equal(combineAggVerdicts(v(2), v(2), 3)?.desired, 2);
});

test("planner - throughput and latency thresholds per component, with their inclusive edges", () => {
  const pt = thresholdsFor("prefill", "throughput");
  assert.equal(thresholdVerdict([1.0, 0], pt, 2, 1)?.desired, 3, "prefill throughput: >= 1.0 is up");
  assert.equal(thresholdVerdict([0.09, 0], pt, 2, 1)?.desired, 1, "all < 0.1: down");
  assert.equal(thresholdVerdict([0.1, 0], pt, 2, 1), null, "0.1 is not < 0.1");
  const pl = thresholdsFor("prefill", "latency");
  assert.equal(thresholdVerdict([0.1], pl, 1, 1)?.desired, 2, "prefill latency: >= 0.1 is up");
  assert.equal(thresholdVerdict([0, 0], pl, 2, 1)?.desired, 1, "prefill latency: <= 0 is down");
  assert.equal(thresholdVerdict([0.05, 0], pl, 2, 1), null);
  const dt = thresholdsFor("decode", "throughput");
  assert.equal(thresholdVerdict([1.0, 0.7], dt, 2, 1), null, "decode throughput: 1.0 is not > 1.0");
  assert.equal(thresholdVerdict([1.01], dt, 2, 1)?.desired, 3);
  assert.equal(thresholdVerdict([0.59, 0.1], dt, 2, 1)?.desired, 1);
  assert.equal(thresholdVerdict([0.59], dt, 1, 1), null, "n = 1 never scales down");
  const al = thresholdsFor("agg", "latency");
  assert.equal(thresholdVerdict([0.41], al, 1, 1)?.desired, 2);
  assert.equal(thresholdVerdict([0.4], al, 1, 1), null);
  assert.equal(thresholdVerdict([0.09, 0.0], al, 3, 1)?.desired, 2);
  assert.equal(thresholdVerdict([0.1, 0.0], al, 3, 1), null);
});

test("planner - rules name themselves in their verdicts", () => {
  assert.equal(slaVerdict([600], 500, 80, 1, 1)?.rule, "sla_every_engine_above");
  assert.equal(slaVerdict([100, 100], 500, 80, 2, 1)?.rule, "sla_every_engine_under_sensitivity");
  const dt = thresholdsFor("decode", "throughput");
  assert.equal(thresholdVerdict([1.01], dt, 2, 1)?.rule, "threshold_any_engine_above");
  assert.equal(thresholdVerdict([0.1], dt, 2, 1)?.rule, "threshold_every_engine_under");
});

test("planner - load target thresholds come from the config and compare inclusively", () => {
  const c = {
    prefillScaleUpQueueTokens: 4000,
    prefillScaleDownQueueTokens: 500,
    decodeScaleUpKvRate: 80,
    decodeScaleDownKvRate: 20,
  };
  const p = thresholdsFor("prefill", "load", c);
  assert.equal(thresholdVerdict([4000, 0], p, 2, 1)?.desired, 3, "4000 queued tokens >= 4000: up");
  assert.equal(thresholdVerdict([500, 500], p, 2, 1)?.desired, 1, "500 <= 500 on every engine: down");
  assert.equal(thresholdVerdict([501, 0], p, 2, 1), null);
  const d = thresholdsFor("decode", "load", c);
  assert.equal(thresholdVerdict([0.8], d, 1, 1)?.desired, 2, "80% KV >= 80%: up");
  assert.equal(thresholdVerdict([0.2, 0.2], d, 2, 1)?.desired, 1, "20% <= 20%: down");
});

test("planner - clamp to min_endpoint and to the GPU budget", () => {
  assert.deepEqual(clampReplicas(0, 1, 8, 1), { desired: 1, budgetCapped: false });
  assert.deepEqual(clampReplicas(5, 1, 8, 2), { desired: 4, budgetCapped: true }, "4 x 2 GPUs = 8");
  assert.deepEqual(clampReplicas(4, 1, 8, 2), { desired: 4, budgetCapped: false });
  assert.deepEqual(clampReplicas(40, 1, -1, 2), { desired: 40, budgetCapped: false }, "-1: no ceiling");
});
