/**
 * How many workers a steady load needs: the yardstick of the oracle, of the fixed
 * deployment and of "under-provisioned". For n = 1, 2, ... workers, fixed and ready from
 * the start, the highest steady rate (the scenario's arrival process and request lengths)
 * at which at least `target` (99%) of the requests arriving after a warm-up finish within
 * both SLAs (TTFT, and mean ITL); found by bracketing and bisection to 2%. The need at a
 * rate is then the smallest n whose highest rate reaches it (max_workers when none does).
 */
import type { ArrivalSource } from "../sim/arrivals.js";
import { runClosedLoop } from "./closed-loop.js";
import { FixedController } from "./controllers.js";
import type { Scenario } from "./scenario.js";
import type { ScenarioLoad } from "./scenario-load.js";

export interface SizingTable {
  /** `maxRate[n]`: highest steady req/s n workers serve within both SLAs for `target` of requests; `[0]` is 0. */
  maxRate: number[];
  /** `concurrency[n]`: requests in flight on n workers at `maxRate[n]` (rate x mean time in system). */
  concurrency: number[];
  /** Share of requests that must be within both SLAs. */
  target: number;
}

export interface SizingOptions {
  /** Engine, ranks and max_workers come from here. */
  scenario: Scenario;
  load: Pick<ScenarioLoad, "steady">;
  ttftMs: number;
  itlMs: number;
  /** Stop once a worker count serves this rate. Default: size every count up to max_workers. */
  upToRate?: number;
  /** Default 0.99. */
  target?: number;
  /** Seconds before requests count. Default 60. */
  warmupS?: number;
  /** Seconds of arrivals that count. Default 120. */
  measureS?: number;
  /** Seed of the sizing runs (not the scenario's, so scenarios share them). Default 1. */
  seed?: number;
}

/** Relative width at which the bisection stops. */
const RATE_TOLERANCE = 0.02;

/** Counts the arrivals at or after `fromS`. */
class CountingArrivals implements ArrivalSource {
  counted = 0;
  constructor(
    private readonly inner: ArrivalSource,
    private readonly fromS: number,
  ) {}
  next() {
    const a = this.inner.next();
    if (a && a.atS >= this.fromS) this.counted++;
    return a;
  }
}

/** A steady run: the share of the requests arriving after the warm-up that finished within both SLAs, and the requests in flight. */
export interface SteadyRun {
  attainment: number;
  /** Mean requests in flight (Little's law: rate x mean time in system of the measured requests). */
  concurrency: number;
}

/** One steady run on `n` fixed workers (see `SteadyRun`). */
export function steadyAttainment(opts: SizingOptions, n: number, rate: number): SteadyRun {
  if (!(rate > 0)) return { attainment: 1, concurrency: 0 };
  const warmupS = opts.warmupS ?? 60;
  const endS = warmupS + (opts.measureS ?? 120);
  const seed = opts.seed ?? 1;
  const scenario: Scenario = {
    ...opts.scenario,
    durationS: endS,
    seed,
    workers: n,
    maxWorkers: Math.max(n, opts.scenario.maxWorkers),
    startupDelayS: 0,
  };
  const arrivals = new CountingArrivals(opts.load.steady(rate, seed, endS), warmupS);
  const trace = runClosedLoop({ scenario, arrivals, controller: new FixedController(n, 60) });
  const ttft = opts.ttftMs / 1000;
  const itl = opts.itlMs / 1000;
  let within = 0;
  let measured = 0;
  let timeInSystem = 0;
  for (let i = 0; i < trace.arrivalS.length; i++) {
    if (trace.arrivalS[i] < warmupS) continue;
    measured++;
    timeInSystem += trace.latencyS[i];
    const l = trace.itlS[i];
    if (trace.ttftS[i] <= ttft && (Number.isNaN(l) || l <= itl)) within++;
  }
  return {
    attainment: arrivals.counted === 0 ? 1 : within / arrivals.counted,
    concurrency: measured === 0 ? 0 : (rate * timeInSystem) / measured,
  };
}

export function sizeDeployment(opts: SizingOptions): SizingTable {
  const target = opts.target ?? 0.99;
  const upTo = opts.upToRate ?? Infinity;
  let lastPass: SteadyRun = { attainment: 1, concurrency: 0 };
  const passes = (n: number, rate: number) => {
    const r = steadyAttainment(opts, n, rate);
    if (r.attainment >= target) lastPass = r;
    return r.attainment >= target;
  };
  const maxRate = [0];
  const concurrency = [0];
  for (let n = 1; n <= opts.scenario.maxWorkers; n++) {
    const prev = maxRate[n - 1];
    // n workers serve at least what n - 1 serve; the first guess scales the last result.
    lastPass = { attainment: 1, concurrency: concurrency[n - 1] };
    let lo = prev;
    let hi = n === 1 ? 4 : (prev * n * 1.1) / (n - 1);
    while (passes(n, hi)) {
      lo = hi;
      hi *= n === 1 ? 2 : 1.15;
      if (hi > 1e6) break;
    }
    while (hi - lo > RATE_TOLERANCE * hi) {
      const mid = (lo + hi) / 2;
      if (passes(n, mid)) lo = mid;
      else hi = mid;
    }
    maxRate.push(+lo.toFixed(3));
    concurrency.push(+lastPass.concurrency.toFixed(2));
    if (lo >= upTo) break;
  }
  return { maxRate, concurrency, target };
}

/** The fewest workers whose highest steady rate reaches `rate`; the largest count sized when none does. */
export function needFor(table: SizingTable, rate: number): number {
  for (let n = 1; n < table.maxRate.length; n++) if (table.maxRate[n] >= rate) return n;
  return Math.max(1, table.maxRate.length - 1);
}
