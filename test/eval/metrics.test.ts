import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunTrace, ScaleAction } from "../../src/eval/closed-loop.js";
import { stepIntegral, stepValueAt } from "../../src/eval/closed-loop.js";
import {
  computeRow,
  costVsOracle,
  countFlaps,
  p95TtftSeries,
  percentileOfSorted,
  reactionTime,
  underProvisionedSeconds,
} from "../../src/eval/metrics.js";

const action = (tS: number, from: number, to: number): ScaleAction => ({ tS, from, to, reason: "test" });

test("eval - nearest-rank percentiles", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentileOfSorted(xs, 50), 50);
  assert.equal(percentileOfSorted(xs, 95), 95);
  assert.equal(percentileOfSorted(xs, 99), 99);
  assert.equal(percentileOfSorted([7], 99), 7);
  assert.equal(percentileOfSorted([10, 20, 30, 40], 50), 20);
  assert.equal(percentileOfSorted([], 50), null);
});

test("eval - a flap is a reversal of direction within the window of the previous action", () => {
  // up, down 10 s later (flap), up 20 s after that (not within 15 s), up again (same direction).
  const actions = [action(0, 2, 3), action(10, 3, 2), action(30, 2, 4), action(35, 4, 5)];
  assert.equal(countFlaps(actions, 15), 1);
  assert.equal(countFlaps(actions, 20), 2);
  // The demo's 4->3->2->3->2 in 5 s ticks: two reversals.
  assert.equal(countFlaps([action(0, 4, 3), action(5, 3, 2), action(10, 2, 3), action(15, 3, 2)], 15), 2);
  assert.equal(countFlaps([], 15), 0);
});

test("eval - step series: value at a time and integral", () => {
  const s = { times: [0, 10, 25], values: [1, 3, 2] };
  assert.equal(stepValueAt(s, 0), 1);
  assert.equal(stepValueAt(s, 9.99), 1);
  assert.equal(stepValueAt(s, 10), 3);
  assert.equal(stepValueAt(s, 100), 2);
  assert.equal(stepValueAt({ times: [5], values: [4] }, 1), 0);
  assert.equal(stepIntegral(s, 30), 10 * 1 + 15 * 3 + 5 * 2);
  assert.equal(stepIntegral(s, 5), 5);
});

test("eval - under-provisioned seconds: ready below the need at each second's midpoint", () => {
  const ready = { times: [0, 10], values: [1, 3] };
  const need = (t: number) => (t < 5 ? 1 : 3);
  assert.equal(underProvisionedSeconds(ready, need, 20), 5);
  assert.equal(
    underProvisionedSeconds(ready, () => 1, 20),
    0,
  );
  assert.equal(
    underProvisionedSeconds({ times: [0], values: [2] }, () => 4, 7.5),
    7,
  );
});

test("eval - reaction time: from the start of the largest rise to ready reaching its level", () => {
  // The need steps 1 -> 3 at 60 s; ready goes 1 -> 2 at 95 s and 3 at 110 s.
  const need = (t: number) => (t >= 60 ? 3 : 1);
  const ready = { times: [0, 95, 110], values: [1, 2, 3] };
  assert.equal(reactionTime(ready, need, 200, 20), 50);
  // Ready ahead of the rise (the oracle): 0.
  assert.equal(reactionTime({ times: [0, 40], values: [1, 3] }, need, 200, 20), 0);
  // Never reached, or no rise at all: null.
  assert.equal(reactionTime({ times: [0], values: [2] }, need, 200, 20), null);
  assert.equal(
    reactionTime(ready, () => 2, 200, 20),
    null,
  );
  // Of two rises, the larger: 1 -> 2 at 30 s, 2 -> 5 at 100 s; ready reaches 5 at 130 s.
  const twoSteps = (t: number) => (t >= 100 ? 5 : t >= 30 ? 2 : 1);
  assert.equal(reactionTime({ times: [0, 120, 130], values: [2, 4, 5] }, twoSteps, 200, 20), 30);
});

function tinyTrace(): RunTrace {
  return {
    durationS: 20,
    // TTFT 50 ms ok / 200 ms late / 80 ms ok / 90 ms ok; ITL 20 ok / 20 ok / 60 late / none (one token)
    arrivalS: [1, 2, 12, 13],
    ttftS: [0.05, 0.2, 0.08, 0.09],
    itlS: [0.02, 0.02, 0.06, Number.NaN],
    latencyS: [1, 1, 1, 0.1],
    arrived: 6,
    rejected: 1,
    restarted: 2,
    unfinished: 1,
    ready: { times: [0, 10], values: [1, 2] },
    provisioned: { times: [0, 5, 10], values: [1, 2, 2] },
    actions: [action(5, 1, 2)],
    replicaSeconds: 5 * 1 + 15 * 2,
    controllerSummary: {},
  };
}

test("eval - attainment, percentiles and counts of a hand-worked trace", () => {
  const row = computeRow("tiny", "hand", tinyTrace(), {
    ttftMs: 100,
    itlMs: 50,
    need: (t) => (t < 5 ? 1 : 2),
    flapWindowS: 15,
    riseWindowS: 5,
  });
  assert.equal(row.requests, 6);
  assert.equal(row.requests_finished, 4);
  assert.equal(row.ttft_within_sla, 0.75);
  assert.equal(row.itl_within_sla, 0.75, "a one-token output has no ITL and meets it");
  assert.equal(row.both_within_sla, 0.5);
  assert.equal(row.ttft_p50_ms, 80);
  assert.equal(row.ttft_p95_ms, 200);
  assert.equal(row.itl_p50_ms, 20);
  assert.equal(row.itl_p99_ms, 60);
  assert.equal(row.replica_seconds, 35);
  assert.equal(row.under_provisioned_s, 5, "need 2 from 5 s, ready 2 from 10 s");
  assert.equal(row.reaction_time_s, 5);
  assert.equal(row.scale_actions, 1);
  assert.equal(row.flaps, 0);
  assert.deepEqual(
    [row.requests_restarted, row.requests_rejected, row.requests_unfinished, row.cost_vs_oracle],
    [2, 1, 1, null],
  );
});

test("eval - cost against the oracle and the p95 TTFT windows", () => {
  assert.equal(costVsOracle(35, 28), 1.25);
  assert.equal(costVsOracle(10, 0), null);
  assert.deepEqual(p95TtftSeries(tinyTrace(), 10), [200, 90]);
  assert.deepEqual(p95TtftSeries({ ...tinyTrace(), arrivalS: [1, 2, 3, 4] }, 10), [200, null]);
});
