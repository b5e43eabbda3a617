/** What one tick of one component decides, and the record the CLI writes for it. */
import type { FitStatus, ModelKind } from "./regression-model.js";
import type { OptimizationTarget, PlannerMode } from "./planner-config.js";

/**
 * Why a tick decided what it did. Gates (the tick stops): `disabled`, `scale_in_progress`,
 * `no_fpm_data`, `worker_count_mismatch`, `insufficient_data` (too few samples or a needed
 * engine fact missing), `fit_rejected` (a negative coefficient). Outcomes: `scale_up`,
 * `scale_down`, `no_change`, `idle_scale_down` (default mode: every engine idle for a
 * whole interval), `max_gpu_budget` (the budget cut the count).
 */
export type DecisionReason =
  | "disabled"
  | "scale_in_progress"
  | "no_fpm_data"
  | "worker_count_mismatch"
  | "insufficient_data"
  | "fit_rejected"
  | "scale_up"
  | "scale_down"
  | "no_change"
  | "idle_scale_down"
  | "max_gpu_budget";

export const DECISION_REASONS: readonly DecisionReason[] = [
  "disabled",
  "scale_in_progress",
  "no_fpm_data",
  "worker_count_mismatch",
  "insufficient_data",
  "fit_rejected",
  "scale_up",
  "scale_down",
  "no_change",
  "idle_scale_down",
  "max_gpu_budget",
];

export type DecisionDirection = "up" | "down" | "hold";

/** Per-engine view at the tick: estimates in ms (sla) or load ratio (throughput/latency). */
export interface EngineEstimate {
  workerId: string;
  dpRank: number;
  /** Estimated TTFT of the next request, ms; prefill and agg, when the model is fitted. */
  ttftMs?: number;
  /** Estimated ITL of the next step, ms; decode and agg, when the model is fitted. */
  itlMs?: number;
  /** The throughput/latency rule's ratio (queue or KV utilisation). */
  loadRatio?: number;
}

export interface ModelSummary {
  status: FitStatus;
  intercept: number | null;
  coef: number[] | null;
  /** Samples kept now. */
  samples: number;
  /** Samples added since start (retired ones included). */
  samplesAdded: number;
}

export interface PlannerDecision {
  /** ISO time of the tick. */
  time: string;
  component: string;
  kind: ModelKind;
  mode: PlannerMode;
  target: OptimizationTarget;
  /** Replicas now (from the connector). */
  replicas: number;
  /** Replicas wanted; equals `replicas` when the tick holds. */
  desired: number;
  direction: DecisionDirection;
  reason: DecisionReason;
  engines: EngineEstimate[];
  model: ModelSummary;
}
