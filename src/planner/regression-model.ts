/**
 * What the prefill, decode and agg models share (docs/design/planner-algorithm.md sections 4
 * and 5): moving averages updated on every FPM, heartbeats never samples, a
 * bucketed sample store, a lazy OLS fit that a negative coefficient rejects, and
 * predictions floored at 1e-6 s.
 */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { BucketedSampleStore } from "./bucketed-samples.js";
import { fitOls, type OlsFit } from "./ols.js";

/** The planner's model kinds: a prefill, a decode or an aggregated (both) component. */
export const MODEL_KINDS = ["prefill", "decode", "agg"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** A model's fit: fitted, too few samples, or a fit rejected (a negative coefficient). */
export const FIT_STATUSES = ["fitted", "insufficient_data", "fit_rejected"] as const;
/** `fitted`: estimates available; the others say why not. */
export type FitStatus = (typeof FIT_STATUSES)[number];

export interface RegressionModelOptions {
  /** Samples kept (`max_num_fpm_samples`), also the window of every moving average. Default 64. */
  maxSamples?: number;
  /** Total buckets, a perfect square (`fpm_sample_bucket_size`). Default 16. */
  bucketCount?: number;
  /** Samples needed before a fit (`load_min_observations`). Default 5. */
  minObservations?: number;
}

/** Predictions never go below one microsecond, as in the reference. */
export const MIN_PREDICTION_S = 1e-6;
/**
 * A relaxable coefficient (decode's `num_decode_requests`) within this distance below 0 is
 * numerical noise and kept as is; further below it is clamped to 0 (the reference's rule).
 */
export const RELAXABLE_NEGATIVE_TOLERANCE = 1e-6;

export abstract class RegressionModel {
  abstract readonly kind: ModelKind;
  readonly store: BucketedSampleStore;
  readonly minObservations: number;
  readonly maxSamples: number;
  /** Feature indices whose negative coefficient is clamped instead of rejecting the fit. */
  protected readonly relaxable: ReadonlySet<number> = new Set();
  private fit: OlsFit | null = null;
  private fitted = false;
  /** The data has not changed since the last rejected fit: refitting would give the same answer. */
  private rejectedUnchanged = false;
  private lastStatus: FitStatus = "insufficient_data";
  /** FPM seen (heartbeats included) and samples added, since creation. */
  observed = 0;
  samplesAdded = 0;
  /** Fits attempted and rejected for a negative coefficient. */
  fitsRejected = 0;
  private readonly xbuf: number[];

  constructor(
    readonly ndim: 1 | 2,
    opts: RegressionModelOptions = {},
  ) {
    this.maxSamples = opts.maxSamples ?? 64;
    this.minObservations = opts.minObservations ?? 5;
    this.store = new BucketedSampleStore({ ndim, bucketCount: opts.bucketCount ?? 16, maxSamples: this.maxSamples });
    this.xbuf = new Array(ndim).fill(0);
  }

  /** Writes this model's features of `fpm` into `out`. */
  protected abstract features(fpm: ForwardPassMetrics, out: number[]): void;
  protected abstract updateAverages(fpm: ForwardPassMetrics): void;

  /**
   * Feeds one FPM: the averages always move; a non-heartbeat becomes a sample unless
   * `asSample` is false (the default mode's cold-start iterations). Values that are not
   * finite never reach the store.
   */
  observe(fpm: ForwardPassMetrics, asSample = true): boolean {
    this.observed++;
    this.updateAverages(fpm);
    if (fpm.wallTimeS === 0 || !asSample) return false;
    if (!Number.isFinite(fpm.wallTimeS) || fpm.wallTimeS < 0) return false;
    const x = this.xbuf;
    this.features(fpm, x);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
    this.store.add(x, fpm.wallTimeS);
    this.samplesAdded++;
    this.fitted = false;
    this.rejectedUnchanged = false;
    return true;
  }

  get sampleCount(): number {
    return this.store.size;
  }

  hasSufficientData(): boolean {
    return this.store.size >= this.minObservations;
  }

  /** Fits if needed; false when there are too few samples or the fit was rejected. */
  ensureFitted(): boolean {
    if (this.fitted) return true;
    if (this.rejectedUnchanged) return false;
    if (!this.hasSufficientData()) {
      this.lastStatus = "insufficient_data";
      return false;
    }
    const samples = this.store.samples();
    const xs = new Float64Array(samples.length * this.ndim);
    const ys = new Float64Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      for (let d = 0; d < this.ndim; d++) xs[i * this.ndim + d] = samples[i].x[d];
      ys[i] = samples[i].y;
    }
    const fit = fitOls(xs, ys, this.ndim);
    if (!fit || fit.coef.some((c, i) => c < 0 && !this.relaxable.has(i))) {
      this.fit = null;
      this.fitsRejected++;
      this.rejectedUnchanged = true;
      this.lastStatus = "fit_rejected";
      return false;
    }
    for (let i = 0; i < fit.coef.length; i++) {
      if (this.relaxable.has(i) && fit.coef[i] < -RELAXABLE_NEGATIVE_TOLERANCE) fit.coef[i] = 0;
    }
    this.fit = fit;
    this.fitted = true;
    this.lastStatus = "fitted";
    return true;
  }

  /** Why estimates are (not) available, after trying to fit. */
  status(): FitStatus {
    this.ensureFitted();
    return this.lastStatus;
  }

  /** The current fit, or null (fits first if needed). */
  coefficients(): OlsFit | null {
    return this.ensureFitted() ? { intercept: this.fit!.intercept, coef: this.fit!.coef.slice() } : null;
  }

  /** Predicted wall time of one iteration with features `x0` (and `x1`), seconds; null when not fitted. */
  predictWallTime(x0: number, x1 = 0): number | null {
    return this.ensureFitted() ? this.predict(x0, x1) : null;
  }

  /** Predicted wall time in seconds, floored at 1e-6; call after `ensureFitted()`. */
  protected predict(x0: number, x1 = 0): number {
    const f = this.fit!;
    // Dot product first, then the intercept: scikit-learn's `X @ coef_ + intercept_`.
    const dot = this.ndim === 1 ? x0 * f.coef[0] : x0 * f.coef[0] + x1 * f.coef[1];
    const y = dot + f.intercept;
    return Math.max(MIN_PREDICTION_S, Number.isFinite(y) ? y : MIN_PREDICTION_S);
  }

  /**
   * The reference's chunk loop: `tokens` split into chunks of at most `maxBatched`,
   * each predicted with `second` as the other feature (2-D models), summed.
   */
  protected chunkedPrefillTime(tokens: number, maxBatched: number, second?: number): number {
    if (tokens <= 0) return 0;
    const iterations = Math.ceil(tokens / maxBatched);
    let total = 0;
    let remaining = tokens;
    for (let i = 0; i < iterations; i++) {
      const chunk = Math.min(remaining, maxBatched);
      total += second === undefined ? this.predict(chunk) : this.predict(chunk, second);
      remaining -= chunk;
    }
    return total;
  }
}
