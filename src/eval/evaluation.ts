/**
 * An evaluation: every scenario x contender in closed loop, judged against the oracle.
 * The stable entry point of the library (the CLI, the benchmark and the policy work all
 * call it):
 *
 * ```ts
 * const scenarios = loadScenarioFile("scenarios/standard.json");
 * const result = await evaluate({ scenarios, contenders: [{ name: "default" }, { name: "oracle" }], threads: 2 });
 * console.log(renderTable(result));                        // report.ts
 * for (const s of result) for (const row of s.rows) console.log(row.both_within_sla, row.cost_vs_oracle);
 * ```
 *
 * Steps: each distinct sizing (engine, ranks, request lengths, SLAs) is computed once up
 * to the highest peak that needs it; then every scenario x contender runs, the oracle
 * always (its replica-seconds are the cost yardstick; its row is shown when asked for).
 * The same scenarios and contenders give the same result, byte for byte, whatever
 * `threads` is.
 */
import type { StepSeries } from "./closed-loop.js";
import type { ContenderSpec } from "./contenders.js";
import { resolveContender } from "./contenders.js";
import type { ContenderRun } from "./jobs.js";
import { costVsOracle, type EvaluationRow } from "./metrics.js";
import { type PoolJob, runPool } from "./pool.js";
import { type Scenario, scenarioPlannerConfig } from "./scenario.js";
import { scenarioLoad } from "./scenario-load.js";
import type { SizingTable } from "./sizing.js";

export const ORACLE = "oracle";

export interface EvaluateOptions {
  scenarios: readonly Scenario[];
  contenders: readonly ContenderSpec[];
  /** Worker threads. Default 1 (this thread). */
  threads?: number;
  /** Progress lines (wall times; never part of the result). */
  onProgress?: (line: string) => void;
}

/** What the plot of one scenario draws. */
export interface ScenarioPlot {
  durationS: number;
  ttftSlaMs: number;
  /** The arrival rate at every `rateStepS`. */
  rateStepS: number;
  rate: number[];
  /** Width of the p95 TTFT windows. */
  windowS: number;
  contenders: { name: string; ready: StepSeries; p95TtftMs: (number | null)[] }[];
}

export interface ScenarioEvaluation {
  scenario: {
    name: string;
    description: string;
    group: string;
    arrivals: string;
    engine: string;
    duration_s: number;
    dp_ranks: number;
    max_workers: number;
    startup_delay_s: number;
    scale_down: string;
    ttft_sla_ms: number;
    itl_sla_ms: number;
    interval_s: number;
    peak_rate: number;
    /** Highest steady req/s of 1, 2, ... workers within both SLAs (index 0 unused). */
    sizing: number[];
  };
  rows: EvaluationRow[];
  plot: ScenarioPlot;
  /** Per contender: its controller's counts (decisions by reason, messages delivered). */
  controllerSummaries: Record<string, Record<string, number>>;
}

/** Width of the plot's p95 windows: about 80 windows, in whole multiples of 5 s. */
export function plotWindowS(durationS: number): number {
  return Math.max(5, Math.ceil(durationS / 80 / 5) * 5);
}

function sizingKey(s: Scenario, steadyKey: string): string {
  const c = scenarioPlannerConfig(s);
  return JSON.stringify([steadyKey, s.engine, s.dpRanks, s.maxWorkers, c.ttftMs, c.itlMs, s.scaleDown]);
}

