/**
 * `fpm planner` options: flags over an optional JSON config file over the defaults. The
 * config file is a Dynamo 1.6.1 planner config (canonical names and their aliases, see
 * planner-config-keys.ts) plus this project's keys; 1.6.1 keys fpm does not implement are
 * returned in `ignoredKeys` for one warning, and an unknown key is a ConfigError that
 * suggests the nearest known name, so typos do not pass silently.
 */
import fs from "node:fs";
import type { NatsCliFlags } from "../eventplane/connection.js";
import { selectEventPlane } from "../eventplane/plane-selection.js";
import { DEFAULT_MAX_ENGINE_SERIES } from "./planner-metrics.js";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import {
  MAX_TIMER_MS,
  MAX_TIMER_S,
  type NumberRule,
  numberOption,
  numberValue,
  timerSecondsToMs,
} from "../util/number-option.js";
import { checkScaleCommand, checkScaleComponent, DEFAULT_COMMAND_TIMEOUT_MS } from "./connectors/command-connector.js";
import { DEFAULT_SCALE_TIMEOUT_MS } from "./connectors/replica-connector.js";
import { DEFAULT_MAX_ENGINES, DEFAULT_STALE_AFTER_MS } from "../subscriber/fpm-event-subscriber.js";
import type { PlannedComponent } from "./fpm-planner.js";
import {
  checkComponentRequirements,
  componentsForDeploymentMode,
  type DeploymentMode,
  type PlannerConfig,
  type PlannerMode,
  resolvePlannerConfig,
} from "./planner-config.js";
import {
  DYNAMO_OPTION_KEYS,
  FPM_OPTION_KEYS,
  IMPLEMENTED_KEYS,
  type ImplementedKey,
  MODE_KEY,
  nearestConfigKey,
  WARNED_KEYS,
} from "./planner-config-keys.js";
import type { ModelKind } from "./regression-model.js";

