/**
 * The planner's configuration: Dynamo 1.6.1's planner keys and defaults
 * (docs/design/planner-algorithm.md section 1, docs/design/planner-parity.md "Configuration
 * keys") plus the engine facts its formulas need,
 * with validation that fails at start with a message saying what to change. Which file key
 * sets which field, and which 1.6.1 keys fpm only names in a warning, is in
 * planner-config-keys.ts.
 */
import { ConfigError } from "../util/errors.js";
import { MAX_TIMER_S, optionalNumberValue } from "../util/number-option.js";
import type { ModelKind } from "./regression-model.js";

export const OPTIMIZATION_TARGETS = ["throughput", "latency", "load", "sla"] as const;
export type OptimizationTarget = (typeof OPTIMIZATION_TARGETS)[number];
/** `parity`: the reference's sampling and rules, for one-for-one comparison; `default`: the improvements. */
export const PLANNER_MODES = ["default", "parity"] as const;
export type PlannerMode = (typeof PLANNER_MODES)[number];
/** Which reference parity mode reproduces: Dynamo 1.6.1's rules, or the rules before 1.6 (docs/design/planner-algorithm.md section 7). */
export const PARITY_RULES = ["1.6.1", "pre-1.6"] as const;
export type ParityRules = (typeof PARITY_RULES)[number];
/** Dynamo's deployment mode (its config key `mode`): which components a planner scales. */
export const DEPLOYMENT_MODES = ["disagg", "prefill", "decode", "agg"] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

export interface PlannerConfig {
  /** `default` or `parity`. Default `default`. */
  mode: PlannerMode;
  /** Parity mode only: `1.6.1` (default) or `pre-1.6`. */
  parityRules: ParityRules;
  /** Dynamo's `mode`: sets the default components (agg: backend; disagg: prefill + backend). Unset: agg. */
  deploymentMode?: DeploymentMode;
  /** Seconds between ticks (`load_adjustment_interval_seconds`). Default 5. */
  loadAdjustmentIntervalS: number;
  /** Samples kept per model; window of every moving average (`max_num_fpm_samples`). Default 64. */
  maxNumFpmSamples: number;
  /** Total buckets, a perfect square (`fpm_sample_bucket_size`). Default 16. */
  fpmSampleBucketSize: number;
  /** Samples before a fit (`load_min_observations`). Default 5. */
  loadMinObservations: number;
  /** Percent of the SLA every engine must be under to scale down (`load_scaling_down_sensitivity`). Default 80. */
  loadScalingDownSensitivity: number;
  /** TTFT SLA in ms (`ttft_ms`). Default 500. */
  ttftMs: number;
  /** ITL SLA in ms (`itl_ms`). Default 50. */
  itlMs: number;
  /** Replica floor (`min_endpoint`); 0 allows scale to zero. Default 1. */
  minEndpoint: number;
  /** Floor of prefill components, instead of `minEndpoint` (`prefill_min_endpoint`). */
  prefillMinEndpoint?: number;
  /** Floor of decode and agg components, instead of `minEndpoint` (`decode_min_endpoint`). */
  decodeMinEndpoint?: number;
  /** GPU ceiling over the component's replicas (`max_gpu_budget`); -1: none. Default 8. */
  maxGpuBudget: number;
  /** GPU floor (`min_gpu_budget`); -1: none. Default -1. */
  minGpuBudget: number;
  /** GPUs one replica uses. Default 1. */
  gpusPerReplica: number;
  /** GPUs of one prefill replica, instead of `gpusPerReplica` (`prefill_engine_num_gpu`). */
  prefillEngineNumGpu?: number;
  /** GPUs of one decode or agg replica, instead of `gpusPerReplica` (`decode_engine_num_gpu`). */
  decodeEngineNumGpu?: number;
  /** `throughput` (default), `latency`, `load` (static thresholds) or `sla` (regression). */
  optimizationTarget: OptimizationTarget;
  /** `load`: queued prefill tokens at or above which a prefill engine asks for a replica more. */
  prefillScaleUpQueueTokens?: number;
  /** `load`: queued prefill tokens at or below which every prefill engine must be to scale down. */
  prefillScaleDownQueueTokens?: number;
  /** `load`: KV use, percent 0-100, at or above which a decode/agg engine asks for a replica more. */
  decodeScaleUpKvRate?: number;
  /** `load`: KV use, percent 0-100, at or below which every decode/agg engine must be to scale down. */
  decodeScaleDownKvRate?: number;
  /** Speculative decoding depth: the ITL discount's accept length is clamped to [1, nextn + 1]; 0: no discount. */
  speculativeNextn: number;
  /** Compute and record decisions without handing them to the connector (`advisory`). Default false. */
  advisory: boolean;
  /** Attention data-parallel ranks per worker, per kind (`ais_perf_model.roles.*.attention_dp`): 1.6.1 groups them. */
  attentionDp?: Partial<Record<ModelKind, number>>;
  /** Engine's max_num_batched_tokens: chunk size of the TTFT estimate (needed by sla prefill/agg). */
  maxNumBatchedTokens?: number;
  /** Engine's context length (needed by throughput/latency prefill). */
  contextLength?: number;
  /** Engine's KV cache capacity in tokens (needed by throughput/latency/load decode/agg). */
  maxKvTokens?: number;
  /** False turns load scaling off (every tick says `disabled`). Default true: load scaling is the loop fpm has. */
  enableLoadScaling: boolean;
  /** Default mode: iterations of a new or restarted engine that are not samples. Default 10. */
  coldStartIterations: number;
  /** Default mode (sla): seconds of past need a scale-down must respect (`scale_down_stabilization_seconds`). Default 60. */
  scaleDownStabilizationS: number;
  /** Default mode (sla): the longest the stabilization window grows to after relapses (`scale_down_stabilization_max_seconds`). Default 300. */
  scaleDownStabilizationMaxS: number;
  /** Default mode (sla): seconds within which a scale-up drains the queued work (`backlog_drain_seconds`). Default 30. */
  backlogDrainS: number;
  /** Default mode (sla): highest per-engine utilisation a replica count plans for, 0..1 (`max_utilization`). Default 0.9. */
  maxUtilization: number;
  /** Default mode (sla): highest share of the KV cache a replica count plans for, 0..1 (`kv_use_target`). Default 0.9. */
  kvUseTarget: number;
}