export async function evaluate(opts: EvaluateOptions): Promise<ScenarioEvaluation[]> {
  const say = opts.onProgress ?? (() => {});
  const names = opts.contenders.map((c) => resolveContender(c).name);
  if (new Set(names).size !== names.length) throw new RangeError("each contender may appear once");
  // Checked up front, so a bad contender config fails before any run.
  for (const c of opts.contenders) {
    const keys = resolveContender(c).plannerKeys;
    if (keys) for (const s of opts.scenarios) scenarioPlannerConfig(s, keys, `contender ${c.name}: planner`);
  }
  const runs: ContenderSpec[] = names.includes(ORACLE) ? [...opts.contenders] : [...opts.contenders, { name: ORACLE }];

  const loads = opts.scenarios.map((s) => scenarioLoad(s));
  const keys = opts.scenarios.map((s, i) => sizingKey(s, loads[i].steadyKey));
  const sizingJobs = new Map<string, { scenario: Scenario; upToRate: number }>();
  opts.scenarios.forEach((s, i) => {
    const j = sizingJobs.get(keys[i]);
    if (!j) sizingJobs.set(keys[i], { scenario: s, upToRate: loads[i].peakRate });
    else j.upToRate = Math.max(j.upToRate, loads[i].peakRate);
  });
  const sizingKeys = [...sizingJobs.keys()];
  const tables = (await runPool(
    sizingKeys.map((k): PoolJob => ({ kind: "size", job: sizingJobs.get(k)! })),
    opts.threads ?? 1,
    (i, wallS) => say(`sized ${sizingJobs.get(sizingKeys[i])!.scenario.name} and alike in ${wallS.toFixed(1)} s`),
  )) as SizingTable[];
  const sizing = new Map(sizingKeys.map((k, i) => [k, tables[i]]));

  const jobs: { scenario: number; contender: number; job: PoolJob }[] = [];
  opts.scenarios.forEach((s, si) => {
    runs.forEach((c, ci) => {
      jobs.push({
        scenario: si,
        contender: ci,
        job: {
          kind: "run",
          job: { scenario: s, contender: c, sizing: sizing.get(keys[si])!, windowS: plotWindowS(s.durationS) },
        },
      });
    });
  });
  // Longest first packs the pool better; results are placed by index, so the order of work does not matter.
  const order = jobs
    .map((j, i) => ({ i, weight: opts.scenarios[j.scenario].durationS * (loads[j.scenario].peakRate + 1) }))
    .sort((a, b) => b.weight - a.weight || a.i - b.i)
    .map((x) => x.i);
  const out = (await runPool(
    order.map((i) => jobs[i].job),
    opts.threads ?? 1,
    (k, wallS) => {
      const j = jobs[order[k]];
      say(`ran ${opts.scenarios[j.scenario].name} x ${runs[j.contender].name} in ${wallS.toFixed(1)} s`);
    },
  )) as ContenderRun[];
  const byJob: ContenderRun[] = new Array(jobs.length);
  order.forEach((jobIndex, k) => {
    byJob[jobIndex] = out[k];
  });

  return opts.scenarios.map((s, si) => {
    const config = scenarioPlannerConfig(s);
    const load = loads[si];
    const table = sizing.get(keys[si])!;
    const scenarioRuns = runs.map((_, ci) => byJob[si * runs.length + ci]);
    const oracle = scenarioRuns[runs.findIndex((c) => c.name === ORACLE)];
    const shown = scenarioRuns.slice(0, opts.contenders.length);
    const rows = shown.map((r) => ({
      ...r.row,
      cost_vs_oracle: costVsOracle(r.row.replica_seconds, oracle.row.replica_seconds),
    }));
    const rateStepS = Math.max(1, s.durationS / 400);
    const rate: number[] = [];
    for (let t = 0; t <= s.durationS + 1e-9; t += rateStepS) rate.push(Number(load.rateAt(t).toFixed(3)));
    return {
      scenario: {
        name: s.name,
        description: s.description,
        group: s.group,
        arrivals: s.arrivals,
        engine: s.engine.name,
        duration_s: s.durationS,
        dp_ranks: s.dpRanks,
        max_workers: s.maxWorkers,
        startup_delay_s: s.startupDelayS,
        scale_down: s.scaleDown,
        ttft_sla_ms: config.ttftMs,
        itl_sla_ms: config.itlMs,
        interval_s: config.loadAdjustmentIntervalS,
        peak_rate: Number(load.peakRate.toFixed(3)),
        sizing: table.maxRate,
      },
      rows,
      plot: {
        durationS: s.durationS,
        ttftSlaMs: config.ttftMs,
        rateStepS,
        rate,
        windowS: plotWindowS(s.durationS),
        contenders: shown.map((r) => ({ name: r.row.contender, ready: r.ready, p95TtftMs: r.p95TtftMs })),
      },
      controllerSummaries: Object.fromEntries(shown.map((r) => [r.row.contender, r.controllerSummary])),
    };
  });
}
