/**
 * Evaluation scenarios: what load hits which simulated deployment, and how the planner is
 * configured. A scenario file is JSON, one object or an array of them; keys are checked
 * strictly (an unknown key is a ConfigError naming it, so a typo never passes silently):
 *
 * ```json
 * { "name": "step", "duration_s": 240, "seed": 1, "arrivals": "step:10:110:60:180", "poisson": true,
 *   "input_tokens": "256:1024", "output_tokens": "32:128", "engine": "a100-8b",
 *   "workers": 2, "dp_ranks": 2, "max_workers": 8, "startup_delay_s": 20, "scale_down": "kill",
 *   "planner": { "optimization_target": "sla", "ttft_ms": 100, "itl_ms": 50, "load_adjustment_interval_seconds": 5 } }
 * ```
 *
 * `arrivals` is `fpm simulate --arrivals` (src/sim/arrival-spec.ts); relative `file:` and
 * `recording:` paths are read from the scenario file's directory. `engine` is a preset name
 * (src/sim/engine-presets.ts) or an object of cost and capacity fields over an optional
 * `preset`. `planner` holds planner config keys (Dynamo 1.6.1's names and aliases, as `fpm planner --config`).
 */
import fs from "node:fs";
import path from "node:path";
import { type PlannerConfig, resolvePlannerConfig } from "../planner/planner-config.js";
import { plannerKeysFrom } from "../planner/planner-options.js";
import { parseArrivalSpec, parseTokenRange } from "../sim/arrival-spec.js";
import type { RequestLengths } from "../sim/arrivals.js";
import type { ScaleDownMode } from "../sim/deployment.js";
import { DEFAULT_ENGINE, type EngineConfig, engineConfig } from "../sim/engine-presets.js";
import { ConfigError } from "../util/errors.js";
import { numberValue } from "../util/number-option.js";

export interface Scenario {
  name: string;
  description: string;
  /** Scenarios of a group are summarised together (for example `minute` and `hour`). Default "". */
  group: string;
  /** Arrivals stop here; metrics cover [0, duration_s]. */
  durationS: number;
  /** Seed of arrivals, lengths and engine noise. Default 1. */
  seed: number;
  /** `fpm simulate --arrivals` form. */
  arrivals: string;
  /** Poisson arrivals for rate forms. Default false (as fpm simulate). */
  poisson: boolean;
  /** Prompt and output length ranges. Default 256:1024 and 32:128 (as fpm simulate). */
  lengths: RequestLengths;
  engine: EngineConfig;
  /** Workers ready at time 0 (planner contenders). Default 2. */
  workers: number;
  /** Engines per worker. Default 2. */
  dpRanks: number;
  /** Most workers. Default 8. */
  maxWorkers: number;
  /** Seconds from a scale-up to the new worker taking requests. Default 5 (as fpm simulate). */
  startupDelayS: number;
  /** How a scale-down removes a worker. Default `kill` (Dynamo's). */
  scaleDown: ScaleDownMode;
  /** The planner keys as given (Dynamo's names), checked. */
  planner: Record<string, unknown>;
  /** Where relative arrivals paths are read from. */
  baseDir: string;
}

const ENGINE_FIELDS: Record<string, string> = {
  cost_a: "seconds per iteration",
  cost_b: "seconds per prefill token",
  cost_c: "seconds per decode KV token",
  cost_d: "seconds per decoding request",
  noise: "relative standard deviation of the wall time",
  kv_capacity_tokens: "KV cache tokens per engine",
  max_num_batched_tokens: "token budget per iteration",
  max_num_seqs: "most running requests per engine",
  gpus_per_engine: "GPUs one engine uses",
};
const ENGINE_KEYS = ["preset", ...Object.keys(ENGINE_FIELDS), "chunked_prefill"];

export const SCENARIO_KEYS = [
  "name",
  "description",
  "group",
  "duration_s",
  "seed",
  "arrivals",
  "poisson",
  "input_tokens",
  "output_tokens",
  "engine",
  "workers",
  "dp_ranks",
  "max_workers",
  "startup_delay_s",
  "scale_down",
  "planner",
] as const;

