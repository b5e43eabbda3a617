/**
 * The contenders of `fpm evaluate`, and the place to add more. A contender makes a
 * `ScalingController` for a scenario; what it may use besides the scenario is in
 * `ContenderEnv` (the scenario's load and its sizing table: the oracle's knowledge).
 *
 * Built in: `default` and `parity` (the planner in each mode, on the scenario's planner
 * keys), `fixed-peak` (a fixed deployment sized for the scenario's peak rate), `oracle`
 * (knows the arrival schedule, see controllers.ts) and `reactive-bound` (the oracle
 * without foresight: what no planner reacting to the load can beat at the oracle's sizing).
 * Two ways to add one:
 *
 * - a planner configuration: `plannerContender("window-60", { mode: "default", ... })` in
 *   `BUILTIN_CONTENDERS`, or `fpm evaluate --contender NAME=FILE.json` (planner keys,
 *   Dynamo's names, applied over the scenario's);
 * - any controller: an object `{ name, description, create }` in `BUILTIN_CONTENDERS`.
 *
 * Contenders are named in a worker thread by `ContenderSpec` (a name, plus planner keys
 * for configuration contenders), so a built-in must be constructible from its name alone.
 */
import { ConfigError } from "../util/errors.js";
import type { ScalingController } from "./closed-loop.js";
import { FixedController, OracleController, ReactiveBoundController } from "./controllers.js";
import { PlannerController } from "./planner-controller.js";
import { type Scenario, scenarioPlannerConfig } from "./scenario.js";
import type { ScenarioLoad } from "./scenario-load.js";
import { needFor, type SizingTable } from "./sizing.js";

/** What a contender may know besides the scenario. */
export interface ContenderEnv {
  load: ScenarioLoad;
  sizing: SizingTable;
}

export interface Contender {
  /** Names the row in the table and the line in the plot: letters, digits, '_', '.', '-'. */
  name: string;
  description: string;
  /** Planner keys set over the scenario's, for planner contenders (checked when specs are resolved). */
  plannerKeys?: Record<string, unknown>;
  create(scenario: Scenario, env: ContenderEnv): ScalingController;
}

/** A contender by name, with planner keys when it is a planner configuration. Plain data (crosses to workers). */
export interface ContenderSpec {
  name: string;
  planner?: Record<string, unknown>;
}

/** The planner with `keys` over the scenario's planner keys. */
export function plannerContender(name: string, keys: Record<string, unknown>, description?: string): Contender {
  return {
    name,
    description: description ?? `the planner with ${JSON.stringify(keys)} over the scenario's planner keys`,
    plannerKeys: keys,
    create: (s) => new PlannerController({ config: scenarioPlannerConfig(s, keys, `contender ${name}: planner`) }),
  };
}

export const BUILTIN_CONTENDERS: readonly Contender[] = [
  plannerContender("default", { planner_mode: "default" }, "fpm's planner in its default mode"),
  plannerContender(
    "parity",
    { planner_mode: "parity" },
    "fpm's planner in parity mode (the reference planner's rules)",
  ),
  {
    name: "fixed-peak",
    description: "a fixed deployment of the workers the peak rate needs (by the sizing table)",
    create: (s, env) =>
      new FixedController(
        Math.min(s.maxWorkers, needFor(env.sizing, env.load.peakRate)),
        scenarioPlannerConfig(s).loadAdjustmentIntervalS,
      ),
  },
  {
    name: "reactive-bound",
    description:
      "the oracle without foresight: sees a rise when it happens, asks at once for the need and the shortfall again, pays the start-up",
    create: (_s, env) =>
      new ReactiveBoundController((t) => needFor(env.sizing, env.load.rateAt(t)), env.sizing.concurrency),
  },
  {
    name: "oracle",
    description: "knows the arrival schedule: the workers each moment needs, started a start-up delay ahead",
    create: (s, env) =>
      new OracleController((t) => needFor(env.sizing, env.load.rateAt(t)), s.startupDelayS, env.sizing.concurrency),
  },
];

export const DEFAULT_CONTENDERS = BUILTIN_CONTENDERS.map((c) => c.name);

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** The contender a spec names: a built-in, or a planner configuration. ConfigError when neither. */
export function resolveContender(spec: ContenderSpec): Contender {
  if (!NAME_RE.test(spec.name))
    throw new ConfigError(`contender name ${JSON.stringify(spec.name)}: use 1-32 letters, digits, '_', '.' or '-'`);
  if (spec.planner) return plannerContender(spec.name, spec.planner, `the planner with the keys of ${spec.name}`);
  const c = BUILTIN_CONTENDERS.find((b) => b.name === spec.name);
  if (!c)
    throw new ConfigError(
      `unknown contender ${JSON.stringify(spec.name)}; built in: ${DEFAULT_CONTENDERS.join(", ")}, or give NAME=FILE.json with planner keys`,
    );
  return c;
}
