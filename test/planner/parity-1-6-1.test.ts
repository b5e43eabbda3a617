/** Parity mode with Dynamo 1.6.1's rules: every branch on hand-worked numbers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ComponentPlanner, type EngineLatest, type TickInput } from "../../src/planner/component-planner.js";
import { clampIntoBand, guardGpuBudget } from "../../src/planner/parity/gpu-budget.js";
import { clampKvHitRate, EnginePerfEstimate } from "../../src/planner/parity/perf-estimate.js";
import { consolidationSafeTarget } from "../../src/planner/parity/threshold-rules.js";
import { startupReduction } from "../../src/planner/pending-replicas.js";
import { type PlannerConfig, resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { PrefillModel } from "../../src/planner/prefill-model.js";
import type { ModelKind } from "../../src/planner/regression-model.js";
import { type FpmFields, fpm } from "./fpm-fixture.js";

const planner = (kind: ModelKind, cfg: Partial<PlannerConfig>) =>
  new ComponentPlanner({ component: kind, kind, config: resolvePlannerConfig({ mode: "parity", ...cfg }) });
const eng = (workerId: string, f: FpmFields = {}, dpRank = 0): EngineLatest => ({
  workerId,
  dpRank,
  fpm: fpm({ workerId, dpRank, ...f }),
});
const tick = (p: ComponentPlanner, engines: EngineLatest[], replicas: number, extra: Partial<TickInput> = {}) =>
  p.tick({ nowMs: 0, engines, replicas, scaleInProgress: false, ...extra });

/** wall = 0.01 + 1e-5 x prefill tokens; after warming, avg_isl = 3000. */
function warmPrefill(cfg: Partial<PlannerConfig> = {}): ComponentPlanner {
  const p = planner("prefill", { optimizationTarget: "sla", maxNumBatchedTokens: 4096, ttftMs: 100, ...cfg });
  for (const x of [1000, 2000, 3000, 4000, 5000])
    tick(p, [eng("a", { wallTimeS: 0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } })], 1);
  return p;
}
const prefillAt = (w: string, queued: number) =>
  eng(w, {
    wallTimeS: 0.04,
    scheduled: { numPrefillRequests: 1, sumPrefillTokens: 3000 },
    queued: { sumPrefillTokens: queued },
  });

/** wall = 0.004 + 2e-4 x requests + 4e-7 x KV, a decode engine's iteration. */
const decodeAt = (w: string, n: number, kv: number) =>
  eng(w, { wallTimeS: 0.004 + 2e-4 * n + 4e-7 * kv, scheduled: { numDecodeRequests: n, sumDecodeKvTokens: kv } });
/** Five samples that pin the decode fit. */
function warmDecode(p: ComponentPlanner, extra: Partial<TickInput> = {}): void {
  for (const [n, kv] of [
    [1, 1000],
    [4, 2000],
    [2, 6000],
    [8, 3000],
    [5, 5000],
  ])
    tick(p, [decodeAt("a", n, kv)], 1, extra);
}

test("parity 1.6.1 - prefill sla scales down only when the survivors' queue-induced TTFT fits (ttft - T_own) x sensitivity", () => {
  const p = warmPrefill();
  // T_own = 40 ms, budget (100 - 40) x 0.8 = 48 ms. Queue 1500 each: 6000 tokens on the survivor -> 80 ms, 40 < 48.
  const down = tick(p, [prefillAt("a", 1500), prefillAt("b", 1500)], 2);
  assert.deepEqual([down.desired, down.reason, down.rule], [1, "scale_down", "sla_consolidation"]);
  assert.ok(Math.abs(down.engines[0].consolidatedTtftMs! - 80) < 1e-9, `${down.engines[0].consolidatedTtftMs}`);
  // Queue 2500 each: 8000 tokens -> 100 ms, 60 >= 48: refused, although each engine is at 75 ms today.
  const refused = tick(p, [prefillAt("a", 2500), prefillAt("b", 2500)], 2);
  assert.ok(Math.abs(refused.engines[0].ttftMs! - 75) < 1e-9, `${refused.engines[0].ttftMs}`);
  assert.deepEqual(
    [refused.desired, refused.direction, refused.reason],
    [2, "hold", "scale_down_refused_consolidation"],
  );
  // Every engine above the SLA: up by one.
  const up = tick(p, [prefillAt("a", 20_000), prefillAt("b", 20_000)], 2);
  assert.deepEqual([up.desired, up.reason, up.rule], [3, "scale_up", "sla_every_engine_above"]);
});

test("parity 1.6.1 - replicas starting: no scale-up, a reduction may cancel them even from one ready worker", () => {
  const p = warmPrefill();
  const wait = tick(p, [prefillAt("a", 20_000)], 1, { pendingReplicas: 1, scaleInProgress: true });
  assert.deepEqual([wait.desired, wait.direction, wait.reason, wait.pending], [2, "hold", "pending_replicas", 1]);
  const cancel = tick(p, [prefillAt("a", 0)], 1, { pendingReplicas: 1, scaleInProgress: true });
  assert.deepEqual([cancel.desired, cancel.direction, cancel.reason], [1, "down", "scale_down"]);
  const blocked = tick(p, [prefillAt("a", 0)], 1, { pendingReplicas: 0, scaleInProgress: true });
  assert.deepEqual([blocked.reason, blocked.rule], ["scaling_in_progress", "gate"]);
  assert.equal(startupReduction(3, 2, 1), null, "above the ready count: keep the allocation");
  assert.equal(startupReduction(3, 3, 0), 3);
});

