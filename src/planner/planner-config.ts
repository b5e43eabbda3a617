/**
 * The planner's configuration: the reference's keys and defaults (PLANNER.md
 * "Configuration") plus the engine facts its formulas need, with validation that fails at
 * start with a message saying what to change.
 */
import { ConfigError } from "../util/errors.js";
import { MAX_TIMER_S, type NumberRule, optionalNumberValue } from "../util/number-option.js";
import type { ModelKind } from "./regression-model.js";

export type OptimizationTarget = "sla" | "throughput" | "latency";
/** `parity`: the reference's sampling, for one-for-one comparison; `default`: the improvements. */
export type PlannerMode = "default" | "parity";

export interface PlannerConfig {
  /** `default` or `parity`. Default `default`. */
  mode: PlannerMode;
  /** Seconds between ticks (`load_adjustment_interval`). Default 5. */
  loadAdjustmentIntervalS: number;
  /** Samples kept per model; window of every moving average (`max_num_fpm_samples`). Default 64. */
  maxNumFpmSamples: number;
  /** Total buckets, a perfect square (`fpm_sample_bucket_size`). Default 16. */
  fpmSampleBucketSize: number;
  /** Samples before a fit (`load_min_observations`). Default 5. */
  loadMinObservations: number;
  /** Percent of the SLA every engine must be under to scale down (`load_scaling_down_sensitivity`). Default 80. */
  loadScalingDownSensitivity: number;
  /** TTFT SLA in ms (`ttft`). Default 500. */
  ttftMs: number;
  /** ITL SLA in ms (`itl`). Default 50. */
  itlMs: number;
  /** Replica floor (`min_endpoint`). Default 1. */
  minEndpoint: number;
  /** GPU ceiling over the component's replicas (`max_gpu_budget`). Default 8. */
  maxGpuBudget: number;
  /** GPUs one replica uses. Default 1. */
  gpusPerReplica: number;
  /** `throughput` (default), `latency` (static thresholds) or `sla` (regression). */
  optimizationTarget: OptimizationTarget;
  /** Engine's max_num_batched_tokens: chunk size of the TTFT estimate (needed by sla prefill/agg). */
  maxNumBatchedTokens?: number;
  /** Engine's context length (needed by throughput/latency prefill). */
  contextLength?: number;
  /** Engine's KV cache capacity in tokens (needed by throughput/latency decode/agg). */
  maxKvTokens?: number;
  /** False turns load scaling off (every tick says `disabled`). Default true. */
  enableLoadScaling: boolean;
  /** Default mode: iterations of a new or restarted engine that are not samples. Default 10. */
  coldStartIterations: number;
}

export const DEFAULT_PLANNER_CONFIG: PlannerConfig = {
  mode: "default",
  loadAdjustmentIntervalS: 5,
  maxNumFpmSamples: 64,
  fpmSampleBucketSize: 16,
  loadMinObservations: 5,
  loadScalingDownSensitivity: 80,
  ttftMs: 500,
  itlMs: 50,
  minEndpoint: 1,
  maxGpuBudget: 8,
  gpusPerReplica: 1,
  optimizationTarget: "throughput",
  enableLoadScaling: true,
  coldStartIterations: 10,
};

type NumericField = {
  [K in keyof PlannerConfig]-?: PlannerConfig[K] extends number | undefined ? K : never;
}[keyof PlannerConfig];

const POSITIVE: NumberRule = { min: 0, above: true };
const POSITIVE_INTEGER: NumberRule = { integer: true, min: 1 };

/**
 * Every numeric setting: its config key (the name in messages) and its range, used for
 * flags, config files and library callers alike (through util/number-option.ts).
 */
export const PLANNER_NUMBER_RULES: Record<NumericField, { key: string; rule: NumberRule }> = {
  // A timer (setInterval): more than 0, at most what Node's timers hold.
  loadAdjustmentIntervalS: { key: "load_adjustment_interval", rule: { min: 0, above: true, max: MAX_TIMER_S } },
  maxNumFpmSamples: { key: "max_num_fpm_samples", rule: POSITIVE_INTEGER },
  fpmSampleBucketSize: { key: "fpm_sample_bucket_size", rule: POSITIVE_INTEGER },
  loadMinObservations: { key: "load_min_observations", rule: POSITIVE_INTEGER },
  loadScalingDownSensitivity: { key: "load_scaling_down_sensitivity", rule: { integer: true, min: 0, max: 100 } },
  ttftMs: { key: "ttft", rule: POSITIVE },
  itlMs: { key: "itl", rule: POSITIVE },
  minEndpoint: { key: "min_endpoint", rule: POSITIVE_INTEGER },
  maxGpuBudget: { key: "max_gpu_budget", rule: POSITIVE_INTEGER },
  gpusPerReplica: { key: "gpus_per_replica", rule: POSITIVE_INTEGER },
  maxNumBatchedTokens: { key: "max_num_batched_tokens", rule: POSITIVE_INTEGER },
  contextLength: { key: "context_length", rule: POSITIVE_INTEGER },
  maxKvTokens: { key: "max_kv_tokens", rule: POSITIVE_INTEGER },
  coldStartIterations: { key: "cold_start_iterations", rule: { integer: true, min: 0 } },
};

/** Merges `partial` over the defaults and validates; throws ConfigError saying what to change. */
export function resolvePlannerConfig(partial: Partial<PlannerConfig> = {}): PlannerConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c: PlannerConfig = { ...DEFAULT_PLANNER_CONFIG, ...defined };
  if (c.mode !== "default" && c.mode !== "parity")
    throw new ConfigError(`mode must be default or parity, got ${c.mode}`);
  if (!["sla", "throughput", "latency"].includes(c.optimizationTarget)) {
    throw new ConfigError(`optimization_target must be sla, throughput or latency, got ${c.optimizationTarget}`);
  }
  for (const [field, { key, rule }] of Object.entries(PLANNER_NUMBER_RULES))
    optionalNumberValue(c[field as NumericField], key, rule);
  const root = Math.round(Math.sqrt(c.fpmSampleBucketSize));
  if (root * root !== c.fpmSampleBucketSize) {
    throw new ConfigError(
      `fpm_sample_bucket_size must be a perfect square (2-D models use its root per axis), got ${c.fpmSampleBucketSize}; try ${root * root || 1}`,
    );
  }
  if (c.minEndpoint * c.gpusPerReplica > c.maxGpuBudget) {
    throw new ConfigError(
      `min_endpoint (${c.minEndpoint}) x gpus_per_replica (${c.gpusPerReplica}) exceeds max_gpu_budget (${c.maxGpuBudget}); raise the budget or lower the floor`,
    );
  }
  return c;
}

/** Checks that the engine facts a component's formulas need are configured. */
export function checkComponentRequirements(c: PlannerConfig, kind: ModelKind): void {
  if (c.optimizationTarget === "sla") {
    if (kind !== "decode" && c.maxNumBatchedTokens === undefined) {
      throw new ConfigError(
        `optimization_target sla on a ${kind} component needs max_num_batched_tokens (the engine's --max-num-batched-tokens)`,
      );
    }
    return;
  }
  if (kind === "prefill" && c.contextLength === undefined) {
    throw new ConfigError(
      `optimization_target ${c.optimizationTarget} on a prefill component needs context_length (the engine's max model length)`,
    );
  }
  if (kind !== "prefill" && c.maxKvTokens === undefined) {
    throw new ConfigError(
      `optimization_target ${c.optimizationTarget} on a ${kind} component needs max_kv_tokens (the engine's KV cache capacity in tokens)`,
    );
  }
}
