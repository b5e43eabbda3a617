/**
 * The closed loop of `fpm evaluate`: one simulated deployment (src/sim) on simulated time,
 * driven by one `ScalingController` (a contender: the planner, a fixed deployment, the
 * oracle, or any other), run as fast as the CPU allows and deterministic for a seed.
 *
 * The controller ticks every `tickIntervalS` of simulated time from 0, sees every forward
 * pass and worker event if it wants them, and scales through `ctx.scaleTo(n)`; new workers
 * take requests after the scenario's `startup_delay_s`, removed ones are killed or drained
 * as `scale_down` says. Arrivals stop at `duration_s`; the loop then runs on (controller
 * still ticking) until every request finished or `graceS` passed, so requests in flight at
 * the end are judged too. What it returns (`RunTrace`) is what the metrics are computed
 * from: every finished request's TTFT and mean ITL, the ready and provisioned worker
 * counts over time, and each scale action.
 *
 * ```ts
 * const trace = runClosedLoop({ scenario, arrivals: scenarioLoad(scenario).source(), controller });
 * ```
 */
import type { ArrivalSource } from "../sim/arrivals.js";
import { type ForwardPassEvent, SimulatedDeployment, type WorkerEvent } from "../sim/deployment.js";
import type { Scenario } from "./scenario.js";

/** Seconds the loop runs on after `duration_s` for requests still in flight. */
export const DEFAULT_GRACE_S = 60;
/** Idle engines' heartbeat period on the simulated clock (a real engine's default, 1 s). */
export const HEARTBEAT_INTERVAL_S = 1;

export interface ScaleAction {
  tS: number;
  /** Workers running or starting before and after. */
  from: number;
  to: number;
  reason: string;
}

/** What a controller may do and read during a run. */
export interface ControllerContext {
  readonly scenario: Scenario;
  /** Read the deployment (counts, views); scale only through `scaleTo`. */
  readonly deployment: SimulatedDeployment;
  /** Workers running or starting after the call is `n` clamped to 1..max_workers; a change is a scale action. */
  scaleTo(n: number, reason: string): void;
}

/** A contender's behaviour in the loop. */
export interface ScalingController {
  /** Seconds of simulated time between ticks (the first is at 0). */
  readonly tickIntervalS: number;
  /** Workers ready at time 0. Default: the scenario's `workers`. */
  readonly initialWorkers?: number;
  /** Called once before time 0 (worker events of the initial workers come before it). */
  start?(ctx: ControllerContext): void;
  /** Every forward pass as its engine publishes it; leave undefined when unused (it costs). */
  onForwardPass?(ev: ForwardPassEvent): void;
  onWorkerEvent?(ev: WorkerEvent): void;
  tick(nowS: number, ctx: ControllerContext): void;
  /** Counts for the report, for example decisions by reason. */
  summary?(): Record<string, number>;
}

/** A step function: `values[i]` holds from `times[i]` until `times[i + 1]`. */
export interface StepSeries {
  times: number[];
  values: number[];
}

export interface RunTrace {
  durationS: number;
  /** Per finished request, in finish order: arrival time, TTFT and mean ITL (NaN for one output token), seconds. */
  arrivalS: number[];
  ttftS: number[];
  itlS: number[];
  /** Arrival to last token, seconds. */
  latencyS: number[];
  arrived: number;
  rejected: number;
  /** Attempts started over after their worker was killed. */
  restarted: number;
  /** Arrived, not rejected, and not finished when the loop stopped. */
  unfinished: number;
  /** Workers taking requests. */
  ready: StepSeries;
  /** Workers paid for: running, starting or draining. */
  provisioned: StepSeries;
  actions: ScaleAction[];
  /** Integral of `provisioned` over [0, duration_s]. */
  replicaSeconds: number;
  controllerSummary: Record<string, number>;
}

export interface ClosedLoopOptions {
  scenario: Scenario;
  arrivals: ArrivalSource;
  controller: ScalingController;
  /** Default `DEFAULT_GRACE_S`. */
  graceS?: number;
}

function record(series: StepSeries, tS: number, value: number): void {
  const n = series.times.length;
  if (n > 0 && series.values[n - 1] === value) return;
  if (n > 0 && series.times[n - 1] === tS) series.values[n - 1] = value;
  else {
    series.times.push(tS);
    series.values.push(value);
  }
}

