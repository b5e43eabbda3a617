import { test } from "node:test";
import assert from "node:assert/strict";
import { ComponentPlanner, type EngineLatest } from "../../src/planner/component-planner.js";
import { resolvePlannerConfig, type PlannerConfig } from "../../src/planner/planner-config.js";
import type { ModelKind } from "../../src/planner/regression-model.js";
import { ConfigError } from "../../src/util/errors.js";
import { fpm, type FpmFields } from "./fpm-fixture.js";

function planner(kind: ModelKind, cfg: Partial<PlannerConfig>): ComponentPlanner {
  return new ComponentPlanner({ component: kind, kind, config: resolvePlannerConfig(cfg) });
}

function eng(workerId: string, dpRank: number, f: FpmFields = {}): EngineLatest {
  return { workerId, dpRank, fpm: fpm({ workerId, dpRank, ...f }) };
}

const tick = (
  p: ComponentPlanner,
  engines: EngineLatest[],
  replicas: number,
  extra: { nowMs?: number; scaleInProgress?: boolean } = {},
) => p.tick({ nowMs: extra.nowMs ?? 0, engines, replicas, scaleInProgress: extra.scaleInProgress ?? false });

test("planner - gates in order: disabled, scaling_in_progress, no_fpm_data, worker_count_mismatch", () => {
  const off = planner("decode", {
    mode: "parity",
    parityRules: "pre-1.6",
    enableLoadScaling: false,
    maxKvTokens: 1000,
  });
  assert.equal(tick(off, [eng("a", 0)], 1).reason, "disabled");
  const p = planner("decode", { mode: "parity", parityRules: "pre-1.6", maxKvTokens: 1000 });
  assert.equal(tick(p, [eng("a", 0)], 1, { scaleInProgress: true }).reason, "scaling_in_progress");
  assert.equal(tick(p, [], 1).reason, "no_fpm_data");
  assert.equal(tick(p, [eng("a", 0), eng("b", 0)], 1).reason, "worker_count_mismatch", "two workers seen, one ready");
  assert.equal(
    tick(p, [eng("a", 0), eng("a", 1), eng("b", 0)], 2).reason,
    "worker_count_mismatch",
    "ranks per worker differ",
  );
  const ok = tick(p, [eng("a", 0), eng("a", 1), eng("b", 0), eng("b", 1)], 2);
  assert.equal(ok.reason, "scale_down", "4 engines at zero KV utilisation: all < 0.6");
  assert.equal(ok.desired, 1);
  assert.equal(ok.direction, "down");
});

test("planner - sla gates: insufficient_data, then fit_rejected", () => {
  const p = planner("prefill", {
    mode: "parity",
    parityRules: "pre-1.6",
    optimizationTarget: "sla",
    maxNumBatchedTokens: 4096,
  });
  const e = (x: number, wall: number) =>
    eng("a", 0, { wallTimeS: wall, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } });
  for (let i = 1; i <= 4; i++)
    assert.equal(tick(p, [e(i * 1000, 0.1 - i * 0.01)], 1).reason, "insufficient_data", `tick ${i}: ${i} samples < 5`);
  const d = tick(p, [e(5000, 0.05)], 1);
  assert.equal(d.reason, "fit_rejected", "wall time falls as tokens rise");
  assert.equal(d.model.status, "fit_rejected");
  assert.equal(d.desired, 1);
});

