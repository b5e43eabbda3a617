/**
 * The planner config file's vocabulary: Dynamo 1.6.1's `PlannerConfig` keys (canonical name
 * and the aliases 1.6.1 accepts) mapped to the PlannerConfig field each sets, the 1.6.1 keys
 * fpm knows but does not act on (named in one warning at start), fpm's own keys, and the
 * nearest-name suggestion for a key that is none of these (a misspelling stops the start).
 */
import { MAX_TIMER_S, type NumberRule } from "../util/number-option.js";
import {
  DEPLOYMENT_MODES,
  OPTIMIZATION_TARGETS,
  PARITY_RULES,
  PLANNER_MODES,
  type PlannerConfig,
} from "./planner-config.js";

export interface ImplementedKey {
  /** Canonical file key (Dynamo 1.6.1's name where Dynamo has one). */
  key: string;
  /** Older names accepted for it. */
  aliases: readonly string[];
  field: keyof PlannerConfig;
  kind: "number" | "boolean" | "string";
  rule?: NumberRule;
  choices?: readonly string[];
}

const INT_MIN0: NumberRule = { integer: true, min: 0 };
const INT_MIN1: NumberRule = { integer: true, min: 1 };
/** A share in (0, 1]. */
const UNIT_SHARE: NumberRule = { min: 0, above: true, max: 1 };

/** Keys that set a PlannerConfig field. Dynamo's `mode` is handled apart (it also takes fpm's old values). */
export const IMPLEMENTED_KEYS: readonly ImplementedKey[] = [
  { key: "planner_mode", aliases: [], field: "mode", kind: "string", choices: PLANNER_MODES },
  { key: "parity_rules", aliases: [], field: "parityRules", kind: "string", choices: PARITY_RULES },
  {
    key: "optimization_target",
    aliases: [],
    field: "optimizationTarget",
    kind: "string",
    choices: OPTIMIZATION_TARGETS,
  },
  {
    key: "load_adjustment_interval_seconds",
    aliases: ["load_adjustment_interval"],
    field: "loadAdjustmentIntervalS",
    kind: "number",
    // A timer: at most what Node's timers hold.
    rule: { min: 0, above: true, max: MAX_TIMER_S },
  },
  { key: "max_num_fpm_samples", aliases: [], field: "maxNumFpmSamples", kind: "number", rule: INT_MIN1 },
  { key: "fpm_sample_bucket_size", aliases: [], field: "fpmSampleBucketSize", kind: "number", rule: INT_MIN1 },
  { key: "load_min_observations", aliases: [], field: "loadMinObservations", kind: "number", rule: INT_MIN1 },
  {
    key: "load_scaling_down_sensitivity",
    aliases: [],
    field: "loadScalingDownSensitivity",
    kind: "number",
    rule: { integer: true, min: 0, max: 100 },
  },
  { key: "ttft_ms", aliases: ["ttft"], field: "ttftMs", kind: "number", rule: { min: 0, above: true } },
  { key: "itl_ms", aliases: ["itl"], field: "itlMs", kind: "number", rule: { min: 0, above: true } },
  { key: "min_endpoint", aliases: [], field: "minEndpoint", kind: "number", rule: INT_MIN0 },
  { key: "prefill_min_endpoint", aliases: [], field: "prefillMinEndpoint", kind: "number", rule: INT_MIN1 },
  { key: "decode_min_endpoint", aliases: [], field: "decodeMinEndpoint", kind: "number", rule: INT_MIN1 },
  { key: "max_gpu_budget", aliases: [], field: "maxGpuBudget", kind: "number", rule: { integer: true, min: -1 } },
  { key: "min_gpu_budget", aliases: [], field: "minGpuBudget", kind: "number", rule: { integer: true, min: -1 } },
  { key: "gpus_per_replica", aliases: [], field: "gpusPerReplica", kind: "number", rule: INT_MIN1 },
  { key: "prefill_engine_num_gpu", aliases: [], field: "prefillEngineNumGpu", kind: "number", rule: INT_MIN1 },
  { key: "decode_engine_num_gpu", aliases: [], field: "decodeEngineNumGpu", kind: "number", rule: INT_MIN1 },
  {
    key: "prefill_scale_up_queue_tokens",
    aliases: [],
    field: "prefillScaleUpQueueTokens",
    kind: "number",
    rule: INT_MIN0,
  },
  {
    key: "prefill_scale_down_queue_tokens",
    aliases: [],
    field: "prefillScaleDownQueueTokens",
    kind: "number",
    rule: INT_MIN0,
  },
  {
    key: "decode_scale_up_kv_rate",
    aliases: [],
    field: "decodeScaleUpKvRate",
    kind: "number",
    rule: { min: 0, max: 100 },
  },
  {
    key: "decode_scale_down_kv_rate",
    aliases: [],
    field: "decodeScaleDownKvRate",
    kind: "number",
    rule: { min: 0, max: 100 },
  },
  { key: "speculative_nextn", aliases: [], field: "speculativeNextn", kind: "number", rule: INT_MIN0 },
  { key: "advisory", aliases: [], field: "advisory", kind: "boolean" },
  { key: "enable_load_scaling", aliases: [], field: "enableLoadScaling", kind: "boolean" },
  { key: "max_num_batched_tokens", aliases: [], field: "maxNumBatchedTokens", kind: "number", rule: INT_MIN1 },
  { key: "context_length", aliases: [], field: "contextLength", kind: "number", rule: INT_MIN1 },
  { key: "max_kv_tokens", aliases: [], field: "maxKvTokens", kind: "number", rule: INT_MIN1 },
  { key: "cold_start_iterations", aliases: [], field: "coldStartIterations", kind: "number", rule: INT_MIN0 },
  {
    key: "scale_down_stabilization_seconds",
    aliases: [],
    field: "scaleDownStabilizationS",
    kind: "number",
    rule: { min: 0 },
  },
  {
    key: "scale_down_stabilization_max_seconds",
    aliases: [],
    field: "scaleDownStabilizationMaxS",
    kind: "number",
    rule: { min: 0 },
  },
  { key: "backlog_drain_seconds", aliases: [], field: "backlogDrainS", kind: "number", rule: { min: 0, above: true } },
  { key: "max_utilization", aliases: [], field: "maxUtilization", kind: "number", rule: UNIT_SHARE },
  { key: "kv_use_target", aliases: [], field: "kvUseTarget", kind: "number", rule: UNIT_SHARE },
];