export interface PlannerCliFlags extends NatsCliFlags {
  eventPlane?: string;
  config?: string;
  namespace?: string;
  component?: string[];
  mode?: string;
  parityRules?: string;
  deploymentMode?: string;
  optimizationTarget?: string;
  loadAdjustmentInterval?: string;
  maxNumFpmSamples?: string;
  fpmSampleBucketSize?: string;
  loadMinObservations?: string;
  loadScalingDownSensitivity?: string;
  ttft?: string;
  itl?: string;
  minEndpoint?: string;
  prefillMinEndpoint?: string;
  decodeMinEndpoint?: string;
  maxGpuBudget?: string;
  minGpuBudget?: string;
  gpusPerReplica?: string;
  maxNumBatchedTokens?: string;
  contextLength?: string;
  maxKvTokens?: string;
  prefillScaleUpQueueTokens?: string;
  prefillScaleDownQueueTokens?: string;
  decodeScaleUpKvRate?: string;
  decodeScaleDownKvRate?: string;
  speculativeNextn?: string;
  advisory?: boolean;
  coldStartIterations?: string;
  scaleDownStabilization?: string;
  loadScaling?: boolean;
  staleAfterMs?: string;
  maxEngines?: string;
  maxEngineSeries?: string;
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

/** `loadAdjustmentInterval` -> `load-adjustment-interval`. */
const flagName = (flag: string) => flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export interface PlannerCommandOptions {
  config: PlannerConfig;
  namespace?: string;
  components: PlannedComponent[];
  staleAfterMs: number;
  maxEngines: number;
  maxEngineSeries: number;
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
  /** 1.6.1 keys of the config file that fpm does not implement: the command names them in one warning. */
  ignoredKeys: IgnoredKey[];
}

/** Flag name -> config key, for the flags that set a PlannerConfig field. */
const FLAG_KEYS: Array<[keyof PlannerCliFlags, string]> = [
  ["mode", "planner_mode"],
  ["parityRules", "parity_rules"],
  ["optimizationTarget", "optimization_target"],
  ["loadAdjustmentInterval", "load_adjustment_interval_seconds"],
  ["maxNumFpmSamples", "max_num_fpm_samples"],
  ["fpmSampleBucketSize", "fpm_sample_bucket_size"],
  ["loadMinObservations", "load_min_observations"],
  ["loadScalingDownSensitivity", "load_scaling_down_sensitivity"],
  ["ttft", "ttft_ms"],
  ["itl", "itl_ms"],
  ["minEndpoint", "min_endpoint"],
  ["prefillMinEndpoint", "prefill_min_endpoint"],
  ["decodeMinEndpoint", "decode_min_endpoint"],
  ["maxGpuBudget", "max_gpu_budget"],
  ["minGpuBudget", "min_gpu_budget"],
  ["gpusPerReplica", "gpus_per_replica"],
  ["maxNumBatchedTokens", "max_num_batched_tokens"],
  ["contextLength", "context_length"],
  ["maxKvTokens", "max_kv_tokens"],
  ["prefillScaleUpQueueTokens", "prefill_scale_up_queue_tokens"],
  ["prefillScaleDownQueueTokens", "prefill_scale_down_queue_tokens"],
  ["decodeScaleUpKvRate", "decode_scale_up_kv_rate"],
  ["decodeScaleDownKvRate", "decode_scale_down_kv_rate"],
  ["speculativeNextn", "speculative_nextn"],
  ["coldStartIterations", "cold_start_iterations"],
  ["scaleDownStabilization", "scale_down_stabilization_seconds"],
];

const BY_NAME = new Map<string, ImplementedKey>();
for (const k of IMPLEMENTED_KEYS) for (const name of [k.key, ...k.aliases]) BY_NAME.set(name, k);
const WARNED = new Map<string, (typeof WARNED_KEYS)[number]>();
for (const k of WARNED_KEYS) for (const name of [k.key, ...(k.aliases ?? [])]) WARNED.set(name, k);
const OTHER_KEYS = new Set<string>([...DYNAMO_OPTION_KEYS, ...FPM_OPTION_KEYS]);
const AIS_ROLES: Record<string, ModelKind> = { prefill: "prefill", decode: "decode", aggregated: "agg" };

/** A config file read: planner fields, the command's own keys, and the 1.6.1 keys fpm does not act on. */
export interface ConfigFile {
  partial: Partial<PlannerConfig>;
  other: Record<string, unknown>;
  ignored: IgnoredKey[];
}

/** A key of the config file that fpm accepts but does not implement, and why. */
export interface IgnoredKey {
  key: string;
  why: string;
}

/**
 * Converts one value to its field's type, as the key's spec says; `where` names it in the
 * error. A number from a flag is text; from a file it must be a JSON number.
 */
function convert(spec: ImplementedKey, raw: unknown, where: string, fromFlag = false): unknown {
  if (spec.kind === "number")
    return fromFlag ? numberOption(String(raw), where, spec.rule) : numberValue(raw, where, spec.rule);
  if (spec.kind === "boolean") {
    if (typeof raw !== "boolean") throw new ConfigError(`${where} must be true or false`);
    return raw;
  }
  if (typeof raw !== "string") throw new ConfigError(`${where} must be a string`);
  if (spec.choices && !spec.choices.includes(raw))
    throw new ConfigError(`${where} must be one of ${spec.choices.join(", ")}; got ${JSON.stringify(raw)}`);
  return raw;
}

/** `ais_perf_model.roles.{prefill,decode,aggregated}.attention_dp`, the one part of the AIS spec fpm reads. */
function attentionDpFrom(v: unknown, path: string): Partial<Record<ModelKind, number>> | undefined {
  const roles = (v as { roles?: unknown } | null)?.roles;
  if (typeof roles !== "object" || roles === null) return undefined;
  const out: Partial<Record<ModelKind, number>> = {};
  for (const [role, spec] of Object.entries(roles)) {
    const dp = (spec as { attention_dp?: unknown } | null)?.attention_dp;
    if (dp === undefined || !(role in AIS_ROLES)) continue;
    out[AIS_ROLES[role]] = numberValue(dp, `${path}: ais_perf_model.roles.${role}.attention_dp`, INT_MIN1);
  }
  return out;
}

const INT_MIN1 = { integer: true, min: 1 };

/** Reads a planner config file given with `flag` (`--config` of fpm planner, `--planner-config` of fpm replay). */
export function readPlannerConfigFile(path: string, flag = "--config"): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${flag} ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ConfigError(`${flag} ${path} must hold a JSON object`);
  return plannerKeysFrom(v as Record<string, unknown>, `${flag} ${path}`);
}