export const DEFAULT_PLANNER_CONFIG: PlannerConfig = {
  mode: "default",
  parityRules: "1.6.1",
  loadAdjustmentIntervalS: 5,
  maxNumFpmSamples: 64,
  fpmSampleBucketSize: 16,
  loadMinObservations: 5,
  loadScalingDownSensitivity: 80,
  ttftMs: 500,
  itlMs: 50,
  minEndpoint: 1,
  maxGpuBudget: 8,
  minGpuBudget: -1,
  gpusPerReplica: 1,
  optimizationTarget: "throughput",
  speculativeNextn: 0,
  advisory: false,
  enableLoadScaling: true,
  coldStartIterations: 10,
  scaleDownStabilizationS: 60,
  scaleDownStabilizationMaxS: 300,
  backlogDrainS: 30,
  maxUtilization: 0.9,
  kvUseTarget: 0.9,
};

/** Through the one number validator, so a library caller gets the same rules as a config file. */
function check(name: string, v: number | undefined, min: number, integer: boolean, above = false, max?: number): void {
  optionalNumberValue(v, name, { min, integer, above, max });
}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): void {
  if (!allowed.includes(v as T)) throw new ConfigError(`${name} must be ${allowed.join(", ")}; got ${v}`);
}

/** Merges `partial` over the defaults and validates; throws ConfigError saying what to change. */
export function resolvePlannerConfig(partial: Partial<PlannerConfig> = {}): PlannerConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c: PlannerConfig = { ...DEFAULT_PLANNER_CONFIG, ...defined };
  oneOf("planner_mode (--mode)", c.mode, PLANNER_MODES);
  oneOf("parity_rules", c.parityRules, PARITY_RULES);
  oneOf("optimization_target", c.optimizationTarget, OPTIMIZATION_TARGETS);
  if (c.deploymentMode !== undefined) oneOf("mode", c.deploymentMode, DEPLOYMENT_MODES);
  // A timer (setInterval): at most what Node's timers hold.
  check("load_adjustment_interval_seconds", c.loadAdjustmentIntervalS, 0, false, true, MAX_TIMER_S);
  check("max_num_fpm_samples", c.maxNumFpmSamples, 1, true);
  check("fpm_sample_bucket_size", c.fpmSampleBucketSize, 1, true);
  check("load_min_observations", c.loadMinObservations, 1, true);
  check("ttft_ms", c.ttftMs, 0, false, true);
  check("itl_ms", c.itlMs, 0, false, true);
  check("min_endpoint", c.minEndpoint, 0, true);
  check("prefill_min_endpoint", c.prefillMinEndpoint, 1, true);
  check("decode_min_endpoint", c.decodeMinEndpoint, 1, true);
  check("max_gpu_budget", c.maxGpuBudget, -1, true);
  check("min_gpu_budget", c.minGpuBudget, -1, true);
  check("gpus_per_replica", c.gpusPerReplica, 1, true);
  check("prefill_engine_num_gpu", c.prefillEngineNumGpu, 1, true);
  check("decode_engine_num_gpu", c.decodeEngineNumGpu, 1, true);
  check("max_num_batched_tokens", c.maxNumBatchedTokens, 1, true);
  check("context_length", c.contextLength, 1, true);
  check("max_kv_tokens", c.maxKvTokens, 1, true);
  check("speculative_nextn", c.speculativeNextn, 0, true);
  check("prefill_scale_up_queue_tokens", c.prefillScaleUpQueueTokens, 0, true);
  check("prefill_scale_down_queue_tokens", c.prefillScaleDownQueueTokens, 0, true);
  for (const [name, v] of [
    ["decode_scale_up_kv_rate", c.decodeScaleUpKvRate],
    ["decode_scale_down_kv_rate", c.decodeScaleDownKvRate],
  ] as const) {
    optionalNumberValue(v, `${name} (percent of KV use)`, { min: 0, max: 100 });
  }
  for (const [kind, v] of Object.entries(c.attentionDp ?? {})) check(`attention_dp of ${kind}`, v, 1, true);
  const root = Math.round(Math.sqrt(c.fpmSampleBucketSize));
  if (root * root !== c.fpmSampleBucketSize) {
    throw new ConfigError(
      `fpm_sample_bucket_size must be a perfect square (2-D models use its root per axis), got ${c.fpmSampleBucketSize}; try ${root * root || 1}`,
    );
  }
  optionalNumberValue(c.loadScalingDownSensitivity, "load_scaling_down_sensitivity", {
    integer: true,
    min: 0,
    max: 100,
  });
  check("cold_start_iterations", c.coldStartIterations, 0, true);
  check("scale_down_stabilization_seconds", c.scaleDownStabilizationS, 0, false);
  check("scale_down_stabilization_max_seconds", c.scaleDownStabilizationMaxS, 0, false);
  check("backlog_drain_seconds", c.backlogDrainS, 0, false, true);
  for (const [name, v] of [
    ["max_utilization", c.maxUtilization],
    ["kv_use_target", c.kvUseTarget],
  ] as const)
    check(name, v, 0, false, true, 1);
  if (c.scaleDownStabilizationMaxS < c.scaleDownStabilizationS)
    throw new ConfigError(
      `scale_down_stabilization_max_seconds (${c.scaleDownStabilizationMaxS}) must be at least scale_down_stabilization_seconds (${c.scaleDownStabilizationS})`,
    );
  const pairs = [
    [
      "prefill_scale_up_queue_tokens",
      c.prefillScaleUpQueueTokens,
      "prefill_scale_down_queue_tokens",
      c.prefillScaleDownQueueTokens,
    ],
    ["decode_scale_up_kv_rate", c.decodeScaleUpKvRate, "decode_scale_down_kv_rate", c.decodeScaleDownKvRate],
  ] as const;
  for (const [upName, up, downName, down] of pairs) {
    if (up !== undefined && down !== undefined && up <= down)
      throw new ConfigError(`${upName} (${up}) must be greater than ${downName} (${down})`);
  }
  if (c.deploymentMode === "agg" && (c.prefillMinEndpoint !== undefined || c.decodeMinEndpoint !== undefined))
    throw new ConfigError(
      "prefill_min_endpoint and decode_min_endpoint are not supported with mode agg; use min_endpoint",
    );
  for (const kind of ["prefill", "decode"] as const) {
    const floor = minEndpointFor(c, kind);
    const gpus = gpusPerReplicaFor(c, kind);
    if (c.maxGpuBudget >= 0 && floor * gpus > c.maxGpuBudget) {
      throw new ConfigError(
        `the ${kind} floor (${floor} replicas) x ${gpus} GPUs per replica exceeds max_gpu_budget (${c.maxGpuBudget}); raise the budget or lower the floor`,
      );
    }
  }
  return c;
}

