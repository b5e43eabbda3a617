/**
 * `fpm planner` options: flags over an optional JSON config file over the defaults. The
 * config file uses the reference planner's key names (`load_adjustment_interval`, `ttft`,
 * ...) plus this project's; an unknown key is a ConfigError so typos do not pass silently.
 */
import fs from "node:fs";
import type { NatsCliFlags } from "../eventplane/connection.js";
import { ConfigError } from "../util/errors.js";
import {
  MAX_TIMER_MS,
  MAX_TIMER_S,
  type NumberRule,
  numberOption,
  numberValue,
  timerSecondsToMs,
} from "../util/number-option.js";
import { checkScaleCommand, checkScaleComponent } from "./connectors/command-connector.js";
import type { PlannedComponent } from "./fpm-planner.js";
import {
  checkComponentRequirements,
  PLANNER_NUMBER_RULES,
  type PlannerConfig,
  resolvePlannerConfig,
} from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";

export interface PlannerCliFlags extends NatsCliFlags {
  config?: string;
  namespace?: string;
  component?: string[];
  mode?: string;
  optimizationTarget?: string;
  loadAdjustmentInterval?: string;
  maxNumFpmSamples?: string;
  fpmSampleBucketSize?: string;
  loadMinObservations?: string;
  loadScalingDownSensitivity?: string;
  ttft?: string;
  itl?: string;
  minEndpoint?: string;
  maxGpuBudget?: string;
  gpusPerReplica?: string;
  maxNumBatchedTokens?: string;
  contextLength?: string;
  maxKvTokens?: string;
  coldStartIterations?: string;
  loadScaling?: boolean;
  staleAfterMs?: string;
  maxEngines?: string;
  connector?: string;
  scaleCommand?: string;
  commandTimeout?: string;
  scaleTimeout?: string;
  decisionsSubject?: string;
  replicasSubject?: string;
  decisionsFile?: string;
  metricsPort?: string;
  metricsHost?: string;
  replayTrace?: string;
}

export interface PlannerCommandOptions {
  config: PlannerConfig;
  namespace?: string;
  components: PlannedComponent[];
  staleAfterMs: number;
  maxEngines: number;
  connector: "virtual" | "command";
  scaleCommand?: string;
  commandTimeoutMs: number;
  scaleTimeoutMs: number;
  decisionsSubject?: string;
  replicasSubject?: string;
  decisionsFile?: string;
  metricsPort: number | null;
  metricsHost: string;
  replayTrace?: string;
}

/** Config-file key -> [PlannerConfig field, kind]. */
const CONFIG_KEYS: Record<string, [keyof PlannerConfig, "number" | "string" | "boolean"]> = {
  mode: ["mode", "string"],
  optimization_target: ["optimizationTarget", "string"],
  load_adjustment_interval: ["loadAdjustmentIntervalS", "number"],
  max_num_fpm_samples: ["maxNumFpmSamples", "number"],
  fpm_sample_bucket_size: ["fpmSampleBucketSize", "number"],
  load_min_observations: ["loadMinObservations", "number"],
  load_scaling_down_sensitivity: ["loadScalingDownSensitivity", "number"],
  ttft: ["ttftMs", "number"],
  itl: ["itlMs", "number"],
  min_endpoint: ["minEndpoint", "number"],
  max_gpu_budget: ["maxGpuBudget", "number"],
  gpus_per_replica: ["gpusPerReplica", "number"],
  max_num_batched_tokens: ["maxNumBatchedTokens", "number"],
  context_length: ["contextLength", "number"],
  max_kv_tokens: ["maxKvTokens", "number"],
  cold_start_iterations: ["coldStartIterations", "number"],
  enable_load_scaling: ["enableLoadScaling", "boolean"],
};
const OTHER_KEYS = [
  "namespace",
  "components",
  "stale_after_ms",
  "max_engines",
  "connector",
  "scale_command",
  "command_timeout",
  "scale_timeout",
  "decisions_subject",
  "replicas_subject",
  "decisions_file",
  "metrics_port",
  "metrics_host",
];

