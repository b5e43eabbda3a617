/**
 * Request arrivals: when requests reach the deployment and how long their prompts and
 * outputs are. Sources yield arrivals in time order on the simulated clock.
 */
import { type LoadShape, cumulativeArrivals, maxRate, nextNonZero, rateAt, timeOfCumulative } from "./load-shape.js";
import { SeededRandom } from "./prng.js";

export interface Arrival {
  /** Simulated time of arrival, seconds from the start. */
  atS: number;
  /** Prompt length in tokens (> 0). */
  inputTokens: number;
  /** Tokens to generate (> 0). */
  outputTokens: number;
  /** Prompt tokens already in the prefix cache (read, not computed). Default 0. */
  cachedTokens: number;
}

export interface ArrivalSource {
  /** The next arrival, or null when the source is exhausted. */
  next(): Arrival | null;
}

/** Inclusive token ranges; lengths are drawn uniformly from them. */
export interface RequestLengths {
  inputMin: number;
  inputMax: number;
  outputMin: number;
  outputMax: number;
}

export const DEFAULT_REQUEST_LENGTHS: RequestLengths = { inputMin: 256, inputMax: 1024, outputMin: 32, outputMax: 128 };

export interface RateArrivalsOptions {
  shape: LoadShape;
  /** Poisson (exponential gaps, thinned to the shape) instead of evenly spaced arrivals. Default false. */
  poisson?: boolean;
  lengths?: RequestLengths;
  /** Seed of the arrival and length streams. Default 1. */
  seed?: number;
  /** No arrival at or after this time. Default: none. */
  endS?: number;
}

/** Arrivals that follow a rate over time, evenly spaced or Poisson. */
export class RateArrivals implements ArrivalSource {
  private readonly shape: LoadShape;
  private readonly poisson: boolean;
  private readonly lengths: RequestLengths;
  private readonly rng: SeededRandom;
  private readonly endS: number;
  private tS = 0;
  private first = true;
  /** Integral of the rate at the last even arrival. */
  private count = 0;

  constructor(opts: RateArrivalsOptions) {
    this.shape = opts.shape;
    this.poisson = opts.poisson ?? false;
    this.lengths = opts.lengths ?? DEFAULT_REQUEST_LENGTHS;
    this.rng = new SeededRandom(opts.seed ?? 1);
    this.endS = opts.endS ?? Infinity;
  }

  next(): Arrival | null {
    const t = this.poisson ? this.nextPoisson() : this.nextEven();
    if (t === null || t >= this.endS) return null;
    this.tS = t;
    const l = this.lengths;
    return {
      atS: t,
      inputTokens: this.rng.int(l.inputMin, l.inputMax),
      outputTokens: this.rng.int(l.outputMin, l.outputMax),
      cachedTokens: 0,
    };
  }

  private nextEven(): number | null {
    // Evenly spaced in expected count: one arrival each time the rate's integral grows by 1.
    if (this.first) {
      this.first = false;
      const t = nextNonZero(this.shape, 0);
      if (t !== null) this.count = cumulativeArrivals(this.shape, t);
      return t;
    }
    this.count += 1;
    const found = timeOfCumulative(this.shape, this.count, this.tS);
    if (found === null) return null;
    // Round off bisection noise so that a rate of 2/s gives 0.5, not 0.5000000000001.
    const t = Math.round(found * 1e9) / 1e9;
    if (rateAt(this.shape, t) > 0) return t;
    // Landed on the edge of a zero-rate region: wait until the rate comes back.
    const resume = nextNonZero(this.shape, t);
    if (resume !== null) this.count = cumulativeArrivals(this.shape, resume);
    return resume;
  }

  private nextPoisson(): number | null {
    const peak = maxRate(this.shape);
    if (peak <= 0) return null;
    let t = this.tS;
    this.first = false;
    // Thinning (Lewis-Shedler): candidates at the peak rate, kept with probability rate(t)/peak.
    for (let guard = 0; guard < 10_000_000; guard++) {
      t += this.rng.exponential(peak);
      if (t >= this.endS) return null;
      const rate = rateAt(this.shape, t);
      if (rate <= 0) {
        const resume = nextNonZero(this.shape, t);
        if (resume === null) return null;
        t = resume;
        continue;
      }
      if (this.rng.next() * peak < rate) return t;
    }
    return null;
  }
}

/** A fixed list of arrivals (for example parsed from an NDJSON file). */
export class ListArrivals implements ArrivalSource {
  private i = 0;
  constructor(private readonly arrivals: readonly Arrival[]) {}
  next(): Arrival | null {
    return this.i < this.arrivals.length ? this.arrivals[this.i++] : null;
  }
}
