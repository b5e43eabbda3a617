/**
 * One tick of one component under Dynamo 1.6.1's load-scaling rules: the order of its gates
 * (prefill/decode: scaling, FPM, worker count; agg: FPM, scaling, worker count), the rules
 * (static thresholds or sla), replicas still starting, the replica floor, the GPU band,
 * and agg's combination of its TTFT and ITL sides (either up -> up; both down -> down; TTFT
 * unavailable and ITL down -> down, the fallback). Each component decides alone, as 1.6.1's
 * single-component and agg modes do; disagg's coupling of prefill and decode is not here.
 */
import { workerCountMatches } from "../component-planner.js";
import type { DecisionReason, DecisionRule } from "../decision.js";
import { gpusPerReplicaFor, minEndpointFor } from "../planner-config.js";
import { scalingBlocked, startupReduction, upWaitsForPending } from "../pending-replicas.js";
import { guardGpuBudget } from "./gpu-budget.js";
import { aggDecodeSla161, aggNotReady, aggPrefillSla161, decodeSla161, prefillSla161 } from "./sla-rules.js";
import type { Parity161Context, SubDecision } from "./sub-decision.js";
import { thresholdDecision161 } from "./threshold-rules.js";

/** The tick's outcome: a new count, or null to keep the allocation (ready + starting). */
export interface Parity161Outcome {
  desired: number | null;
  reason: DecisionReason;
  rule: DecisionRule;
}

const gate = (reason: DecisionReason): Parity161Outcome => ({ desired: null, reason, rule: "gate" });
const hold = (d: SubDecision): Parity161Outcome => ({ desired: null, reason: d.reason ?? "no_change", rule: d.rule });
/** A scale-up waits for starting replicas; 1.6.1 keeps the reason a side set last, fpm names the wait when none did. */
const waitForPending = (...sides: (SubDecision | null)[]): Parity161Outcome => ({
  desired: null,
  reason: sides.reduce<DecisionReason | null>((r, d) => d?.reason ?? r, null) ?? "pending_replicas",
  rule: "startup_reduction",
});

export function decideDynamo161(ctx: Parity161Context, scaleInProgress: boolean): Parity161Outcome {
  const n = ctx.ready;
  const p = ctx.pending;
  if (ctx.kind === "agg") {
    if (ctx.engines.length === 0) return gate("no_fpm_data");
    if (scalingBlocked(scaleInProgress, p)) return gate("scaling_in_progress");
  } else {
    if (scalingBlocked(scaleInProgress, p)) return gate("scaling_in_progress");
    if (ctx.engines.length === 0) return gate("no_fpm_data");
  }
  if (!workerCountMatches(ctx.engines, n)) return gate("worker_count_mismatch");
  const easy = ctx.config.optimizationTarget !== "sla";
  if (ctx.kind === "agg") return easy ? aggThreshold(ctx) : aggSla(ctx);

  const sub = easy ? thresholdDecision161(ctx) : ctx.kind === "prefill" ? prefillSla161(ctx) : decodeSla161(ctx);
  const unchanged = sub.desired === null;
  let desired = sub.desired ?? n;
  if (upWaitsForPending(desired, n, p)) return waitForPending(sub);
  desired = Math.max(desired, minEndpointFor(ctx.config, ctx.kind));
  const budget = guard(ctx, desired);
  if (unchanged && budget.desired === n)
    return budget.reason ? { desired: null, reason: budget.reason, rule: "gpu_budget" } : hold(sub);
  return finish(ctx, budget.desired, budget.reason, sub.rule);
}

function aggThreshold(ctx: Parity161Context): Parity161Outcome {
  const sub = thresholdDecision161(ctx);
  if (sub.desired === null) return hold(sub);
  if (upWaitsForPending(sub.desired, ctx.ready, ctx.pending)) return waitForPending(sub);
  const budget = guard(ctx, Math.max(sub.desired, minEndpointFor(ctx.config, "agg")));
  return finish(ctx, budget.desired, budget.reason, sub.rule);
}

function aggSla(ctx: Parity161Context): Parity161Outcome {
  const n = ctx.ready;
  const notReady = aggNotReady(ctx);
  if (notReady) return gate(notReady.reason ?? "insufficient_data");
  // Without the engine's chunk size the TTFT side is unavailable (1.6.1 then lets decode scale down alone).
  const ttft: SubDecision | null = ctx.config.maxNumBatchedTokens ? aggPrefillSla161(ctx) : null;
  const itl = aggDecodeSla161(ctx);
  const anyRefused = !!(ttft?.refused || itl.refused);
  const pd = ttft?.desired ?? null;
  const dd = itl.desired;
  let desired = n;
  let rule: DecisionRule = "hold";
  if (pd !== null && pd > n) [desired, rule] = [pd, ttft!.rule];
  else if (dd !== null && dd > n) [desired, rule] = [dd, itl.rule];
  else if (pd === null && dd !== null && dd < n) [desired, rule] = [dd, "agg_decode_only_fallback"];
  else if (pd !== null && pd < n && dd !== null && dd < n) [desired, rule] = [Math.max(pd, dd), "sla_consolidation"];
  if (upWaitsForPending(desired, n, ctx.pending)) return waitForPending(ttft, itl);
  const budget = guard(ctx, Math.max(desired, minEndpointFor(ctx.config, "agg")));
  // With replicas starting and neither side asking for more, the ready count cancels them.
  const cancelStartup = !anyRefused && ctx.pending > 0 && pd !== null && dd !== null && pd <= n && dd <= n;
  if (budget.desired === n && !cancelStartup) {
    if (budget.reason) return { desired: null, reason: budget.reason, rule: "gpu_budget" };
    if (anyRefused) return { desired: null, reason: "scale_down_refused_consolidation", rule: "sla_consolidation" };
    return { desired: null, reason: "no_change", rule };
  }
  return finish(ctx, budget.desired, budget.reason, cancelStartup && rule === "hold" ? "startup_reduction" : rule);
}

function guard(ctx: Parity161Context, desired: number) {
  const c = ctx.config;
  return guardGpuBudget(ctx.ready, desired, {
    gpusPerReplica: gpusPerReplicaFor(c, ctx.kind),
    minGpus: c.minGpuBudget,
    maxGpus: c.maxGpuBudget,
    minEndpoint: minEndpointFor(c, ctx.kind),
  });
}

/** The reason of a count against the allocation, then 1.6.1's cancel-only rule for starting replicas. */
function finish(
  ctx: Parity161Context,
  desired: number,
  budgetReason: DecisionReason | null,
  rule: DecisionRule,
): Parity161Outcome {
  const n = ctx.ready;
  let reason: DecisionReason = desired < n + ctx.pending ? "scale_down" : desired > n ? "scale_up" : "no_change";
  if (budgetReason) reason = budgetReason;
  const kept = startupReduction(desired, n, ctx.pending);
  if (kept === null) return { desired: null, reason, rule: "startup_reduction" };
  return { desired: kept, reason, rule: budgetReason ? "gpu_budget" : rule };
}