/** The replica floor of a component: `prefill_min_endpoint` / `decode_min_endpoint` (agg: decode) or `min_endpoint`. */
export function minEndpointFor(c: PlannerConfig, kind: ModelKind): number {
  const own = kind === "prefill" ? c.prefillMinEndpoint : c.decodeMinEndpoint;
  return own ?? c.minEndpoint;
}

/** GPUs one replica of the component uses: `prefill_engine_num_gpu` / `decode_engine_num_gpu` or `gpus_per_replica`. */
export function gpusPerReplicaFor(c: PlannerConfig, kind: ModelKind): number {
  const own = kind === "prefill" ? c.prefillEngineNumGpu : c.decodeEngineNumGpu;
  return own ?? c.gpusPerReplica;
}

/** Components a Dynamo `mode` scales, with Dynamo's component names (prefill: `prefill`, decode and agg: `backend`). */
export function componentsForDeploymentMode(mode: DeploymentMode): string[] {
  switch (mode) {
    case "disagg":
      return ["prefill:prefill", "backend:decode"];
    case "prefill":
      return ["prefill:prefill"];
    case "decode":
      return ["backend:decode"];
    case "agg":
      return ["backend:agg"];
  }
}

/** Checks that the engine facts a component's formulas need are configured. */
export function checkComponentRequirements(c: PlannerConfig, kind: ModelKind): void {
  const target = c.optimizationTarget;
  if (target === "sla") {
    // Dynamo 1.6.1's agg rule has a fallback for a missing chunk size (decode alone may scale down).
    const aggFallback = kind === "agg" && c.mode === "parity" && c.parityRules === "1.6.1";
    if (kind !== "decode" && c.maxNumBatchedTokens === undefined && !aggFallback) {
      throw new ConfigError(
        `optimization_target sla on a ${kind} component needs max_num_batched_tokens (the engine's --max-num-batched-tokens)`,
      );
    }
    return;
  }
  if (target === "load") {
    if (
      kind === "prefill" &&
      (c.prefillScaleUpQueueTokens === undefined || c.prefillScaleDownQueueTokens === undefined)
    ) {
      throw new ConfigError(
        "optimization_target load on a prefill component needs prefill_scale_up_queue_tokens and prefill_scale_down_queue_tokens",
      );
    }
    if (kind !== "prefill" && (c.decodeScaleUpKvRate === undefined || c.decodeScaleDownKvRate === undefined)) {
      throw new ConfigError(
        `optimization_target load on a ${kind} component needs decode_scale_up_kv_rate and decode_scale_down_kv_rate (percent of KV)`,
      );
    }
    if (kind !== "prefill" && c.maxKvTokens === undefined) {
      throw new ConfigError(
        `optimization_target load on a ${kind} component needs max_kv_tokens (the engine's KV cache capacity in tokens)`,
      );
    }
    return;
  }
  if (kind === "prefill" && c.contextLength === undefined) {
    throw new ConfigError(
      `optimization_target ${target} on a prefill component needs context_length (the engine's max model length)`,
    );
  }
  if (kind !== "prefill" && c.maxKvTokens === undefined) {
    throw new ConfigError(
      `optimization_target ${target} on a ${kind} component needs max_kv_tokens (the engine's KV cache capacity in tokens)`,
    );
  }
}