/** Flag name -> config key, for the flags that set a PlannerConfig field. */
const FLAG_KEYS: Array<[keyof PlannerCliFlags, string]> = [
  ["mode", "mode"],
  ["optimizationTarget", "optimization_target"],
  ["loadAdjustmentInterval", "load_adjustment_interval"],
  ["maxNumFpmSamples", "max_num_fpm_samples"],
  ["fpmSampleBucketSize", "fpm_sample_bucket_size"],
  ["loadMinObservations", "load_min_observations"],
  ["loadScalingDownSensitivity", "load_scaling_down_sensitivity"],
  ["ttft", "ttft"],
  ["itl", "itl"],
  ["minEndpoint", "min_endpoint"],
  ["maxGpuBudget", "max_gpu_budget"],
  ["gpusPerReplica", "gpus_per_replica"],
  ["maxNumBatchedTokens", "max_num_batched_tokens"],
  ["contextLength", "context_length"],
  ["maxKvTokens", "max_kv_tokens"],
  ["coldStartIterations", "cold_start_iterations"],
];

/** Ranges of the numeric settings that are not PlannerConfig fields. */
const OTHER_NUMBER_RULES = {
  stale_after_ms: { min: 0, max: MAX_TIMER_MS },
  max_engines: { integer: true, min: 1, max: 10_000_000 },
  // Seconds, used as timers: more than 0, at most what Node's timers hold once in ms.
  command_timeout: { min: 0, above: true, max: MAX_TIMER_S },
  scale_timeout: { min: 0, above: true, max: MAX_TIMER_S },
  metrics_port: { integer: true, min: -1, max: 65535 },
} satisfies Record<string, NumberRule>;

/** A numeric setting from its flag's text, else the config file's JSON value, else the default. */
function numberSetting(
  flag: string | undefined,
  flagName: string,
  file: Record<string, unknown>,
  key: keyof typeof OTHER_NUMBER_RULES,
  def: number,
): number {
  const rule = OTHER_NUMBER_RULES[key];
  if (flag !== undefined) return numberOption(flag, flagName, rule);
  if (file[key] !== undefined) return numberValue(file[key], `config key ${key}`, rule);
  return def;
}