/** Dynamo's `mode` values, and fpm's old use of the same key for the planner mode. */
export const MODE_KEY = { key: "mode", deployment: DEPLOYMENT_MODES, legacyPlannerModes: PLANNER_MODES } as const;

/**
 * Dynamo 1.6.1 keys that fpm accepts and does not act on; `why` goes into the start-up
 * warning. `inert` values (what fpm does anyway) are not worth a warning.
 */
export const WARNED_KEYS: ReadonlyArray<{ key: string; aliases?: readonly string[]; why: string; inert?: unknown }> = [
  { key: "enable_throughput_scaling", why: "fpm has no throughput (traffic-forecast) loop", inert: false },
  {
    key: "throughput_adjustment_interval_seconds",
    aliases: ["throughput_adjustment_interval"],
    why: "throughput loop",
  },
  { key: "max_throughput_scaling_replicas", why: "throughput loop" },
  { key: "load_predictor", why: "throughput loop" },
  { key: "load_predictor_log1p", why: "throughput loop" },
  { key: "load_predictor_warmup_trace", why: "throughput loop" },
  { key: "prophet_window_size", why: "throughput loop" },
  { key: "kalman_q_level", why: "throughput loop" },
  { key: "kalman_q_trend", why: "throughput loop" },
  { key: "kalman_r", why: "throughput loop" },
  { key: "kalman_min_points", why: "throughput loop" },
  { key: "throughput_metrics_source", why: "throughput loop" },
  { key: "pre_deployment_sweeping_mode", why: "no pre-deployment perf-model bootstrap" },
  { key: "profile_results_dir", why: "no pre-deployment perf-model bootstrap" },
  { key: "aic_interpolation", why: "no pre-deployment perf-model bootstrap" },
  { key: "ais_perf_model", why: "the AIS perf model is not reproduced; only roles.*.attention_dp is read" },
  { key: "environment", why: "fpm's connectors replace Dynamo's environments" },
  { key: "backend", why: "component names come from --component or mode" },
  { key: "model_name", why: "not needed by fpm" },
  { key: "global_planner_namespace", why: "no global planner" },
  { key: "control_api_port", why: "no control API" },
  { key: "log_dir", why: "logs go to stderr (DYN_LOG, DYN_LOGGING_JSONL)" },
  { key: "metric_pulling_prometheus_endpoint", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_token", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_token_file", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_ssl_verify", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_extra_query_params", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_ca_bundle", why: "fpm reads FPM, not Prometheus" },
  { key: "metric_pulling_prometheus_request_timeout_seconds", why: "fpm reads FPM, not Prometheus" },
  { key: "enable_power_awareness", why: "no power budget", inert: false },
  { key: "total_gpu_power_limit", why: "no power budget" },
  { key: "report_interval_hours", why: "no HTML diagnostics report" },
  { key: "report_output_dir", why: "no HTML diagnostics report" },
  { key: "report_filename", why: "no HTML diagnostics report" },
  { key: "report_write_gzip_log", why: "no HTML diagnostics report" },
  { key: "live_dashboard_port", why: "no live dashboard (use dashboards/fpm.json)" },
  { key: "scheduling", why: "no plugin pipeline" },
  { key: "plugin_registration", why: "no plugin pipeline" },
];

/**
 * Keys of 1.6.1 handled by planner-options.ts itself: `namespace` (as DYN_NAMESPACE) and
 * `metric_reporting_prometheus_port` (the metrics port; 0 turns it off, as in Dynamo).
 */
export const DYNAMO_OPTION_KEYS = ["namespace", "metric_reporting_prometheus_port"] as const;

/** fpm's own keys for the command around the planner core. */
export const FPM_OPTION_KEYS = [
  "components",
  "stale_after_ms",
  "max_engines",
  "max_engine_series",
  "connector",
  "scale_command",
  "command_timeout",
  "scale_timeout",
  "decisions_subject",
  "replicas_subject",
  "decisions_file",
  "metrics_port",
  "metrics_host",
] as const;

/** Every key a config file may hold, canonical names and aliases. */
export function knownConfigKeys(): string[] {
  return [
    ...IMPLEMENTED_KEYS.flatMap((k) => [k.key, ...k.aliases]),
    MODE_KEY.key,
    ...WARNED_KEYS.flatMap((k) => [k.key, ...(k.aliases ?? [])]),
    ...DYNAMO_OPTION_KEYS,
    ...FPM_OPTION_KEYS,
  ];
}

/** Edit distance between two short strings (a key against the known ones). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The known key nearest to `key`, if it is close enough to be a misspelling of it. */
export function nearestConfigKey(key: string, known: readonly string[] = knownConfigKeys()): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}