test("parity 1.6.1 - decode sla refuses a scale-down whose consolidated KV would not fit max_kv_tokens", () => {
  const p = planner("decode", { optimizationTarget: "sla", maxKvTokens: 10_000, itlMs: 50 });
  const at = decodeAt;
  warmDecode(p);
  const full = tick(p, [at("a", 4, 6000), at("b", 4, 6000)], 2);
  assert.deepEqual([full.desired, full.reason], [2, "scale_down_refused_consolidation"], "12000 KV >= 10000");
  const fits = tick(p, [at("a", 2, 2000), at("b", 2, 2000)], 2);
  assert.deepEqual([fits.desired, fits.reason], [1, "scale_down"]);
  assert.ok(fits.engines[0].consolidatedItlMs! > fits.engines[0].itlMs!, "twice the KV on the survivor");
});

test("parity 1.6.1 - the accept length divides ITL, clamped to [1, speculative_nextn + 1]", () => {
  const make = (nextn: number) =>
    planner("decode", { optimizationTarget: "sla", maxKvTokens: 1e6, speculativeNextn: nextn });
  const itl = (p: ComponentPlanner, accept?: number) => {
    warmDecode(p, { acceptLength: accept });
    return tick(p, [decodeAt("a", 2, 2000)], 1).engines[0].itlMs!;
  };
  const plain = itl(make(0), 3);
  assert.ok(Math.abs(itl(make(1), 3) - plain / 2) < 1e-9, "nextn 1: accept length clamped to 2");
  assert.ok(Math.abs(itl(make(4), 3) - plain / 3) < 1e-9);
});

test("parity 1.6.1 - the KV hit rate discounts prefill work, at most 95%", () => {
  const m = new PrefillModel();
  const perf = new EnginePerfEstimate({ kind: "prefill", model: m, window: 64, chunkTokens: 4096 });
  for (const x of [1000, 2000, 3000, 4000, 5000])
    perf.observe([eng("a", { wallTimeS: 0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } })]);
  const [g] = perf.groups([prefillAt("a", 5000)]);
  // (5000 + 3000) x 0.5 = 4000 tokens: one chunk, 0.05 s.
  assert.ok(Math.abs(perf.queuedPrefillTime(g, { kvHitRate: 0.5 })! - 0.05) < 1e-12);
  assert.equal(clampKvHitRate(1), 0.95);
  assert.equal(clampKvHitRate(undefined), 0);
});

test("parity 1.6.1 - attention DP: a worker's ranks form one group; an incomplete group adds no samples", () => {
  const perf = new EnginePerfEstimate({
    kind: "prefill",
    model: new PrefillModel(),
    window: 64,
    chunkTokens: 4096,
    attentionDp: 2,
  });
  const r = (w: string, rank: number, x: number) =>
    eng(w, { wallTimeS: 0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } }, rank);
  assert.deepEqual(
    perf
      .groups([r("a", 1, 10), r("b", 0, 10), r("a", 0, 10), r("b", 1, 10)])
      .map((g) => g.map((f) => `${f.workerId}${f.dpRank}`)),
    [
      ["a0", "a1"],
      ["b0", "b1"],
    ],
  );
  perf.observe([r("a", 0, 1000), r("a", 1, 2000), r("b", 0, 3000)]);
  assert.equal(perf.model.sampleCount, 0, "b has one rank of two: the whole tick is refused");
  assert.equal(perf.incompleteGroups, 1);
  for (const x of [1000, 2000, 3000]) perf.observe([r("a", 0, x), r("a", 1, x + 500)]);
  assert.equal(perf.model.sampleCount, 6);
  // The group steps at its slowest rank: queue 0 vs 4096 -> one 4096-token chunk after the new request.
  const t = perf.queuedPrefillTime([
    r("a", 0, 1).fpm,
    { ...r("a", 1, 1).fpm, queuedRequests: { ...r("a", 1, 1).fpm.queuedRequests, sumPrefillTokens: 4096 } },
  ]);
  assert.ok(t !== null && t > perf.queuedPrefillTime([r("a", 0, 1).fpm, r("a", 1, 1).fpm])!);
});

test("parity 1.6.1 - static thresholds: the anti-oscillation guard keeps the replicas the survivors would overload", () => {
  const p = planner("decode", { maxKvTokens: 1000 });
  const kv = (w: string, k: number) => eng(w, { scheduled: { sumDecodeKvTokens: k } });
  const guarded = tick(p, [kv("a", 550), kv("b", 100)], 2);
  assert.deepEqual([guarded.desired, guarded.rule, guarded.reason], [2, "threshold_consolidation_guard", "no_change"]);
  const down = tick(p, [kv("a", 450), kv("b", 100)], 2);
  assert.deepEqual([down.desired, down.rule], [1, "threshold_every_engine_under"], "0.45 x 2 = 0.9 < 1.0");
  assert.equal(consolidationSafeTarget(2, 3, [0.7], 1.0), 3, "0.7 x 3 / 2 = 1.05");
  assert.equal(tick(p, [kv("a", 1000)], 1).desired, 1, "decode throughput: 1.0 is not > 1.0");
});