/** `name[:kind]`; kind defaults from the name (prefill, decode) or agg. */
export function parseComponent(spec: string): PlannedComponent {
  const [name, kind, extra] = spec.split(":");
  if (!name || extra !== undefined)
    throw new ConfigError(`--component must be name[:prefill|decode|agg], got ${JSON.stringify(spec)}`);
  const k = (kind ?? (name === "prefill" || name === "decode" ? name : "agg")) as ModelKind;
  if (!["prefill", "decode", "agg"].includes(k))
    throw new ConfigError(
      `component kind must be prefill, decode or agg, got ${JSON.stringify(kind)} in ${JSON.stringify(spec)}`,
    );
  return { component: name, kind: k };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read --config ${path}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ConfigError(`--config ${path} must hold a JSON object`);
  const unknown = Object.keys(v).filter((k) => !(k in CONFIG_KEYS) && !OTHER_KEYS.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(
      `--config ${path}: unknown key(s) ${unknown.join(", ")}; known: ${[...Object.keys(CONFIG_KEYS), ...OTHER_KEYS].join(", ")}`,
    );
  return v as Record<string, unknown>;
}

export function plannerOptionsFromFlags(
  flags: PlannerCliFlags,
  env: NodeJS.ProcessEnv = process.env,
): PlannerCommandOptions {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const partial: Partial<PlannerConfig> = {};
  const set = (key: string, raw: unknown, where: string, fromFlag: boolean) => {
    const [field, kind] = CONFIG_KEYS[key];
    let v: unknown = raw;
    if (kind === "number") {
      const { rule } = PLANNER_NUMBER_RULES[field as keyof typeof PLANNER_NUMBER_RULES];
      v = fromFlag ? numberOption(String(raw), where, rule) : numberValue(raw, where, rule);
    } else if (kind === "boolean") {
      if (typeof raw !== "boolean") throw new ConfigError(`${where} must be true or false`);
    } else if (typeof raw !== "string") throw new ConfigError(`${where} must be a string`);
    (partial as Record<string, unknown>)[field] = v;
  };
  for (const key of Object.keys(CONFIG_KEYS))
    if (file[key] !== undefined) set(key, file[key], `config key ${key}`, false);
  for (const [flag, key] of FLAG_KEYS) {
    const v = flags[flag];
    if (v !== undefined) set(key, v, `--${key.replaceAll("_", "-")}`, true);
  }
  if (flags.loadScaling === false) partial.enableLoadScaling = false;
  const config = resolvePlannerConfig(partial);

  const str = (flag: string | undefined, key: string): string | undefined => {
    if (flag !== undefined) return flag;
    const v = file[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw new ConfigError(`config key ${key} must be a string`);
    return v;
  };

  let specs: string[] = flags.component ?? [];
  if (specs.length === 0 && file.components !== undefined) {
    if (!Array.isArray(file.components) || !file.components.every((c) => typeof c === "string"))
      throw new ConfigError('config key components must be an array of "name[:kind]" strings');
    specs = file.components as string[];
  }
  if (specs.length === 0) specs = ["backend:agg"];
  const components = specs.map(parseComponent);
  const names = new Set(components.map((c) => c.component));
  if (names.size !== components.length) throw new ConfigError("each --component may appear once");
  for (const c of components) checkComponentRequirements(config, c.kind);

  const connector = str(flags.connector, "connector") ?? "virtual";
  if (connector !== "virtual" && connector !== "command")
    throw new ConfigError(`--connector must be virtual or command, got ${connector}`);
  const scaleCommand = str(flags.scaleCommand, "scale_command");
  if (connector === "command") {
    if (!scaleCommand)
      throw new ConfigError(
        `--connector command needs --scale-command, e.g. 'kubectl scale "deployment/$FPM_COMPONENT" --replicas="$FPM_REPLICAS"'`,
      );
    checkScaleCommand(scaleCommand);
    for (const c of components) checkScaleComponent(c.component);
  }

  // -1 turns the server off; DYN_SYSTEM_PORT (Dynamo's name) when neither flag nor file sets it.
  const envPort = env.DYN_SYSTEM_PORT?.trim() || undefined;
  const port =
    flags.metricsPort === undefined && file.metrics_port === undefined && envPort !== undefined
      ? numberOption(envPort, "DYN_SYSTEM_PORT", OTHER_NUMBER_RULES.metrics_port)
      : numberSetting(flags.metricsPort, "--metrics-port", file, "metrics_port", -1);
  const metricsPort = port === -1 ? null : port;
  const maxEngines = numberSetting(flags.maxEngines, "--max-engines", file, "max_engines", 10_000);

  return {
    config,
    namespace: str(flags.namespace, "namespace"),
    components,
    staleAfterMs: numberSetting(flags.staleAfterMs, "--stale-after-ms", file, "stale_after_ms", 5000),
    maxEngines,
    connector,
    scaleCommand,
    commandTimeoutMs: timerSecondsToMs(
      numberSetting(flags.commandTimeout, "--command-timeout", file, "command_timeout", 60),
    ),
    scaleTimeoutMs: timerSecondsToMs(numberSetting(flags.scaleTimeout, "--scale-timeout", file, "scale_timeout", 600)),
    decisionsSubject: str(flags.decisionsSubject, "decisions_subject"),
    replicasSubject: str(flags.replicasSubject, "replicas_subject"),
    decisionsFile: str(flags.decisionsFile, "decisions_file"),
    metricsPort,
    metricsHost: str(flags.metricsHost, "metrics_host") ?? "0.0.0.0",
    replayTrace: flags.replayTrace,
  };
}
