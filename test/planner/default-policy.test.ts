import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type DefaultDecisionInput,
  decideDefault,
  limitBroken,
  predictAt,
  type PolicyLimits,
  replicasFor,
  ScaleDownWindow,
  TTFT_TAIL_SIGMAS,
} from "../../src/planner/default-policy.js";
import type { DemandFigures } from "../../src/planner/engine-window.js";
import type { AggModel } from "../../src/planner/agg-model.js";
import { ComponentPlanner } from "../../src/planner/component-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { plannerKeysFrom } from "../../src/planner/planner-options.js";
import { PlannerMetrics } from "../../src/planner/planner-metrics.js";
import { ConfigError } from "../../src/util/errors.js";
import { fpm } from "./fpm-fixture.js";

function demand(over: Partial<DemandFigures> = {}): DemandFigures {
  return {
    engines: 4,
    windowS: 5,
    demand: 1.2,
    prefillDemand: 0.4,
    served: 1.2,
    backlogS: 0,
    requestRate: 30,
    promptTokens: 640,
    promptVar: 0,
    observedWorkPerPromptToken: 6e-5,
    kvDemandTokens: 20_000,
    kvPeakTokens: 6000,
    queuedRequests: 0,
    preempted: false,
    iterationS: 0.005 / 0.7,
    ...over,
  };
}

const ENGINE = { iterationS: 0.005, prefillS: 2e-5, chunkTokens: 2048, kvCapacityTokens: 65_536, ranks: 2 };
const LOOSE: PolicyLimits = { ttftMs: 1e9, itlMs: 1e9, maxUtilization: 0.9, kvUseTarget: 0.9, backlogDrainS: 30 };
const close = (a: number, b: number, eps: number, what: string) =>
  assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);

test("planner - default policy: n-1 prediction spreads today's demand over fewer engines", () => {
  // 2 replicas x 2 ranks carry 1.2 engine-s/s; on 1 replica each engine runs at 0.6.
  const p = predictAt(1, demand(), ENGINE);
  assert.equal(p.utilization, 0.6);
  close(p.iterationMs, 12.5, 1e-9, "a / (1 - u) = 5 ms / 0.4");
  close(p.itlMs, 12.5, 1e-9, "one token per iteration");
  close(p.ttftMeanMs, 1.5 * 12.5 + 12.8, 1e-9, "half a step of wait, one chunk step, its own 640-token prefill");
  // Spread: 15 req/s per engine x 640^2 x 12.5 ms / sqrt(0.4), times b^2, plus 12.5^2 / 12.
  const variance = 4e-10 * ((15 * 640 * 640 * 0.0125) / Math.sqrt(0.4)) + 0.0125 ** 2 / 12;
  close(p.ttftMs, 31.55 + TTFT_TAIL_SIGMAS * Math.sqrt(variance) * 1000, 1e-9, "mean + tail sigmas");
  close(p.ttftMs, 61.76, 0.05, "hand-worked");
  // KV follows concurrency: 20,000 tokens on 2 engines each, stretched from 7.14 ms to 12.5 ms steps.
  close(p.kvUse!, (10_000 * 1.75) / 65_536, 1e-9, "KV share at n-1");
  const now = predictAt(2, demand(), ENGINE);
  close(now.kvUse!, 5000 / 65_536, 1e-9, "today's count sees today's KV");
});

test("planner - default policy: a saturated count predicts infinite figures, and the limits name the first one broken", () => {
  const p = predictAt(1, demand({ demand: 2 }), ENGINE);
  assert.equal(p.ttftMs, Infinity);
  assert.equal(limitBroken(p, LOOSE), "utilization");
  const ok = predictAt(2, demand(), ENGINE);
  assert.equal(limitBroken(ok, LOOSE), null);
  assert.equal(limitBroken(ok, { ...LOOSE, itlMs: 5 }), "itl");
  assert.equal(limitBroken(ok, { ...LOOSE, ttftMs: 20 }), "ttft");
  assert.equal(limitBroken(ok, { ...LOOSE, kvUseTarget: 0.05 }), "kv");
  assert.equal(
    predictAt(2, demand(), { ...ENGINE, kvCapacityTokens: undefined }).kvUse,
    null,
    "no capacity: no KV figure",
  );
});

