/**
 * The reference's decision rules (PLANNER.md "Decisions") as pure functions of estimates
 * or load ratios: no state, no I/O, so every branch is unit-testable.
 */
import type { OptimizationTarget } from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";

/** One rule's verdict: a new count, or no change. */
export type RuleVerdict = { desired: number } | null;

/**
 * `sla` rule on one metric: up by one if every estimate is above the SLA; down by one
 * (not below `minEndpoint`) if n > 1 and every estimate is under SLA x sensitivity.
 */
export function slaVerdict(
  estimatesMs: readonly number[],
  slaMs: number,
  sensitivityPercent: number,
  n: number,
  minEndpoint: number,
): RuleVerdict {
  if (estimatesMs.length === 0) return null;
  if (estimatesMs.every((t) => t > slaMs)) return { desired: n + 1 };
  const sensitivity = sensitivityPercent / 100;
  if (n > 1 && estimatesMs.every((t) => t < slaMs * sensitivity)) return { desired: Math.max(n - 1, minEndpoint) };
  return null;
}

/** Agg in `sla`: up if either TTFT or ITL says up; down only if both say down. */
export function combineAggVerdicts(ttft: RuleVerdict, itl: RuleVerdict, n: number): RuleVerdict {
  if (ttft && ttft.desired > n) return ttft;
  if (itl && itl.desired > n) return itl;
  if (ttft && itl && ttft.desired < n && itl.desired < n) return { desired: Math.max(ttft.desired, itl.desired) };
  return null;
}

export interface Thresholds {
  up: number;
  down: number;
  /** Prefill compares `>= up` and, in latency, `<= down`; decode and agg use `> up` and `< down`. */
  upInclusive: boolean;
  downInclusive: boolean;
}

/** The static thresholds of `throughput` and `latency` (PLANNER.md table). */
export function thresholdsFor(kind: ModelKind, target: Exclude<OptimizationTarget, "sla">): Thresholds {
  if (kind === "prefill") {
    return target === "throughput"
      ? { up: 1.0, down: 0.1, upInclusive: true, downInclusive: false }
      : { up: 0.1, down: 0.0, upInclusive: true, downInclusive: true };
  }
  return target === "throughput"
    ? { up: 1.0, down: 0.6, upInclusive: false, downInclusive: false }
    : { up: 0.4, down: 0.1, upInclusive: false, downInclusive: false };
}

/** `throughput` / `latency`: up by one if any engine is above, down by one if all are below and n > 1. */
export function thresholdVerdict(
  ratios: readonly number[],
  t: Thresholds,
  n: number,
  minEndpoint: number,
): RuleVerdict {
  if (ratios.length === 0) return null;
  if (ratios.some((r) => (t.upInclusive ? r >= t.up : r > t.up))) return { desired: n + 1 };
  if (n > 1 && ratios.every((r) => (t.downInclusive ? r <= t.down : r < t.down)))
    return { desired: Math.max(n - 1, minEndpoint) };
  return null;
}

/**
 * Final clamp: at least `minEndpoint`, and at most what `maxGpuBudget` allows. Returns the
 * count and whether the budget cut it.
 */
export function clampReplicas(
  desired: number,
  minEndpoint: number,
  maxGpuBudget: number,
  gpusPerReplica: number,
): { desired: number; budgetCapped: boolean } {
  let d = Math.max(desired, minEndpoint);
  const ceiling = Math.floor(maxGpuBudget / gpusPerReplica);
  const budgetCapped = d > ceiling;
  if (budgetCapped) d = ceiling;
  return { desired: d, budgetCapped };
}