/** The value of a step series at `tS` (0 before its first point). */
export function stepValueAt(series: StepSeries, tS: number): number {
  let lo = 0;
  let hi = series.times.length - 1;
  if (hi < 0 || tS < series.times[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (series.times[mid] <= tS) lo = mid;
    else hi = mid - 1;
  }
  return series.values[lo];
}

/** The integral of a step series over [0, untilS]. */
export function stepIntegral(series: StepSeries, untilS: number): number {
  let sum = 0;
  for (let i = 0; i < series.times.length; i++) {
    const from = series.times[i];
    if (from >= untilS) break;
    const to = Math.min(untilS, i + 1 < series.times.length ? series.times[i + 1] : untilS);
    sum += series.values[i] * (to - from);
  }
  return sum;
}

export function runClosedLoop(opts: ClosedLoopOptions): RunTrace {
  const { scenario: s, controller } = opts;
  const graceS = opts.graceS ?? DEFAULT_GRACE_S;
  const trace: RunTrace = {
    durationS: s.durationS,
    arrivalS: [],
    ttftS: [],
    itlS: [],
    latencyS: [],
    arrived: 0,
    rejected: 0,
    restarted: 0,
    unfinished: 0,
    ready: { times: [], values: [] },
    provisioned: { times: [], values: [] },
    actions: [],
    replicaSeconds: 0,
    controllerSummary: {},
  };
  let deployment: SimulatedDeployment | null = null;
  const counts = () => {
    if (!deployment) return; // the initial workers' events come from the constructor; counted after it
    record(trace.ready, deployment.nowS, deployment.readyWorkerCount());
    record(trace.provisioned, deployment.nowS, deployment.workerCount() + deployment.drainingWorkerCount());
  };
  const onForwardPass = controller.onForwardPass?.bind(controller);
  deployment = new SimulatedDeployment({
    arrivals: opts.arrivals,
    workers: controller.initialWorkers ?? s.workers,
    dpRanks: s.dpRanks,
    scheduler: s.engine.scheduler,
    cost: s.engine.cost,
    seed: s.seed,
    startupDelayS: s.startupDelayS,
    // Heartbeats only matter to a controller that reads the engines' FPM.
    heartbeatIntervalS: onForwardPass ? HEARTBEAT_INTERVAL_S : undefined,
    maxWorkers: s.maxWorkers,
    scaleDown: s.scaleDown,
    onForwardPass,
    onWorkerEvent: (ev) => {
      counts();
      controller.onWorkerEvent?.(ev);
    },
    onRequestFinished: (r) => {
      trace.arrivalS.push(r.arrivalS);
      trace.ttftS.push(r.firstTokenS - r.arrivalS);
      trace.latencyS.push(r.finishS - r.arrivalS);
      trace.itlS.push(r.outputTokens > 1 ? (r.finishS - r.firstTokenS) / (r.outputTokens - 1) : NaN);
    },
  });
  counts();
  const d = deployment;

  const ctx: ControllerContext = {
    scenario: s,
    deployment: d,
    scaleTo: (n, reason) => {
      const from = d.workerCount();
      d.setWorkerCount(n);
      const to = d.workerCount();
      if (to !== from) trace.actions.push({ tS: d.nowS, from, to, reason });
    },
  };
  controller.start?.(ctx);
  const every = controller.tickIntervalS;
  if (!(every > 0)) throw new RangeError(`tickIntervalS must be > 0, got ${every}`);
  const endS = s.durationS + graceS;
  for (let k = 0; ; k++) {
    const t = k * every;
    if (t > endS) break;
    d.advanceTo(t);
    if (t > s.durationS && d.drained()) break;
    controller.tick(t, ctx);
  }
  trace.arrived = d.totals.arrivals;
  trace.rejected = d.totals.rejected;
  trace.restarted = d.totals.rerouted;
  trace.unfinished = Math.max(0, trace.arrived - trace.rejected - trace.arrivalS.length);
  trace.replicaSeconds = stepIntegral(trace.provisioned, s.durationS);
  trace.controllerSummary = controller.summary?.() ?? {};
  return trace;
}