test("planner - default policy: one-step sizing takes the fewest replicas meeting every limit, plus the backlog's drain", () => {
  // 3 engine-s/s over 2 ranks at most 0.9 each: 1 replica is saturated, 2 run at 0.75.
  const need = replicasFor(demand({ demand: 3 }), ENGINE, LOOSE, 8);
  assert.deepEqual(need, { steady: 2, withBacklog: 2, limitedBy: "utilization", short: false });
  // 30 engine-s queued to drain within 30 s: (3 + 1) / (2 x 0.9) = 2.2, so 3.
  assert.equal(replicasFor(demand({ demand: 3, backlogS: 30 }), ENGINE, LOOSE, 8).withBacklog, 3);
  // A tight TTFT SLA needs more than utilisation does.
  const tight = replicasFor(demand({ demand: 3 }), ENGINE, { ...LOOSE, ttftMs: 60 }, 8);
  assert.ok(tight.steady > 2);
  assert.equal(tight.limitedBy, "ttft");
  assert.ok(limitBroken(predictAt(tight.steady, demand({ demand: 3 }), ENGINE), { ...LOOSE, ttftMs: 60 }) === null);
  // Nothing meets the limits: the most there can be, flagged short.
  assert.deepEqual(replicasFor(demand({ demand: 100 }), ENGINE, LOOSE, 8), {
    steady: 8,
    withBacklog: 8,
    limitedBy: "utilization",
    short: true,
  });
  assert.equal(replicasFor(demand({ demand: 0 }), ENGINE, LOOSE, 8).steady, 1);
});

test("planner - default policy: the stabilization window keeps the largest need of its last W seconds", () => {
  const w = new ScaleDownWindow(60, 300);
  w.record(0, 4);
  w.record(30_000, 2);
  w.record(70_000, 1);
  assert.equal(w.highest(70_000), 2, "the 4 at t=0 is older than 60 s");
  assert.equal(w.covered(50_000), 50, "history shorter than the window");
  assert.equal(w.covered(70_000), 60);
  assert.equal(w.highest(130_000), 1);
});

test("planner - default policy: up, down, then up again soon doubles the window, up to its maximum, and it shrinks back", () => {
  const w = new ScaleDownWindow(60, 300);
  w.scaled(0, "down");
  w.scaled(10_000, "up");
  assert.equal(w.windowS, 60, "a down that did not end a peak is no relapse");
  w.scaled(100_000, "down");
  w.scaled(110_000, "down");
  w.scaled(200_000, "up");
  assert.equal(w.windowS, 120, "the load came back after the peak's scale-downs");
  for (const t of [300_000, 350_000]) {
    w.scaled(t, "down");
    w.scaled(t + 20_000, "up");
  }
  assert.equal(w.windowS, 300, "capped at the maximum");
  w.record(700_000, 1);
  assert.equal(w.windowS, 150, "halved after a whole maximum window without a relapse");
});

function input(over: Partial<DefaultDecisionInput> = {}): DefaultDecisionInput {
  return {
    ready: 3,
    pending: 0,
    minReplicas: 1,
    maxReplicas: 8,
    need: { steady: 3, withBacklog: 3, limitedBy: "ttft", short: false },
    windowHighest: 3,
    windowCovered: true,
    worstEngineOverloaded: false,
    queuedRequests: 0,
    queueTolerance: 6,
    ...over,
  };
}

test("planner - default policy: scale-up goes to the need in one step; starting replicas count as coming capacity", () => {
  assert.deepEqual(decideDefault(input({ need: { steady: 5, withBacklog: 6, limitedBy: "ttft", short: false } })), {
    desired: 6,
    rule: "demand_scale_up",
  });
  // Two starting: the allocation is 5; the backlog that queued while they start is theirs to drain.
  const starting = input({
    ready: 3,
    pending: 2,
    need: { steady: 5, withBacklog: 7, limitedBy: "ttft", short: false },
  });
  assert.deepEqual(decideDefault(starting), { desired: 5, rule: "hold" });
  assert.deepEqual(decideDefault({ ...starting, need: { ...starting.need, steady: 6 } }), {
    desired: 6,
    rule: "demand_scale_up",
  });
  assert.deepEqual(decideDefault(input({ need: { steady: 20, withBacklog: 20, limitedBy: "ttft", short: true } })), {
    desired: 8,
    rule: "demand_scale_up",
  });
});