test("parity 1.6.1 - load target: raw queued prefill tokens and KV percent, both inclusive", () => {
  const p = planner("prefill", {
    optimizationTarget: "load",
    prefillScaleUpQueueTokens: 4000,
    prefillScaleDownQueueTokens: 500,
  });
  const q = (w: string, t: number) => eng(w, { queued: { sumPrefillTokens: t } });
  assert.equal(tick(p, [q("a", 4000), q("b", 0)], 2).desired, 3, ">= 4000");
  assert.equal(tick(p, [q("a", 500), q("b", 500)], 2).desired, 1, "<= 500 on every engine");
  assert.equal(tick(p, [q("a", 501), q("b", 0)], 2).desired, 2);
  const d = planner("decode", {
    optimizationTarget: "load",
    maxKvTokens: 1000,
    decodeScaleUpKvRate: 80,
    decodeScaleDownKvRate: 20,
  });
  const kv = (w: string, k: number) => eng(w, { scheduled: { sumDecodeKvTokens: k } });
  assert.equal(tick(d, [kv("a", 800)], 1).desired, 2, "80% >= 80%");
  assert.equal(tick(d, [kv("a", 200), kv("b", 200)], 2).desired, 1, "20% <= 20%; the survivor at 40% stays under 80%");
});

test("parity 1.6.1 - agg without the chunk size: the decode side alone scales down (the agg fallback)", () => {
  const p = planner("agg", { optimizationTarget: "sla", itlMs: 50, ttftMs: 500 });
  const at = (w: string, pt: number, kv: number) =>
    eng(w, {
      wallTimeS: 0.005 + 2e-5 * pt + 5e-7 * kv,
      scheduled: {
        numPrefillRequests: pt > 0 ? 1 : 0,
        sumPrefillTokens: pt,
        numDecodeRequests: 4,
        sumDecodeKvTokens: kv,
      },
    });
  for (const [pt, kv] of [
    [100, 1000],
    [400, 2000],
    [200, 8000],
    [800, 3000],
    [500, 5000],
  ])
    tick(p, [at("a", pt, kv)], 1);
  const d = tick(p, [at("a", 100, 1000), at("b", 100, 1000)], 2);
  assert.deepEqual([d.desired, d.rule, d.reason], [1, "agg_decode_only_fallback", "scale_down"]);
  assert.equal(d.engines[0].ttftMs, undefined, "no TTFT estimate without max_num_batched_tokens");
});

test("parity 1.6.1 - gate order: agg checks FPM before a scale in progress, prefill and decode after", () => {
  const agg = planner("agg", { maxKvTokens: 1000 });
  assert.equal(tick(agg, [], 1, { scaleInProgress: true }).reason, "no_fpm_data");
  const dec = planner("decode", { maxKvTokens: 1000 });
  assert.equal(tick(dec, [], 1, { scaleInProgress: true }).reason, "scaling_in_progress");
  assert.equal(tick(dec, [eng("a"), eng("b")], 1).reason, "worker_count_mismatch");
  assert.equal(
    planner("decode", { maxKvTokens: 1000, enableLoadScaling: false }).tick({
      nowMs: 0,
      engines: [eng("a")],
      replicas: 1,
      scaleInProgress: false,
    }).reason,
    "disabled",
  );
});

test("parity 1.6.1 - GPU band: clamp into it without reversing direction, hold at its edges, reconcile from outside", () => {
  const band = { gpusPerReplica: 2, minGpus: 4, maxGpus: 8, minEndpoint: 1 };
  assert.deepEqual(guardGpuBudget(3, 5, band), { desired: 4, reason: null }, "5 x 2 = 10 > 8: 4");
  assert.deepEqual(guardGpuBudget(4, 5, band), { desired: 4, reason: "gpu_budget_guard_hold" }, "at the ceiling");
  assert.deepEqual(guardGpuBudget(2, 1, band), { desired: 2, reason: "gpu_budget_guard_hold" }, "at the floor");
  assert.deepEqual(guardGpuBudget(6, 6, band), { desired: 4, reason: "gpu_budget_reconcile" }, "12 GPUs: outside");
  assert.equal(clampIntoBand(0, { ...band, minGpus: -1, maxGpus: -1 }), 0, "no band");
  const p = planner("decode", { maxKvTokens: 1000, maxGpuBudget: 2 });
  const full = eng("a", { scheduled: { sumDecodeKvTokens: 2000 } });
  const held = tick(p, [full, { ...full, workerId: "b", fpm: { ...full.fpm, workerId: "b" } }], 2);
  assert.deepEqual([held.desired, held.reason, held.rule], [2, "gpu_budget_guard_hold", "gpu_budget"]);
});