/** The one start-up warning naming every config key fpm accepted but does not implement. */
export function warnIgnoredKeys(ignored: readonly IgnoredKey[], logger: Logger): void {
  if (ignored.length === 0) return;
  logger.warn("config keys fpm does not implement were ignored", {
    keys: ignored.map((k) => `${k.key} (${k.why})`).join("; "),
  });
}

/**
 * Reads planner keys from any object (a config file, a scenario's `planner` block): Dynamo
 * 1.6.1's names and aliases into PlannerConfig fields, the command's own keys into `other`,
 * the 1.6.1 keys fpm does not implement into `ignored`; any other key is a ConfigError
 * naming the nearest known key. `where` prefixes the messages.
 */
export function plannerKeysFrom(file: Record<string, unknown>, where: string): ConfigFile {
  const out: ConfigFile = { partial: {}, other: {}, ignored: [] };
  const unknown: string[] = [];
  for (const [key, raw] of Object.entries(file)) {
    // Dynamo writes null for an unset optional key: the default applies.
    if (raw === null && key !== "components") continue;
    const spec = BY_NAME.get(key);
    if (spec) {
      // As Dynamo's aliases: the canonical name wins when both are given.
      if (key !== spec.key && file[spec.key] !== undefined) continue;
      (out.partial as Record<string, unknown>)[spec.field] = convert(spec, raw, `config key ${key}`);
    } else if (key === MODE_KEY.key) {
      if ((MODE_KEY.deployment as readonly unknown[]).includes(raw)) out.partial.deploymentMode = raw as DeploymentMode;
      else if ((MODE_KEY.legacyPlannerModes as readonly unknown[]).includes(raw) && file.planner_mode === undefined)
        out.partial.mode = raw as PlannerMode;
      else
        throw new ConfigError(
          `config key mode must be Dynamo's ${MODE_KEY.deployment.join(", ")} (or fpm's ${MODE_KEY.legacyPlannerModes.join(", ")}; prefer planner_mode); got ${JSON.stringify(raw)}`,
        );
    } else if (WARNED.has(key)) {
      const w = WARNED.get(key)!;
      if (key === "ais_perf_model") out.partial.attentionDp = attentionDpFrom(raw, where);
      if (w.inert === undefined || raw !== w.inert) out.ignored.push({ key, why: w.why });
    } else if (OTHER_KEYS.has(key)) {
      out.other[key] = raw;
    } else unknown.push(key);
  }
  if (unknown.length > 0) {
    const said = unknown.map((k) => {
      const near = nearestConfigKey(k);
      return near ? `${k} (did you mean ${near}?)` : k;
    });
    throw new ConfigError(
      `${where}: unknown key(s) ${said.join(", ")}; the keys are Dynamo 1.6.1's planner keys (docs/design/planner-parity.md) and fpm's own (fpm planner --help)`,
    );
  }
  return out;
}