test("planner - default policy: the worst engine triggers a scale-up the aggregate does not", () => {
  assert.deepEqual(decideDefault(input({ worstEngineOverloaded: true })), {
    desired: 4,
    rule: "worst_engine_overload",
  });
  assert.deepEqual(decideDefault(input({ worstEngineOverloaded: true, pending: 1 })), {
    desired: 4,
    rule: "capacity_starting",
  });
  const full = { steady: 8, withBacklog: 8, limitedBy: "ttft" as const, short: false };
  assert.equal(
    decideDefault(input({ worstEngineOverloaded: true, ready: 8, need: full, windowHighest: 8 })).rule,
    "hold",
    "at the most replicas there can be",
  );
});

test("planner - default policy: scale-down goes to the window's largest need, never with a backlog or starting replicas", () => {
  const quiet = { need: { steady: 1, withBacklog: 1, limitedBy: null, short: false } };
  assert.deepEqual(decideDefault(input({ ...quiet, ready: 5, windowHighest: 2 })), {
    desired: 2,
    rule: "predictive_scale_down",
  });
  assert.deepEqual(decideDefault(input({ ...quiet, windowHighest: 3 })), { desired: 3, rule: "stabilization_window" });
  assert.deepEqual(decideDefault(input({ ...quiet, windowHighest: 1, windowCovered: false })), {
    desired: 3,
    rule: "stabilization_window",
  });
  assert.deepEqual(decideDefault(input({ ...quiet, windowHighest: 1, queuedRequests: 7 })), {
    desired: 3,
    rule: "scale_down_refused_backlog",
  });
  assert.deepEqual(decideDefault(input({ ...quiet, windowHighest: 1, pending: 1 })), {
    desired: 4,
    rule: "capacity_starting",
  });
  assert.deepEqual(decideDefault(input({ ...quiet, windowHighest: 1, minReplicas: 2 })), {
    desired: 2,
    rule: "predictive_scale_down",
  });
  assert.deepEqual(decideDefault(input()), { desired: 3, rule: "hold" });
});

/** An aggregated planner in default mode, sla target, 2,048-token chunks. */
function aggPlanner(): ComponentPlanner {
  return new ComponentPlanner({
    component: "backend",
    kind: "agg",
    config: resolvePlannerConfig({
      optimizationTarget: "sla",
      maxNumBatchedTokens: 2048,
      maxKvTokens: 65_536,
      ttftMs: 100,
      itlMs: 50,
      coldStartIterations: 0,
    }),
  });
}

/**
 * 100 iterations of one engine in 5 s (5 ms + 2e-5 s/prefill token + 5e-7 s/decode KV token,
 * 4 decoding requests), `prefill(i)` tokens in iteration i, then the tick at 5 s.
 */
function feedAndTick(p: ComponentPlanner, prefill: (i: number) => number) {
  let last = fpm({ workerId: "w", counterId: 0 });
  for (let i = 1; i <= 100; i++) {
    const tokens = prefill(i);
    const kv = 2000 + (i % 5) * 1000;
    last = fpm({
      workerId: "w",
      counterId: i,
      wallTimeS: 0.005 + 2e-5 * tokens + 5e-7 * kv,
      scheduled: {
        numPrefillRequests: tokens > 0 ? 1 : 0,
        sumPrefillTokens: tokens,
        numDecodeRequests: 4,
        sumDecodeKvTokens: kv,
      },
    });
    p.ingest(last, i * 50);
  }
  const d = p.tick({
    nowMs: 5000,
    engines: [{ workerId: "w", dpRank: 0, fpm: last }],
    replicas: 1,
    scaleInProgress: false,
    pendingReplicas: 0,
  });
  return { d, last };
}

