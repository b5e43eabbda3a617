/**
 * The two units of work of an evaluation, pure functions of plain data so they run the
 * same in this thread or in a worker thread (pool.ts): size a scenario's deployment, and
 * run one contender on one scenario into its report row and plot series.
 */
import { runClosedLoop, type StepSeries } from "./closed-loop.js";
import { type ContenderSpec, resolveContender } from "./contenders.js";
import { computeRow, type EvaluationRow, p95TtftSeries } from "./metrics.js";
import { type Scenario, scenarioPlannerConfig } from "./scenario.js";
import { scenarioLoad } from "./scenario-load.js";
import { needFor, type SizingTable, sizeDeployment } from "./sizing.js";

/** Flaps are reversals within this many planner ticks. */
export const FLAP_TICKS = 3;

export interface SizingJob {
  scenario: Scenario;
  upToRate: number;
}

export interface ContenderJob {
  scenario: Scenario;
  contender: ContenderSpec;
  sizing: SizingTable;
  /** Width of the p95 TTFT windows of the plot, seconds. */
  windowS: number;
}

export interface ContenderRun {
  row: EvaluationRow;
  ready: StepSeries;
  /** p95 TTFT (ms) per window of `windowS`. */
  p95TtftMs: (number | null)[];
  controllerSummary: Record<string, number>;
}

export function runSizingJob(job: SizingJob): SizingTable {
  const sla = scenarioPlannerConfig(job.scenario);
  return sizeDeployment({
    scenario: job.scenario,
    load: scenarioLoad(job.scenario),
    ttftMs: sla.ttftMs,
    itlMs: sla.itlMs,
    upToRate: job.upToRate,
  });
}

export function runContenderJob(job: ContenderJob): ContenderRun {
  const s = job.scenario;
  const load = scenarioLoad(s);
  const config = scenarioPlannerConfig(s);
  const contender = resolveContender(job.contender);
  const controller = contender.create(s, { load, sizing: job.sizing });
  const trace = runClosedLoop({ scenario: s, arrivals: load.source(), controller });
  const row = computeRow(s.name, contender.name, trace, {
    ttftMs: config.ttftMs,
    itlMs: config.itlMs,
    need: (t) => needFor(job.sizing, load.rateAt(t)),
    flapWindowS: FLAP_TICKS * config.loadAdjustmentIntervalS,
    riseWindowS: s.startupDelayS > 0 ? s.startupDelayS : config.loadAdjustmentIntervalS,
  });
  return {
    row,
    ready: trace.ready,
    p95TtftMs: p95TtftSeries(trace, job.windowS),
    controllerSummary: trace.controllerSummary,
  };
}
