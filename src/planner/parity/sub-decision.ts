/** What one of Dynamo 1.6.1's per-component rules hands back, and the tick state the rules read. */
import type { EngineLatest } from "../component-planner.js";
import type { DecisionReason, DecisionRule, EngineEstimate } from "../decision.js";
import type { PlannerConfig } from "../planner-config.js";
import type { ModelKind } from "../regression-model.js";
import type { EnginePerfEstimate } from "./perf-estimate.js";

export interface Parity161Context {
  kind: ModelKind;
  config: PlannerConfig;
  /** Live engines, latest FPM each. */
  engines: readonly EngineLatest[];
  /** Per-engine record, index-aligned with `engines`; the rules fill in what they estimate. */
  estimates: EngineEstimate[];
  ready: number;
  pending: number;
  /** sla only. */
  perf?: EnginePerfEstimate;
  /** Last prefix-cache hit rate seen (0..1); undefined: no discount. */
  kvHitRate?: number;
  /** Speculative accept length, already clamped to [1, speculative_nextn + 1]. */
  acceptLength: number;
}

/**
 * A rule's answer, as 1.6.1's sub-decisions give it: a count or none (hold), the reason it
 * set (1.6.1's diagnostic field; null when it sets none), the rule that decided, and
 * whether a consolidation check refused a scale-down.
 */
export interface SubDecision {
  desired: number | null;
  reason: DecisionReason | null;
  rule: DecisionRule;
  refused?: boolean;
}

/** Writes a group's estimate onto each of its engines' records. */
export function annotate(
  ctx: Parity161Context,
  group: readonly { workerId: string; dpRank: number }[],
  values: Partial<EngineEstimate>,
): void {
  for (const f of group) {
    const i = ctx.engines.findIndex((e) => e.workerId === f.workerId && e.dpRank === f.dpRank);
    if (i >= 0) Object.assign(ctx.estimates[i], values);
  }
}
