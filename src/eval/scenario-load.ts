/**
 * A scenario's load made concrete: a fresh arrival source for every run (the same seed
 * gives the same requests, so every contender faces identical traffic), the rate over time
 * the oracle plans with, and steady loads with the same request lengths for sizing.
 * Rate forms give their rate exactly; arrival lists (`file:`, `recording:`) give a centred
 * moving average over `LIST_RATE_WINDOW_S`.
 */
import type { LineProblem } from "../recording/ndjson-file.js";
import { parseArrivalSpec } from "../sim/arrival-spec.js";
import { type Arrival, type ArrivalSource, ListArrivals, RateArrivals } from "../sim/arrivals.js";
import { rateAt as shapeRateAt } from "../sim/load-shape.js";
import { SeededRandom } from "../sim/prng.js";
import type { Scenario } from "./scenario.js";

/** Seconds over which an arrival list's rate is averaged. */
export const LIST_RATE_WINDOW_S = 10;

export interface ScenarioLoad {
  /** A new source of the scenario's arrivals, from time 0 to `duration_s`. */
  source(): ArrivalSource;
  /** Requests per second at `tS`. */
  rateAt(tS: number): number;
  /** The highest rate over the scenario (sampled every 0.5 s). */
  peakRate: number;
  /** A steady load at `rate` with the scenario's request lengths (for sizing runs). */
  steady(rate: number, seed: number, endS: number): ArrivalSource;
  /** Identifies the request-length distribution and arrival process, for sharing sizing runs. */
  steadyKey: string;
  /** Malformed lines of an arrivals file or recording (skipped). */
  problems: LineProblem[];
  description: string;
  /** The arrival list of `file:` / `recording:` forms. */
  list?: readonly Arrival[];
}

/** Steady arrivals at `rate` whose lengths are drawn from a list of recorded requests. */
class ResampledArrivals implements ArrivalSource {
  private readonly rng: SeededRandom;
  private tS = 0;
  private first = true;

  constructor(
    private readonly from: readonly Arrival[],
    private readonly rate: number,
    private readonly poisson: boolean,
    seed: number,
    private readonly endS: number,
  ) {
    this.rng = new SeededRandom(seed);
  }

  next(): Arrival | null {
    if (this.from.length === 0 || !(this.rate > 0)) return null;
    if (this.first) this.first = false;
    else this.tS += this.poisson ? this.rng.exponential(this.rate) : 1 / this.rate;
    if (this.tS >= this.endS) return null;
    const a = this.from[Math.floor(this.rng.next() * this.from.length)];
    return { atS: this.tS, inputTokens: a.inputTokens, outputTokens: a.outputTokens, cachedTokens: a.cachedTokens };
  }
}

function peakOf(rate: (t: number) => number, durationS: number): number {
  let peak = 0;
  for (let t = 0; t <= durationS; t += 0.5) peak = Math.max(peak, rate(t));
  return peak;
}

export function scenarioLoad(s: Scenario): ScenarioLoad {
  const parsed = parseArrivalSpec(s.arrivals, {
    lengths: s.lengths,
    seed: s.seed,
    poisson: s.poisson,
    endS: s.durationS,
    baseDir: s.baseDir,
  });
  const l = s.lengths;
  if (parsed.shape) {
    const shape = parsed.shape;
    // `poisson:RATE` is Poisson whatever the flag says; the description records which.
    const poisson = s.poisson || s.arrivals.startsWith("poisson:");
    const rate = (t: number) => shapeRateAt(shape, t);
    return {
      source: () => new RateArrivals({ shape, poisson, lengths: l, seed: s.seed, endS: s.durationS }),
      rateAt: rate,
      peakRate: peakOf(rate, s.durationS),
      steady: (r, seed, endS) =>
        new RateArrivals({ shape: { kind: "constant", rate: r }, poisson, lengths: l, seed, endS }),
      steadyKey: `uniform:${l.inputMin}:${l.inputMax}:${l.outputMin}:${l.outputMax}:${poisson ? "poisson" : "even"}`,
      problems: parsed.problems,
      description: parsed.description,
    };
  }
  const list = parsed.list ?? [];
  // Arrivals per whole second, then a centred moving window.
  const perSecond = new Array(Math.ceil(s.durationS) + 1).fill(0);
  for (const a of list) perSecond[Math.min(perSecond.length - 1, Math.floor(a.atS))]++;
  const prefix = [0];
  for (const c of perSecond) prefix.push(prefix[prefix.length - 1] + c);
  const half = LIST_RATE_WINDOW_S / 2;
  const rate = (t: number) => {
    const lo = Math.max(0, Math.floor(t - half));
    const hi = Math.min(perSecond.length, Math.max(lo + 1, Math.floor(t + half)));
    return (prefix[hi] - prefix[lo]) / (hi - lo);
  };
  let sum = 0;
  for (const a of list) sum = (sum * 31 + a.inputTokens * 7 + a.outputTokens) % 1_000_000_007;
  return {
    source: () => new ListArrivals(list),
    rateAt: rate,
    peakRate: peakOf(rate, s.durationS),
    steady: (r, seed, endS) => new ResampledArrivals(list, r, true, seed, endS),
    steadyKey: `list:${s.name}:${list.length}:${sum}`,
    problems: parsed.problems,
    description: parsed.description,
    list,
  };
}