/** Reads typed fields of one JSON object, each error naming the scenario and the key. */
class Fields {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly where: string,
  ) {}

  fail(key: string, what: string): never {
    throw new ConfigError(`${this.where}: ${key} ${what}, got ${JSON.stringify(this.o[key])}`);
  }

  /** Through the one number validator (util/number-option.ts): a JSON number, finite, in range. */
  number(key: string, def: number, opts: { integer?: boolean; min?: number; above?: number } = {}): number {
    const v = this.o[key];
    if (v === undefined) return def;
    const rule =
      opts.above !== undefined
        ? { integer: opts.integer, min: opts.above, above: true }
        : { integer: opts.integer, min: opts.min };
    return numberValue(v, `${this.where}: ${key}`, rule);
  }

  string(key: string, def?: string): string {
    const v = this.o[key];
    if (v === undefined) {
      if (def === undefined) this.fail(key, "is required (a string)");
      return def;
    }
    if (typeof v !== "string" || v === "") this.fail(key, "must be a non-empty string");
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.o[key];
    if (v === undefined) return def;
    if (typeof v !== "boolean") this.fail(key, "must be true or false");
    return v;
  }

  range(key: string, def: [number, number]): [number, number] {
    const v = this.o[key];
    if (v === undefined) return def;
    if (typeof v === "number" && Number.isInteger(v) && v >= 1) return [v, v];
    if (typeof v !== "string") this.fail(key, 'must be "MIN[:MAX]" (tokens)');
    try {
      return parseTokenRange(v, `${this.where}: ${key}`);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
}

function checkKeys(o: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(`${where}: unknown key(s) ${unknown.join(", ")}; known: ${known.join(", ")}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `engine`: a preset name, or cost and capacity fields over an optional preset. */
export function parseEngine(v: unknown, where: string): EngineConfig {
  if (v === undefined) return DEFAULT_ENGINE;
  if (typeof v === "string") return engineConfig(v);
  if (!isObject(v)) throw new ConfigError(`${where}: engine must be a preset name or an object of engine fields`);
  const ew = `${where}: engine`;
  checkKeys(v, ENGINE_KEYS, ew);
  const f = new Fields(v, ew);
  const base = v.preset === undefined ? DEFAULT_ENGINE : engineConfig(f.string("preset"));
  const c = base.cost;
  const sch = base.scheduler;
  return {
    name: v.preset === undefined ? "custom" : `${base.name}+custom`,
    description: `${base.description}, with ${Object.keys(v)
      .filter((k) => k !== "preset")
      .join(", ")} set`,
    cost: {
      a: f.number("cost_a", c.a ?? 0, { min: 0 }),
      b: f.number("cost_b", c.b ?? 0, { min: 0 }),
      c: f.number("cost_c", c.c ?? 0, { min: 0 }),
      d: f.number("cost_d", c.d ?? 0, { min: 0 }),
      noise: f.number("noise", c.noise ?? 0, { min: 0 }),
    },
    scheduler: {
      kvCapacityTokens: f.number("kv_capacity_tokens", sch.kvCapacityTokens, { integer: true, min: 1 }),
      maxNumBatchedTokens: f.number("max_num_batched_tokens", sch.maxNumBatchedTokens, { integer: true, min: 1 }),
      maxNumSeqs: f.number("max_num_seqs", sch.maxNumSeqs, { integer: true, min: 1 }),
      chunkedPrefill: f.boolean("chunked_prefill", sch.chunkedPrefill ?? true),
    },
    gpusPerEngine: f.number("gpus_per_engine", base.gpusPerEngine, { integer: true, min: 1 }),
  };
}

/** One scenario object, checked; `baseDir` resolves relative arrivals paths. */
export function parseScenario(o: unknown, where: string, baseDir: string): Scenario {
  if (!isObject(o)) throw new ConfigError(`${where}: a scenario must be a JSON object`);
  const named = typeof o.name === "string" && o.name !== "" ? `${where}: scenario ${JSON.stringify(o.name)}` : where;
  checkKeys(o, SCENARIO_KEYS, named);
  const f = new Fields(o, named);
  const name = f.string("name");
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))
    f.fail("name", "must be 1-64 letters, digits, '_', '.' or '-' (it names the plot file)");
  const [inputMin, inputMax] = f.range("input_tokens", [256, 1024]);
  const [outputMin, outputMax] = f.range("output_tokens", [32, 128]);
  const workers = f.number("workers", 2, { integer: true, min: 1 });
  const maxWorkers = f.number("max_workers", 8, { integer: true, min: 1 });
  if (workers > maxWorkers) f.fail("workers", `must be at most max_workers (${maxWorkers})`);
  const scaleDown = f.string("scale_down", "kill");
  if (scaleDown !== "kill" && scaleDown !== "drain") f.fail("scale_down", "must be kill or drain");
  const planner: unknown = o.planner === undefined ? {} : o.planner;
  if (!isObject(planner)) return f.fail("planner", "must be an object of planner config keys");
  const scenario: Scenario = {
    name,
    description: f.string("description", ""),
    group: f.string("group", ""),
    durationS: f.number("duration_s", 0, { above: 0 }),
    seed: f.number("seed", 1, { integer: true, min: 0 }),
    arrivals: f.string("arrivals"),
    poisson: f.boolean("poisson", false),
    lengths: { inputMin, inputMax, outputMin, outputMax },
    engine: parseEngine(o.engine, named),
    workers,
    dpRanks: f.number("dp_ranks", 2, { integer: true, min: 1 }),
    maxWorkers,
    startupDelayS: f.number("startup_delay_s", 5, { min: 0 }),
    scaleDown: scaleDown as ScaleDownMode,
    planner,
    baseDir,
  };
  if (o.duration_s === undefined) f.fail("duration_s", "is required (seconds, > 0)");
  // The arrivals and the planner keys are checked now, so a typo fails before any run.
  try {
    parseArrivalSpec(scenario.arrivals, {
      lengths: scenario.lengths,
      seed: scenario.seed,
      poisson: scenario.poisson,
      endS: scenario.durationS,
      baseDir,
    });
  } catch (err) {
    throw new ConfigError(`${named}: arrivals: ${(err as Error).message}`);
  }
  plannerSetup(scenario, {}, `${named}: planner`);
  return scenario;
}

/** A scenario file's text: one object or an array; names must be unique. */
export function parseScenarios(text: string, where: string, baseDir: string): Scenario[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new ConfigError(`${where}: no scenario in the file`);
  const out = list.map((o, i) => parseScenario(o, Array.isArray(v) ? `${where}[${i}]` : where, baseDir));
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) throw new ConfigError(`${where}: scenario name ${JSON.stringify(s.name)} appears twice`);
    seen.add(s.name);
  }
  return out;
}

export function loadScenarioFile(file: string): Scenario[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read scenario file ${file}: ${(err as Error).message}`);
  }
  return parseScenarios(text, file, path.dirname(path.resolve(file)));
}

