/**
 * How long a simulated forward pass takes:
 * `wall_time = a + b * prefill_tokens + c * decode_kv_tokens + d * decode_requests`, times
 * (1 + noise * N(0,1)). With d = 0 (the default) it is the linear form the planner's agg
 * model fits, so a test can check that the planner recovers a, b and c; d is the
 * per-sequence cost of a decoding request (its token's matmuls, sampling), which the
 * calibrated presets (engine-presets.ts) need.
 */
import { SeededRandom } from "./prng.js";

/** The cost model's coefficients by default: a toy engine (fpm simulate's defaults), not calibrated. */
export const DEFAULT_COST_MODEL = { a: 0.005, b: 2e-5, c: 5e-7, d: 0, noise: 0.02 } as const;

export interface CostModelOptions {
  /** Fixed cost per iteration, seconds. Default DEFAULT_COST_MODEL.a (0.005). */
  a?: number;
  /** Seconds per freshly computed prefill token. Default DEFAULT_COST_MODEL.b (2e-5). */
  b?: number;
  /** Seconds per KV token read by decoding requests. Default DEFAULT_COST_MODEL.c (5e-7). */
  c?: number;
  /** Seconds per decoding request in the iteration. Default DEFAULT_COST_MODEL.d (0). */
  d?: number;
  /** Relative standard deviation of the multiplicative noise; 0 = deterministic. Default DEFAULT_COST_MODEL.noise (0.02). */
  noise?: number;
  /** Seed of the noise stream. Default 1. */
  seed?: number;
}

/** The shortest iteration the model returns, so noise never yields 0 (0 means heartbeat on the wire). */
export const MIN_WALL_TIME_S = 1e-6;

export class CostModel {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly noise: number;
  private readonly rng: SeededRandom;

  constructor(opts: CostModelOptions = {}) {
    this.a = opts.a ?? DEFAULT_COST_MODEL.a;
    this.b = opts.b ?? DEFAULT_COST_MODEL.b;
    this.c = opts.c ?? DEFAULT_COST_MODEL.c;
    this.d = opts.d ?? DEFAULT_COST_MODEL.d;
    this.noise = opts.noise ?? DEFAULT_COST_MODEL.noise;
    this.rng = new SeededRandom(opts.seed ?? 1);
    for (const [k, v] of Object.entries({ a: this.a, b: this.b, c: this.c, d: this.d, noise: this.noise })) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`cost model ${k} must be a finite number >= 0, got ${v}`);
    }
  }

  /** The noiseless wall time of an iteration. */
  expected(prefillTokens: number, decodeKvTokens: number, decodeRequests = 0): number {
    return this.a + this.b * prefillTokens + this.c * decodeKvTokens + this.d * decodeRequests;
  }

  /** The wall time of one iteration, with noise. */
  wallTime(prefillTokens: number, decodeKvTokens: number, decodeRequests = 0): number {
    const base = this.expected(prefillTokens, decodeKvTokens, decodeRequests);
    const factor = this.noise > 0 ? 1 + this.noise * this.rng.normal() : 1;
    return Math.max(MIN_WALL_TIME_S, base * factor);
  }
}
