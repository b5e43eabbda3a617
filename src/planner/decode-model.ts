/** Decode model: wall_time ~ [num_decode_requests, sum_decode_kv_tokens]; ITL of the next step. */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { MovingAverage } from "./moving-average.js";
import { RegressionModel, type RegressionModelOptions } from "./regression-model.js";

export class DecodeModel extends RegressionModel {
  readonly kind = "decode" as const;
  /** KV tokens per decoding request, only from iterations that decoded. */
  readonly avgDecodeLen: MovingAverage;
  readonly avgNumDecode: MovingAverage;
  // num_decode_requests is collinear with the KV sum; its coefficient may dip below 0 and is clamped.
  protected override readonly relaxable: ReadonlySet<number> = new Set([0]);

  constructor(opts: RegressionModelOptions = {}) {
    super(2, opts);
    this.avgDecodeLen = new MovingAverage(this.maxSamples);
    this.avgNumDecode = new MovingAverage(this.maxSamples);
  }

  protected features(fpm: ForwardPassMetrics, out: number[]): void {
    out[0] = fpm.scheduledRequests.numDecodeRequests;
    out[1] = fpm.scheduledRequests.sumDecodeKvTokens;
  }

  protected updateAverages(fpm: ForwardPassMetrics): void {
    const s = fpm.scheduledRequests;
    if (s.numDecodeRequests > 0) this.avgDecodeLen.add(s.sumDecodeKvTokens / s.numDecodeRequests);
    this.avgNumDecode.add(s.numDecodeRequests);
  }

  /** ITL in seconds: predict([avg_num_decode + 1, scheduled + queued decode KV + avg_decode_len]). */
  estimateItl(scheduledDecodeKv: number, queuedDecodeKv: number): number | null {
    if (!this.ensureFitted()) return null;
    const totalKv = scheduledDecodeKv + queuedDecodeKv + this.avgDecodeLen.value;
    return this.predict(this.avgNumDecode.value + 1, totalKv);
  }
}