/**
 * The planner configuration of a scenario: its `planner` keys with `overrides` (a
 * contender's keys) on top, and the engine facts the planner reads from a model card in
 * Dynamo filled in from the simulated engine when not given: `max_num_batched_tokens`,
 * `max_kv_tokens`, `context_length` (the KV capacity), `gpus_per_replica` (ranks x GPUs per
 * engine) and `max_gpu_budget` (max_workers replicas).
 */
export function scenarioPlannerConfig(s: Scenario, overrides: Record<string, unknown> = {}, where = ""): PlannerConfig {
  return plannerSetup(s, overrides, where).config;
}

/** The Dynamo planner keys of a scenario that fpm accepts but does not implement, each with why (for one warning). */
export function scenarioPlannerIgnored(s: Scenario): string[] {
  return plannerSetup(s, {}, "").ignored;
}

function plannerSetup(
  s: Pick<Scenario, "name" | "planner" | "engine" | "dpRanks" | "maxWorkers">,
  overrides: Record<string, unknown>,
  where: string,
): { config: PlannerConfig; ignored: string[] } {
  const label = where || `scenario ${JSON.stringify(s.name)}: planner`;
  const keys = plannerKeysFrom({ ...s.planner, ...overrides }, label);
  const process = Object.keys(keys.other);
  if (process.length > 0)
    throw new ConfigError(
      `${label}: ${process.join(", ")} configure the fpm planner process, not the planner of a scenario; remove them`,
    );
  const p = keys.partial;
  const gpusPerReplica = p.gpusPerReplica ?? s.dpRanks * s.engine.gpusPerEngine;
  try {
    const config = resolvePlannerConfig({
      ...p,
      maxNumBatchedTokens: p.maxNumBatchedTokens ?? s.engine.scheduler.maxNumBatchedTokens,
      maxKvTokens: p.maxKvTokens ?? s.engine.scheduler.kvCapacityTokens,
      contextLength: p.contextLength ?? s.engine.scheduler.kvCapacityTokens,
      gpusPerReplica,
      maxGpuBudget: p.maxGpuBudget ?? s.maxWorkers * gpusPerReplica,
    });
    return { config, ignored: keys.ignored.map((k) => `${k.key} (${k.why})`) };
  } catch (err) {
    throw new ConfigError(`${label}: ${(err as Error).message}`);
  }
}