test("planner - sla prefill scales up when every TTFT estimate is above the SLA and down under the sensitivity", () => {
  const p = planner("prefill", {
    mode: "parity",
    parityRules: "pre-1.6",
    optimizationTarget: "sla",
    maxNumBatchedTokens: 4096,
    ttftMs: 100,
  });
  // wall = 0.01 + 1e-5 x. Warm the model with 5 ticks of one engine.
  for (const x of [1000, 2000, 3000, 4000, 5000])
    tick(
      p,
      [eng("a", 0, { wallTimeS: 0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } })],
      1,
    );
  // Feeding again a queued backlog: the 6th sample (x=3000) keeps avg_isl at 3000 (window 64).
  // queued 20000 + 3000 = 23000 tokens -> 6 chunks (5 x 4096 + 2520): 5 x 0.05096 + 0.0352 = 0.288 s > 100 ms.
  const busy = {
    wallTimeS: 0.04,
    scheduled: { numPrefillRequests: 1, sumPrefillTokens: 3000 },
    queued: { sumPrefillTokens: 20000 },
  };
  const up = tick(p, [eng("a", 0, busy)], 1);
  assert.equal(up.reason, "scale_up");
  assert.equal(up.desired, 2);
  assert.ok(Math.abs(up.engines[0].ttftMs! - (5 * 50.96 + 35.2)) < 1e-6, `ttft ${up.engines[0].ttftMs}`);
  // Two engines, empty queues: T = 3000 -> 0.04 s = 40 ms < 80 ms each: down to 1.
  const idle = { wallTimeS: 0.04, scheduled: { numPrefillRequests: 1, sumPrefillTokens: 3000 } };
  const down = tick(p, [eng("a", 0, idle), eng("b", 0, idle)], 2);
  assert.equal(down.reason, "scale_down");
  assert.equal(down.desired, 1);
  // One engine at 40 ms, the other at 288 ms: neither rule fires.
  const mixed = tick(p, [eng("a", 0, idle), eng("b", 0, busy)], 2);
  assert.equal(mixed.reason, "no_change");
  assert.equal(mixed.direction, "hold");
});

test("planner - min_endpoint and max_gpu_budget bound the decision", () => {
  const p = planner("decode", {
    mode: "parity",
    parityRules: "pre-1.6",
    maxKvTokens: 1000,
    minEndpoint: 2,
    maxGpuBudget: 8,
    gpusPerReplica: 4,
  });
  const full = { scheduled: { sumDecodeKvTokens: 2000 } };
  const capped = tick(p, [eng("a", 0, full), eng("b", 0, full)], 2);
  assert.equal(capped.desired, 2, "3 replicas x 4 GPUs > 8");
  assert.equal(capped.reason, "max_gpu_budget");
  const q = planner("decode", { mode: "parity", parityRules: "pre-1.6", maxKvTokens: 1000, minEndpoint: 2 });
  const floor = tick(q, [eng("a", 0), eng("b", 0)], 2);
  assert.equal(floor.desired, 2, "all idle, but the floor is 2");
  assert.equal(floor.reason, "no_change");
});

test("planner - parity feeds the latest message every tick, even unchanged", () => {
  const p = planner("prefill", { mode: "parity", parityRules: "pre-1.6", contextLength: 4096 });
  const e = eng("a", 0, { counterId: 7, wallTimeS: 0.02, scheduled: { sumPrefillTokens: 100 } });
  tick(p, [e], 1);
  tick(p, [e], 1);
  assert.equal(p.model.sampleCount, 2, "the reference samples the same stale message twice");
  assert.equal(p.ingest(e.fpm, 0), false, "parity ignores per-message ingest");
});

test("planner - default mode: every distinct iteration is a sample, after the cold start, de-duplicated by counter_id", () => {
  const p = planner("prefill", { contextLength: 4096, coldStartIterations: 3 });
  const it = (c: number, wall = 0.02) =>
    fpm({ workerId: "a", counterId: c, wallTimeS: wall, scheduled: { sumPrefillTokens: 100 + c } });
  for (let c = 1; c <= 3; c++) assert.equal(p.ingest(it(c), 0), false, `cold start iteration ${c}`);
  assert.equal(p.coldStartSkipped, 3);
  assert.equal(p.ingest(it(4), 0), true);
  assert.equal(p.ingest(it(4), 0), false, "same counter_id again");
  assert.equal(p.ingest(it(5, 0), 0), false, "heartbeats are never samples");
  assert.equal(p.ingest(it(6), 0), true);
  // Restart: counter_id goes back (not a sample until the next confirms it); a new cold start begins.
  assert.equal(p.ingest(it(0), 0), false);
  const skipped = p.coldStartSkipped;
  assert.equal(p.ingest(it(1), 0), false, "cold again after the restart");
  assert.equal(p.coldStartSkipped, skipped + 1);
  assert.equal(p.model.sampleCount, 2);
  // The tick does not feed the latest message again in default mode.
  tick(p, [{ workerId: "a", dpRank: 0, fpm: it(6) }], 1);
  assert.equal(p.model.sampleCount, 2);
});