/** Ranges of the command's own numeric settings (the PlannerConfig ones are in planner-config-keys.ts). */
const OTHER_NUMBER_RULES = {
  stale_after_ms: { min: 0, max: MAX_TIMER_MS },
  max_engines: { integer: true, min: 1, max: 10_000_000 },
  // Seconds, used as timers: more than 0, at most what Node's timers hold once in ms.
  command_timeout: { min: 0, above: true, max: MAX_TIMER_S },
  scale_timeout: { min: 0, above: true, max: MAX_TIMER_S },
  metrics_port: { integer: true, min: -1, max: 65535 },
  max_engine_series: { integer: true, min: 0, max: 10_000_000 },
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

export function plannerOptionsFromFlags(
  flags: PlannerCliFlags,
  env: NodeJS.ProcessEnv = process.env,
): PlannerCommandOptions {
  const parsed: ConfigFile = flags.config
    ? readPlannerConfigFile(flags.config)
    : { partial: {}, other: {}, ignored: [] };
  const file = parsed.other;
  const partial: Partial<PlannerConfig> = { ...parsed.partial };
  for (const [flag, key] of FLAG_KEYS) {
    const v = flags[flag];
    const spec = BY_NAME.get(key)!;
    if (v !== undefined)
      (partial as Record<string, unknown>)[spec.field] = convert(spec, v, `--${flagName(flag)}`, true);
  }
  if (flags.deploymentMode !== undefined) {
    if (!(MODE_KEY.deployment as readonly string[]).includes(flags.deploymentMode))
      throw new ConfigError(`--deployment-mode must be ${MODE_KEY.deployment.join(", ")}`);
    partial.deploymentMode = flags.deploymentMode as DeploymentMode;
  }
  if (flags.loadScaling === false) partial.enableLoadScaling = false;
  if (flags.advisory) partial.advisory = true;
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
  if (specs.length === 0) specs = componentsForDeploymentMode(config.deploymentMode ?? "agg");
  const components = specs.map(parseComponent);
  const names = new Set(components.map((c) => c.component));
  if (names.size !== components.length) throw new ConfigError("each --component may appear once");
  // With Dynamo's discovery the engine facts can come from the workers' model cards instead.
  const cardsAvailable = selectEventPlane(flags.eventPlane, env).discovery !== null;
  if (!cardsAvailable) for (const c of components) checkComponentRequirements(config, c.kind);

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

  // -1 turns the server off. Then Dynamo's planner metrics port (0 there means off), then DYN_SYSTEM_PORT.
  const portRule = OTHER_NUMBER_RULES.metrics_port;
  const dynamoPort = file.metric_reporting_prometheus_port;
  const envPort = env.DYN_SYSTEM_PORT?.trim() || undefined;
  let port = -1;
  if (flags.metricsPort !== undefined || file.metrics_port !== undefined)
    port = numberSetting(flags.metricsPort, "--metrics-port", file, "metrics_port", -1);
  else if (dynamoPort !== undefined) {
    port = numberValue(dynamoPort, "config key metric_reporting_prometheus_port", portRule);
    if (port === 0) port = -1;
  } else if (envPort !== undefined) port = numberOption(envPort, "DYN_SYSTEM_PORT", portRule);
  const metricsPort = port === -1 ? null : port;
  const maxEngines = numberSetting(flags.maxEngines, "--max-engines", file, "max_engines", DEFAULT_MAX_ENGINES);
  const maxEngineSeries = numberSetting(
    flags.maxEngineSeries,
    "--max-engine-series",
    file,
    "max_engine_series",
    DEFAULT_MAX_ENGINE_SERIES,
  );

  return {
    config,
    namespace: str(flags.namespace, "namespace"),
    components,
    staleAfterMs: numberSetting(flags.staleAfterMs, "--stale-after-ms", file, "stale_after_ms", DEFAULT_STALE_AFTER_MS),
    maxEngines,
    maxEngineSeries,
    connector,
    scaleCommand,
    commandTimeoutMs: timerSecondsToMs(
      numberSetting(
        flags.commandTimeout,
        "--command-timeout",
        file,
        "command_timeout",
        DEFAULT_COMMAND_TIMEOUT_MS / 1000,
      ),
    ),
    scaleTimeoutMs: timerSecondsToMs(
      numberSetting(flags.scaleTimeout, "--scale-timeout", file, "scale_timeout", DEFAULT_SCALE_TIMEOUT_MS / 1000),
    ),
    decisionsSubject: str(flags.decisionsSubject, "decisions_subject"),
    replicasSubject: str(flags.replicasSubject, "replicas_subject"),
    decisionsFile: str(flags.decisionsFile, "decisions_file"),
    metricsPort,
    metricsHost: str(flags.metricsHost, "metrics_host") ?? "0.0.0.0",
    replayTrace: flags.replayTrace,
    ignoredKeys: parsed.ignored,
  };
}
