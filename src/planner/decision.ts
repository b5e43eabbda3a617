/** What one tick of one component decides, and the record the CLI writes for it. */
import type { OptimizationTarget, ParityRules, PlannerMode } from "./planner-config.js";
import type { FitStatus, ModelKind } from "./regression-model.js";

/**
 * Why a tick decided what it did. Gates (the tick stops): `disabled`, `scaling_in_progress`
 * (an earlier scale has not completed and no replica is starting; Dynamo 1.6.1's name, which
 * replaced `scale_in_progress`), `no_fpm_data`, `worker_count_mismatch`, `insufficient_data`
 * (too few samples or a needed engine fact missing), `fit_rejected` (a negative
 * coefficient). Outcomes: `scale_up`, `scale_down`, `no_change`, `idle_scale_down` (default
 * mode: every engine idle for a whole interval), `max_gpu_budget` (the budget cut the
 * count), and in parity mode with Dynamo 1.6.1's rules: `scale_down_refused_consolidation`
 * (the survivors would miss the SLA or overflow the KV cache), `pending_replicas` (a scale-up
 * waits for the replicas still starting), `gpu_budget_guard_hold` and `gpu_budget_reconcile`
 * (1.6.1's GPU band).
 */
export const DECISION_REASONS = [
  "disabled",
  "scaling_in_progress",
  "no_fpm_data",
  "worker_count_mismatch",
  "insufficient_data",
  "fit_rejected",
  "scale_up",
  "scale_down",
  "no_change",
  "idle_scale_down",
  "max_gpu_budget",
  "scale_down_refused_consolidation",
  "pending_replicas",
  "gpu_budget_guard_hold",
  "gpu_budget_reconcile",
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

/**
 * The rule that decided, named in every record. Gates name themselves (`gate`); the rest:
 * - `sla_every_engine_above`: every estimate above the SLA (scale up by one);
 * - `sla_every_engine_under_sensitivity`: pre-1.6 scale-down (every estimate under SLA x sensitivity);
 * - `sla_consolidation`: 1.6.1 scale-down judged on what n-1 replicas would see;
 * - `agg_decode_only_fallback`: 1.6.1 agg, TTFT unavailable, the decode side alone scales down;
 * - `threshold_any_engine_above` / `threshold_every_engine_under`: the static thresholds;
 * - `threshold_consolidation_guard`: 1.6.1 keeps the replicas because the survivors would cross the up threshold;
 * - `startup_reduction`: 1.6.1 with replicas starting: no scale-up; a reduction cancels starting replicas;
 * - `idle`: default mode's idle step-down (throughput, latency and load targets);
 * - default mode, sla target (default-policy.ts): `demand_scale_up` (the replicas the demand and
 *   backlog need, in one step), `worst_engine_overload` (one engine preempts or its queue grows
 *   while the aggregate looks fine: one more), `predictive_scale_down` (to the largest need of
 *   the stabilization window, predicted to meet every limit), `stabilization_window` (fewer
 *   would do now, not over the whole window), `scale_down_refused_backlog` (requests are
 *   queued), `capacity_starting` (replicas are starting: no scale-down until they are ready);
 * - `gpu_budget`: the GPU budget set the count;
 * - `hold`: nothing asked for a change.
 */
export const DECISION_RULES = [
  "gate",
  "sla_every_engine_above",
  "sla_every_engine_under_sensitivity",
  "sla_consolidation",
  "agg_decode_only_fallback",
  "threshold_any_engine_above",
  "threshold_every_engine_under",
  "threshold_consolidation_guard",
  "startup_reduction",
  "idle",
  "demand_scale_up",
  "worst_engine_overload",
  "predictive_scale_down",
  "stabilization_window",
  "scale_down_refused_backlog",
  "capacity_starting",
  "gpu_budget",
  "hold",
] as const;
export type DecisionRule = (typeof DECISION_RULES)[number];

/** Against the allocation (ready + starting replicas). */
export const DECISION_DIRECTIONS = ["up", "down", "hold"] as const;
export type DecisionDirection = (typeof DECISION_DIRECTIONS)[number];

/** The limit that set the default policy's need: utilisation, ITL, TTFT or KV use. */
export const PREDICTION_LIMITS = ["utilization", "itl", "ttft", "kv"] as const;
export type PredictionLimit = (typeof PREDICTION_LIMITS)[number];

/** Per-engine view at the tick: estimates in ms (sla) or load ratio (throughput/latency/load). */
export interface EngineEstimate {
  workerId: string;
  dpRank: number;
  /** Estimated TTFT of the next request, ms; prefill and agg, when the model is fitted. */
  ttftMs?: number;
  /** Estimated ITL of the next step, ms; decode and agg, when the model is fitted. */
  itlMs?: number;
  /** The threshold rule's value: queue ratio or KV utilisation (load target on prefill: queued tokens). */
  loadRatio?: number;
  /** 1.6.1 sla: TTFT this engine's group would see with the load of n-1 replicas (ms). */
  consolidatedTtftMs?: number;
  /** 1.6.1 sla: ITL this engine's group would see with the load of n-1 replicas (ms). */
  consolidatedItlMs?: number;
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

/**
 * Default mode (sla target): the figures the decision used. Demand is work in
 * engine-seconds per second (fitted per-token costs; the per-iteration intercept excluded);
 * the `*AtDesired` figures are predicted per engine with the demand spread over `desired`
 * replicas (ttftMsAtDesired stands for the SLA's tail).
 */
export interface PredictedFigures {
  demand: number;
  /** Queued work, engine-seconds. */
  backlogS: number;
  requestRate: number;
  /** Mean prompt tokens per request (from requests, not chunks). */
  promptTokens: number;
  /** Fewest replicas meeting every limit at this demand, and with the backlog drained in time. */
  replicasNeeded: number;
  replicasWithBacklog: number;
  /** The limit that set replicasNeeded (utilization, itl, ttft, kv), or null. */
  limitedBy: PredictionLimit | null;
  /** Largest need over the stabilization window, and the window's length now (s). */
  windowReplicas: number;
  windowS: number;
  utilizationAtDesired: number;
  ttftMsAtDesired: number;
  itlMsAtDesired: number;
  /** Share of the KV cache; null when max_kv_tokens is unknown. */
  kvUseAtDesired: number | null;
}

export interface PlannerDecision {
  /** ISO time of the tick. */
  time: string;
  component: string;
  kind: ModelKind;
  mode: PlannerMode;
  /** Parity mode: which reference's rules decided. */
  parityRules?: ParityRules;
  target: OptimizationTarget;
  /** Replicas ready now (from the connector). */
  replicas: number;
  /** Replicas still starting, when the connector knows (counted with `replicas` as the allocation). */
  pending?: number;
  /** Replicas wanted; on a hold, the allocation unchanged (`replicas` + `pending`). */
  desired: number;
  /** Against the allocation (`replicas` + `pending`). */
  direction: DecisionDirection;
  reason: DecisionReason;
  rule: DecisionRule;
  /** Advisory mode: recorded, not handed to the connector. */
  advisory?: boolean;
  engines: EngineEstimate[];
  model: ModelSummary;
  /** Default mode, sla target: the figures the policy used. */
  predicted?: PredictedFigures;
}
