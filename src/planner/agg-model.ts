/** Agg model (prefill and decode in one engine): wall_time ~ [sum_prefill_tokens, sum_decode_kv_tokens]. */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { MovingAverage } from "./moving-average.js";
import { RegressionModel, type RegressionModelOptions } from "./regression-model.js";

export class AggModel extends RegressionModel {
  readonly kind = "agg" as const;
  readonly avgIsl: MovingAverage;
  readonly avgDecodeLen: MovingAverage;
  readonly avgPrefillTokens: MovingAverage;
  readonly avgNumPrefill: MovingAverage;
  readonly avgNumDecode: MovingAverage;

  constructor(opts: RegressionModelOptions = {}) {
    super(2, opts);
    const w = this.maxSamples;
    this.avgIsl = new MovingAverage(w);
    this.avgDecodeLen = new MovingAverage(w);
    this.avgPrefillTokens = new MovingAverage(w);
    this.avgNumPrefill = new MovingAverage(w);
    this.avgNumDecode = new MovingAverage(w);
  }

  protected features(fpm: ForwardPassMetrics, out: number[]): void {
    out[0] = fpm.scheduledRequests.sumPrefillTokens;
    out[1] = fpm.scheduledRequests.sumDecodeKvTokens;
  }

  protected updateAverages(fpm: ForwardPassMetrics): void {
    const s = fpm.scheduledRequests;
    if (s.numPrefillRequests > 0) this.avgIsl.add(s.sumPrefillTokens / s.numPrefillRequests);
    if (s.numDecodeRequests > 0) this.avgDecodeLen.add(s.sumDecodeKvTokens / s.numDecodeRequests);
    this.avgPrefillTokens.add(s.sumPrefillTokens);
    this.avgNumPrefill.add(s.numPrefillRequests);
    this.avgNumDecode.add(s.numDecodeRequests);
  }

  /**
   * TTFT in seconds: the chunk loop over `queued + prompt` (`avg_isl` unless given) with the
   * engine's scheduled decode KV.
   */
  estimateTtft(
    queuedPrefillTokens: number,
    maxNumBatchedTokens: number,
    currentDecodeKv: number,
    promptTokens?: number,
  ): number | null {
    if (!this.ensureFitted() || !(maxNumBatchedTokens > 0)) return null;
    const tokens = queuedPrefillTokens + (promptTokens ?? this.avgIsl.value);
    return this.chunkedPrefillTime(tokens, maxNumBatchedTokens, currentDecodeKv);
  }

  /** ITL in seconds: predict([avg_prefill_tokens, scheduled + queued decode KV + avg_decode_len]). */
  estimateItl(scheduledDecodeKv: number, queuedDecodeKv: number): number | null {
    if (!this.ensureFitted()) return null;
    const totalKv = scheduledDecodeKv + queuedDecodeKv + this.avgDecodeLen.value;
    return this.predict(this.avgPrefillTokens.value, totalKv);
  }
}
