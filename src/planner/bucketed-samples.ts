/**
 * The reference planner's bucketed sample store (docs/design/planner-algorithm.md section 3):
 * each feature axis is cut into equal-width buckets between the running min and max, and
 * when the store is full the oldest sample of the fullest bucket is retired, so samples
 * stay spread over the operating range instead of crowding at one load level.
 *
 * Bucket order is creation order, which is what decides ties, exactly as the reference's
 * insertion-ordered dict; a re-key re-inserts every sample bucket by bucket in that order,
 * as the reference does. Buckets live in two parallel arrays (key, samples) searched
 * linearly: with the default 16 buckets that beats a Map on the per-sample hot path.
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
  /** Bucket keys and their samples, in creation order. */
  private keys: number[] = [];
  private lists: Sample[][] = [];
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
      const lo = this.axisMin[i],
        hi = this.axisMax[i];
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

  private slotOf(key: number): number {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  }

  private append(key: number, sample: Sample): void {
    const i = this.slotOf(key);
    if (i >= 0) this.lists[i].push(sample);
    else {
      this.keys.push(key);
      this.lists.push([sample]);
    }
  }

  /** Adds one sample; returns the retired sample when the store overflowed. */
  add(x: readonly number[], y: number): Sample | undefined {
    let changed = false;
    for (let i = 0; i < this.ndim; i++) {
      const v = x[i];
      if (v < this.axisMin[i]) {
        this.axisMin[i] = v;
        changed = true;
      }
      if (v > this.axisMax[i]) {
        this.axisMax[i] = v;
        changed = true;
      }
    }
    if (changed && this.total > 0) this.rekey();
    this.append(this.keyOf(x), { x: this.ndim === 1 ? [x[0]] : [x[0], x[1]], y });
    this.total++;
    if (this.total <= this.maxSamples) return undefined;
    // Fullest bucket; on a tie the first in creation order wins (strict >).
    const lists = this.lists;
    let fattest = 0;
    for (let i = 1; i < lists.length; i++) if (lists[i].length > lists[fattest].length) fattest = i;
    const retired = lists[fattest].shift();
    this.total--;
    if (lists[fattest].length === 0) {
      this.keys.splice(fattest, 1);
      lists.splice(fattest, 1);
    }
    return retired;
  }

  /** Every kept sample, bucket by bucket in creation order (the order the fit sees them). */
  samples(): Sample[] {
    const out: Sample[] = [];
    for (const b of this.lists) for (const s of b) out.push(s);
    return out;
  }

  /** Bucket keys and sizes in creation order (for tests and diagnostics). */
  bucketSizes(): Array<[number, number]> {
    return this.keys.map((k, i) => [k, this.lists[i].length]);
  }

  private rekey(): void {
    const all = this.samples();
    this.keys = [];
    this.lists = [];
    for (const s of all) this.append(this.keyOf(s.x), s);
    this.rekeys++;
  }
}
