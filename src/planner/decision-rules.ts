/**
 * The reference's decision rules before Dynamo 1.6 (docs/design/planner-algorithm.md section 7), used by the
 * default mode and by parity mode's `pre-1.6` rules, as pure functions of estimates or load
 * ratios: no state, no I/O, so every branch is unit-testable. Dynamo 1.6.1's rules are in
 * parity/.
 */
import type { DecisionRule } from "./decision.js";
import type { OptimizationTarget, PlannerConfig } from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";

/** One rule's verdict: a new count and the rule that set it, or no change. */
export type RuleVerdict = { desired: number; rule: DecisionRule } | null;

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
  if (estimatesMs.every((t) => t > slaMs)) return { desired: n + 1, rule: "sla_every_engine_above" };
  const sensitivity = sensitivityPercent / 100;
  if (n > 1 && estimatesMs.every((t) => t < slaMs * sensitivity))
    return { desired: Math.max(n - 1, minEndpoint), rule: "sla_every_engine_under_sensitivity" };
  return null;
}

/** Agg in `sla`: up if either TTFT or ITL says up; down only if both say down. */
export function combineAggVerdicts(ttft: RuleVerdict, itl: RuleVerdict, n: number): RuleVerdict {
  if (ttft && ttft.desired > n) return ttft;
  if (itl && itl.desired > n) return itl;
  if (ttft && itl && ttft.desired < n && itl.desired < n)
    return { desired: Math.max(ttft.desired, itl.desired), rule: "sla_every_engine_under_sensitivity" };
  return null;
}

export interface Thresholds {
  up: number;
  down: number;
  /** Prefill compares `>= up` and, in latency, `<= down`; decode and agg use `> up` and `< down`. */
  upInclusive: boolean;
  downInclusive: boolean;
}

/**
 * The static thresholds (docs/design/planner-algorithm.md section 7); `load` takes the config's four thresholds
 * (prefill on raw queued tokens, decode and agg on KV use), compared inclusively.
 */
export function thresholdsFor(
  kind: ModelKind,
  target: Exclude<OptimizationTarget, "sla">,
  c?: Pick<
    PlannerConfig,
    "prefillScaleUpQueueTokens" | "prefillScaleDownQueueTokens" | "decodeScaleUpKvRate" | "decodeScaleDownKvRate"
  >,
): Thresholds {
  if (target === "load") {
    const both = { upInclusive: true, downInclusive: true };
    return kind === "prefill"
      ? { up: c?.prefillScaleUpQueueTokens ?? Infinity, down: c?.prefillScaleDownQueueTokens ?? -Infinity, ...both }
      : {
          up: (c?.decodeScaleUpKvRate ?? Infinity) / 100,
          down: (c?.decodeScaleDownKvRate ?? -Infinity) / 100,
          ...both,
        };
  }
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
  if (ratios.some((r) => (t.upInclusive ? r >= t.up : r > t.up)))
    return { desired: n + 1, rule: "threshold_any_engine_above" };
  if (n > 1 && ratios.every((r) => (t.downInclusive ? r <= t.down : r < t.down)))
    return { desired: Math.max(n - 1, minEndpoint), rule: "threshold_every_engine_under" };
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
  const ceiling = maxGpuBudget < 0 ? Infinity : Math.floor(maxGpuBudget / gpusPerReplica);
  const budgetCapped = d > ceiling;
  if (budgetCapped) d = ceiling;
  return { desired: d, budgetCapped };
}
