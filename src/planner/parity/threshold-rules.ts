/**
 * Dynamo 1.6.1's static-threshold rules (`throughput`, `latency`, `load`) for one component:
 * up by one when any engine is above the up threshold, down by one when every engine is
 * under the down threshold (n > 1, or replicas are starting), and the anti-oscillation
 * guard: a scale-down keeps the ready replicas when the survivors would carry
 * `max(value) x ready / desired >= up`. `load` compares inclusively (`>= up`, `<= down`) on
 * raw queued prefill tokens and on KV use in percent.
 */
import { minEndpointFor } from "../planner-config.js";
import type { SubDecision, Parity161Context } from "./sub-decision.js";

/** 1.6.1's constants: prefill on queued tokens / context length, decode and agg on KV use. */
export const THRESHOLDS_161 = {
  prefill: { throughput: { up: 1.0, down: 0.1 }, latency: { up: 0.1, down: 0.0 } },
  decode: { throughput: { up: 1.0, down: 0.6 }, latency: { up: 0.4, down: 0.1 } },
} as const;

/** Keeps `ready` when spreading the engines' load over `desired` replicas would reach the up threshold. */
export function consolidationSafeTarget(desired: number, ready: number, values: readonly number[], up: number): number {
  if (desired > 0 && desired < ready && (Math.max(...values) * ready) / desired >= up) return ready;
  return desired;
}

export function thresholdDecision161(ctx: Parity161Context): SubDecision {
  const { kind, config: c, engines, ready: n, pending } = ctx;
  const target = c.optimizationTarget;
  const isLoad = target === "load";
  const insufficient: SubDecision = { desired: null, reason: "insufficient_data", rule: "gate" };
  let up: number;
  let down: number;
  const values: number[] = [];
  if (kind === "prefill") {
    if (n === 0) return insufficient;
    if (isLoad) {
      up = c.prefillScaleUpQueueTokens!;
      down = c.prefillScaleDownQueueTokens!;
      for (const e of engines) values.push(e.fpm.queuedRequests.sumPrefillTokens);
    } else {
      if (!c.contextLength) return insufficient;
      ({ up, down } = THRESHOLDS_161.prefill[target === "latency" ? "latency" : "throughput"]);
      for (const e of engines) values.push(e.fpm.queuedRequests.sumPrefillTokens / c.contextLength);
    }
  } else {
    const maxKv = c.maxKvTokens;
    if (!maxKv || n === 0) return insufficient;
    if (isLoad) {
      up = c.decodeScaleUpKvRate! / 100;
      down = c.decodeScaleDownKvRate! / 100;
    } else ({ up, down } = THRESHOLDS_161.decode[target === "latency" ? "latency" : "throughput"]);
    for (const e of engines) {
      const s = e.fpm.scheduledRequests;
      const q = e.fpm.queuedRequests;
      const kv = s.sumDecodeKvTokens + q.sumDecodeKvTokens + (kind === "agg" ? q.sumPrefillTokens : 0);
      values.push(kv / maxKv);
    }
  }
  for (let i = 0; i < values.length; i++) ctx.estimates[i].loadRatio = values[i];
  if (values.length === 0) return insufficient;
  // Prefill scales up at `>=` in every target; decode and agg only under `load`.
  const inclusiveUp = kind === "prefill" || isLoad;
  if (values.some((v) => (inclusiveUp ? v >= up : v > up)))
    return { desired: n + 1, reason: null, rule: "threshold_any_engine_above" };
  const inclusiveDown = isLoad || (kind === "prefill" && target === "latency");
  const allDown = values.every((v) => (inclusiveDown ? v <= down : v < down));
  if ((n > 1 || pending > 0) && allDown) {
    const desired = Math.max(n - 1, minEndpointFor(c, kind));
    const safe = consolidationSafeTarget(desired, n, values, up);
    return {
      desired: safe,
      reason: null,
      rule: safe === desired ? "threshold_every_engine_under" : "threshold_consolidation_guard",
    };
  }
  return { desired: null, reason: "no_change", rule: "hold" };
}