test("planner - default mode: a forged counter_id far ahead is not a sample and does not restart the engine's cold start", () => {
  const p = planner("prefill", { contextLength: 4096, coldStartIterations: 1 });
  const it = (c: number) =>
    fpm({ workerId: "a", counterId: c, wallTimeS: 0.02, scheduled: { sumPrefillTokens: 100 + c } });
  p.ingest(it(1), 0);
  assert.equal(p.ingest(it(2), 0), true);
  assert.equal(p.ingest(it(Number.MAX_SAFE_INTEGER), 0), false, "held out: it breaks the engine's counter_id");
  assert.equal(p.ingest(it(3), 0), true, "the genuine next one is a sample: no cold start");
  assert.equal(p.model.sampleCount, 2);
});

test("planner - default mode: all engines idle for a whole interval steps down towards min_endpoint", () => {
  const p = planner("prefill", { optimizationTarget: "sla", maxNumBatchedTokens: 4096, loadAdjustmentIntervalS: 5 });
  const hb = (w: string) => fpm({ workerId: w, counterId: 1, wallTimeS: 0 });
  p.ingest(hb("a"), 0);
  p.ingest(hb("b"), 0);
  const engines = [
    { workerId: "a", dpRank: 0, fpm: hb("a") },
    { workerId: "b", dpRank: 0, fpm: hb("b") },
  ];
  assert.equal(tick(p, engines, 2, { nowMs: 4000 }).reason, "insufficient_data", "not yet a whole interval");
  const d = tick(p, engines, 2, { nowMs: 5000 });
  assert.equal(d.reason, "idle_scale_down");
  assert.equal(d.desired, 1);
  // A busy iteration inside the interval stops it.
  p.ingest(fpm({ workerId: "a", counterId: 2, wallTimeS: 0.01, scheduled: { sumPrefillTokens: 5 } }), 6000);
  assert.notEqual(tick(p, engines, 2, { nowMs: 10_000 }).reason, "idle_scale_down");
  assert.equal(tick(p, engines, 2, { nowMs: 11_001 }).reason, "idle_scale_down");
  // At min_endpoint it holds.
  assert.equal(tick(p, engines.slice(0, 1), 1, { nowMs: 20_000 }).reason, "no_change");
});

test("planner - default mode: NaN or infinite values never reach the model", () => {
  const p = planner("prefill", { contextLength: 4096, coldStartIterations: 0 });
  assert.equal(p.ingest(fpm({ counterId: 1, wallTimeS: NaN, scheduled: { sumPrefillTokens: 1 } }), 0), false);
  assert.equal(p.ingest(fpm({ counterId: 2, wallTimeS: 0.1, scheduled: { sumPrefillTokens: Infinity } }), 0), false);
  assert.equal(p.model.sampleCount, 0);
});

test("planner - configuration errors say what to change", () => {
  assert.throws(
    () => resolvePlannerConfig({ fpmSampleBucketSize: 15 }),
    (e) => e instanceof ConfigError && /perfect square/.test(e.message),
  );
  assert.throws(() => resolvePlannerConfig({ loadScalingDownSensitivity: 120 }), ConfigError);
  assert.throws(() => resolvePlannerConfig({ minEndpoint: 3, maxGpuBudget: 4, gpusPerReplica: 2 }), /max_gpu_budget/);
  assert.throws(() => resolvePlannerConfig({ ttftMs: -1 }), ConfigError);
});
