/**
 * The reference planner's bucketed sample store (PLANNER.md "Adding an observation"):
 * each feature axis is cut into equal-width buckets between the running min and max, and
 * when the store is full the oldest sample of the fullest bucket is retired, so samples
 * stay spread over the operating range instead of crowding at one load level.
 *
 * Bucket order is creation order (a Map), which is what decides ties, exactly as the
 * reference's insertion-ordered dict; a re-key re-inserts every sample bucket by bucket in
 * that order, as the reference does.
 */

export interface Sample {
  /** Features, one value per axis. */
  readonly x: readonly number[];
  /** Target: the iteration's wall time in seconds. */
  readonly y: number;
}

export interface BucketedSampleStoreOptions {
  /** Feature axes: 1 (prefill) or 2 (decode, agg). */
  ndim: 1 | 2;
  /** Total buckets; a 2-D store uses isqrt(bucketCount) per axis. Reference default 16. */
  bucketCount: number;
  /** Samples kept over all buckets (`max_num_fpm_samples`). Reference default 64. */
  maxSamples: number;
}

export class BucketedSampleStore {
  readonly ndim: 1 | 2;
  readonly bucketsPerAxis: number;
  readonly maxSamples: number;
  private buckets = new Map<number, Sample[]>();
  private total = 0;
  private readonly axisMin: number[];
  private readonly axisMax: number[];
  /** How many times the whole store was re-keyed because a bound moved. */
  rekeys = 0;

  constructor(opts: BucketedSampleStoreOptions) {
    this.ndim = opts.ndim;
    this.bucketsPerAxis = opts.ndim === 1 ? opts.bucketCount : Math.floor(Math.sqrt(opts.bucketCount));
    this.maxSamples = opts.maxSamples;
    this.axisMin = new Array(opts.ndim).fill(Infinity);
    this.axisMax = new Array(opts.ndim).fill(-Infinity);
  }

  get size(): number {
    return this.total;
  }

  /** Bounds per axis as [min, max] (infinite before the first sample). */
  bounds(): Array<[number, number]> {
    return this.axisMin.map((lo, i) => [lo, this.axisMax[i]]);
  }

  /** Bucket key of a feature vector under the current bounds: one index per axis, flattened. */
  keyOf(x: readonly number[]): number {
    const B = this.bucketsPerAxis;
    let key = 0;
    for (let i = 0; i < this.ndim; i++) {
      const lo = this.axisMin[i], hi = this.axisMax[i];
      let idx = 0;
      if (hi > lo) {
        // Same operation order as the reference (truncation of (v - lo) / (hi - lo) * B), then clamp.
        idx = Math.trunc(((x[i] - lo) / (hi - lo)) * B);
        idx = Math.max(0, Math.min(idx, B - 1));
      }
      key = key * B + idx;
    }
    return key;
  }

  /** Adds one sample; returns the retired sample when the store overflowed. */
  add(x: readonly number[], y: number): Sample | undefined {
    let changed = false;
    for (let i = 0; i < this.ndim; i++) {
      const v = x[i];
      if (v < this.axisMin[i]) { this.axisMin[i] = v; changed = true; }
      if (v > this.axisMax[i]) { this.axisMax[i] = v; changed = true; }
    }
    if (changed && this.total > 0) this.rekey();
    const key = this.keyOf(x);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    bucket.push({ x: x.slice(), y });
    this.total++;
    if (this.total <= this.maxSamples) return undefined;
    // Fullest bucket; on a tie the first in creation order wins (strict >).
    let fattestKey = -1;
    let fattest: Sample[] | undefined;
    for (const [k, b] of this.buckets) {
      if (!fattest || b.length > fattest.length) { fattest = b; fattestKey = k; }
    }
    const retired = fattest!.shift();
    this.total--;
    if (fattest!.length === 0) this.buckets.delete(fattestKey);
    return retired;
  }

  /** Every kept sample, bucket by bucket in creation order (the order the fit sees them). */
  samples(): Sample[] {
    const out: Sample[] = [];
    for (const b of this.buckets.values()) for (const s of b) out.push(s);
    return out;
  }

  /** Bucket keys and sizes in creation order (for tests and diagnostics). */
  bucketSizes(): Array<[number, number]> {
    return [...this.buckets].map(([k, b]) => [k, b.length]);
  }

  private rekey(): void {
    const all = this.samples();
    this.buckets = new Map();
    for (const s of all) {
      const key = this.keyOf(s.x);
      let b = this.buckets.get(key);
      if (!b) { b = []; this.buckets.set(key, b); }
      b.push(s);
    }
    this.rekeys++;
  }
}