test("planner - default policy: the decision record names the rule and the figures it used, and /metrics shows them", async () => {
  const p = aggPlanner();
  // One engine, 5 ms + 2e-5 s/prefill token + 5e-7 s/decode KV token, 100 iterations in 5 s.
  const { d } = feedAndTick(p, (i) => (i % 7) * 100);
  assert.equal(d.rule, "hold");
  assert.equal(d.reason, "no_change");
  const f = d.predicted!;
  assert.ok(f, "predicted figures on a default-policy decision");
  // Work: 300 prefill tokens x 2e-5 + 4,000 KV tokens x 5e-7 per iteration on average, 20 iterations/s.
  assert.ok(Math.abs(f.demand - 20 * (2e-5 * 300 + 5e-7 * 4000)) < 0.02, `demand ${f.demand}`);
  assert.equal(f.replicasNeeded, 1);
  assert.equal(f.windowS, 60);
  for (const k of ["ttftMsAtDesired", "itlMsAtDesired", "kvUseAtDesired", "utilizationAtDesired"] as const)
    assert.equal(typeof f[k], "number", k);
  assert.ok(f.itlMsAtDesired > 5 && f.itlMsAtDesired < 50);
  const metrics = new PlannerMetrics();
  metrics.recordDecision(d, () => undefined);
  const text = await metrics.registry.metrics();
  assert.match(text, /fpm_planner_replicas_needed\{component="backend"\} 1/);
  assert.match(text, /fpm_planner_demand_engine_seconds\{component="backend"\} 0\.\d+/);
  assert.match(text, /fpm_planner_scale_down_window_seconds\{component="backend"\} 60/);
  assert.match(text, /fpm_planner_decision_rules_total\{component="backend",rule="hold"\} 1/);
});

test("planner - default policy: the engines' TTFT estimates take the prompt per request, not per scheduled chunk", () => {
  const p = aggPlanner();
  // Every prompt is 3,048 tokens: a full 2,048-token chunk, then the last 1,000 in the next
  // iteration (a continuation, not a new request). Per scheduled chunk that averages 1,524.
  const { d, last } = feedAndTick(p, (i) => (i % 2 === 1 ? 2048 : 1000));
  assert.equal(d.predicted!.promptTokens, 3048, "the policy sizes with the prompt per request");
  const m = p.model as AggModel;
  const kv = last.scheduledRequests.sumDecodeKvTokens;
  const perRequest = m.estimateTtft(0, 2048, kv, 3048)! * 1000;
  const perChunk = m.estimateTtft(0, 2048, kv)! * 1000;
  assert.ok(Math.abs(m.avgIsl.value - 1524) < 1e-6, `the model's average is per chunk (${m.avgIsl.value})`);
  assert.ok(perRequest > perChunk + 10, "two chunks' time, not one");
  assert.equal(d.engines[0].ttftMs, perRequest);
});

test("planner - default policy config: keys validated at start with the key's name", () => {
  const c = resolvePlannerConfig();
  assert.equal(c.scaleDownStabilizationS, 60);
  assert.equal(c.scaleDownStabilizationMaxS, 300);
  assert.equal(c.backlogDrainS, 30);
  assert.equal(c.maxUtilization, 0.9);
  assert.equal(c.kvUseTarget, 0.9);
  assert.throws(
    () => resolvePlannerConfig({ maxUtilization: 1.5 }),
    /max_utilization 1\.5: must be a number > 0 and <= 1/,
  );
  assert.throws(() => resolvePlannerConfig({ kvUseTarget: 0 }), /kv_use_target/);
  assert.throws(() => resolvePlannerConfig({ backlogDrainS: 0 }), /backlog_drain_seconds 0: must be a number > 0/);
  assert.throws(
    () => resolvePlannerConfig({ scaleDownStabilizationS: 120, scaleDownStabilizationMaxS: 60 }),
    /scale_down_stabilization_max_seconds \(60\) must be at least scale_down_stabilization_seconds \(120\)/,
  );
  const keys = plannerKeysFrom({ scale_down_stabilization_seconds: 30, max_utilization: 0.8 }, "test");
  assert.deepEqual(keys.partial, { scaleDownStabilizationS: 30, maxUtilization: 0.8 });
  assert.throws(
    () => plannerKeysFrom({ max_utilization: 2 }, "test"),
    (e: Error) => e instanceof ConfigError && /max_utilization/.test(e.message),
  );
  assert.throws(() => plannerKeysFrom({ backlog_drain_seconds: "soon" }, "test"), ConfigError);
});
