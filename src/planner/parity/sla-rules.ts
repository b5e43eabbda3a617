/**
 * Dynamo 1.6.1's `sla` rules for one component: scale up by one when every engine's
 * estimate is above the SLA; scale down by one only when the consolidation check passes on
 * every engine group, i.e. what the survivors would see with the load of N replicas on N-1:
 * - prefill: TTFT re-predicted with the queue x N/(N-1); its queue-induced part (above the
 *   new request's own prefill time T_own) must stay under (ttft_ms - T_own) x sensitivity;
 * - decode: (scheduled + queued KV) x N/(N-1) must fit max_kv_tokens, and the ITL at that KV
 *   must stay under itl_ms x sensitivity;
 * - agg: both, the decode KV scaled too, queued prefill counted as KV to come.
 * A refused check says `scale_down_refused_consolidation`. With replicas starting the
 * check runs even on one ready worker (the reduction cancels starting replicas).
 */
import { minEndpointFor } from "../planner-config.js";
import type { Parity161Context, SubDecision } from "./sub-decision.js";
import { annotate } from "./sub-decision.js";

/** 1.6.1's `_scale_decision`: every estimate above the SLA -> up; a passed consolidation check -> down. */
export function scaleDecision161(
  estimatesMs: readonly number[],
  slaMs: number,
  n: number,
  minEndpoint: number,
  canScaleDown: boolean,
): SubDecision {
  if (estimatesMs.length === 0) return { desired: null, reason: "insufficient_data", rule: "gate" };
  if (estimatesMs.every((t) => t > slaMs)) return { desired: n + 1, reason: null, rule: "sla_every_engine_above" };
  if (canScaleDown) return { desired: Math.max(n - 1, minEndpoint), reason: null, rule: "sla_consolidation" };
  return { desired: null, reason: "no_change", rule: "hold" };
}

const refusedOr = (d: SubDecision, refused: boolean): SubDecision =>
  d.desired === null && refused
    ? { ...d, reason: "scale_down_refused_consolidation", rule: "sla_consolidation", refused }
    : { ...d, refused };

/** The gates every sla rule starts with: data enough, a fit, a worker. */
function notReady(ctx: Parity161Context): SubDecision | null {
  const m = ctx.perf?.model;
  if (!m?.hasSufficientData()) return { desired: null, reason: "insufficient_data", rule: "gate" };
  if (!m.ensureFitted()) return { desired: null, reason: "fit_rejected", rule: "gate" };
  if (ctx.ready === 0) return { desired: null, reason: "insufficient_data", rule: "gate" };
  return null;
}

const consolidation = (n: number) => (n > 1 ? n / (n - 1) : 1);

export function prefillSla161(ctx: Parity161Context): SubDecision {
  const gate = notReady(ctx);
  if (gate) return gate;
  if (!ctx.config.maxNumBatchedTokens) return { desired: null, reason: "insufficient_data", rule: "gate" };
  return prefillSide(ctx, false);
}

/** Shared by prefill and agg-prefill: the TTFT estimate and the queue-induced consolidation check. */
function prefillSide(ctx: Parity161Context, agg: boolean): SubDecision {
  const c = ctx.config;
  const perf = ctx.perf!;
  const n = ctx.ready;
  const sens = c.loadScalingDownSensitivity / 100;
  const scale = consolidation(n);
  const kv = ctx.kvHitRate;
  // Agg survivors also inherit the decode KV, scheduled and queued.
  const after = agg ? { kvHitRate: kv, decodeScale: scale, includeQueuedDecode: true } : { kvHitRate: kv };
  const estimates: number[] = [];
  let canDown = n > 1 || ctx.pending > 0;
  let refused = false;
  for (const group of perf.groups(ctx.engines)) {
    const est = perf.queuedPrefillTime(group, { kvHitRate: kv });
    if (est !== null) {
      estimates.push(est * 1000);
      annotate(ctx, group, { ttftMs: est * 1000 });
    }
    if (!canDown) continue;
    // The new request's own prefill time does not shrink with more workers: only the queue's part is budgeted.
    const own = perf.queuedPrefillTime(group, { ...after, queueScale: 0 });
    if (own === null) {
      canDown = false;
      continue;
    }
    const ownMs = own * 1000;
    const budgetMs = (c.ttftMs - ownMs) * sens;
    if (budgetMs <= 0) {
      canDown = false;
      refused = true;
      continue;
    }
    const post = perf.queuedPrefillTime(group, { ...after, queueScale: scale });
    if (post === null) canDown = false;
    else {
      annotate(ctx, group, { consolidatedTtftMs: post * 1000 });
      if (post * 1000 - ownMs >= budgetMs) {
        canDown = false;
        refused = true;
      }
    }
  }
  return refusedOr(scaleDecision161(estimates, c.ttftMs, n, minEndpointFor(c, ctx.kind), canDown), refused);
}

/** Largest value of `pick` over a group's ranks (the most loaded rank speaks for the worker). */
const most = <T>(group: readonly T[], pick: (f: T) => number) => Math.max(...group.map(pick));

/** Shared by decode and agg-decode: the ITL estimate and the KV/SLA consolidation checks. */
function decodeSide(ctx: Parity161Context, agg: boolean): SubDecision {
  const c = ctx.config;
  const perf = ctx.perf!;
  const n = ctx.ready;
  const sens = c.loadScalingDownSensitivity / 100;
  const scale = consolidation(n);
  const maxKv = c.maxKvTokens;
  const accept = ctx.acceptLength;
  const estimates: number[] = [];
  let canDown = n > 1 || ctx.pending > 0;
  let refused = false;
  for (const group of perf.groups(ctx.engines)) {
    const est = perf.scheduledDecodeItl(group, { includeQueuedDecode: true });
    if (est !== null) {
      estimates.push((est * 1000) / accept);
      annotate(ctx, group, { itlMs: (est * 1000) / accept });
    }
    if (!canDown) continue;
    const kv =
      most(group, (f) => f.scheduledRequests.sumDecodeKvTokens) +
      most(group, (f) => f.queuedRequests.sumDecodeKvTokens) +
      (agg ? most(group, (f) => f.queuedRequests.sumPrefillTokens) : 0);
    // Past the cache the engine queues and evicts: a regime no model predicts, so refuse outright.
    if (maxKv !== undefined && Math.trunc(kv * scale) >= maxKv) {
      canDown = false;
      refused = true;
      continue;
    }
    const post = perf.scheduledDecodeItl(group, {
      decodeScale: scale,
      includeQueuedDecode: true,
      includeQueuedPrefillAsKv: agg,
    });
    if (post === null) canDown = false;
    else {
      annotate(ctx, group, { consolidatedItlMs: (post * 1000) / accept });
      if ((post * 1000) / accept >= c.itlMs * sens) {
        canDown = false;
        refused = true;
      }
    }
  }
  return refusedOr(scaleDecision161(estimates, c.itlMs, n, minEndpointFor(c, ctx.kind), canDown), refused);
}

export function decodeSla161(ctx: Parity161Context): SubDecision {
  return notReady(ctx) ?? decodeSide(ctx, false);
}

/** Agg TTFT side. A refusal answers the ready count, not "no signal", so the decode side cannot scale down alone. */
export function aggPrefillSla161(ctx: Parity161Context): SubDecision {
  const d = prefillSide(ctx, true);
  return d.desired === null && d.refused ? { ...d, desired: ctx.ready } : d;
}

/** Agg ITL side (same refusal convention as the TTFT side). */
export function aggDecodeSla161(ctx: Parity161Context): SubDecision {
  const d = decodeSide(ctx, true);
  return d.desired === null && d.refused ? { ...d, desired: ctx.ready } : d;
}

/** The readiness gates of the agg rule (checked once, before both sides). */
export function aggNotReady(ctx: Parity161Context): SubDecision | null {
  return notReady(ctx);
}
