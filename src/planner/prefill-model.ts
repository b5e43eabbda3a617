/** Prefill model: wall_time ~ scheduled.sum_prefill_tokens; TTFT by the chunk loop. */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { MovingAverage } from "./moving-average.js";
import { RegressionModel, type RegressionModelOptions } from "./regression-model.js";

export class PrefillModel extends RegressionModel {
  readonly kind = "prefill" as const;
  /** Prefill tokens per scheduled prefill request (0 pushed when none, after the first non-zero). */
  readonly avgIsl: MovingAverage;
  readonly avgNumPrefill: MovingAverage;

  constructor(opts: RegressionModelOptions = {}) {
    super(1, opts);
    this.avgIsl = new MovingAverage(this.maxSamples);
    this.avgNumPrefill = new MovingAverage(this.maxSamples);
  }

  protected features(fpm: ForwardPassMetrics, out: number[]): void {
    out[0] = fpm.scheduledRequests.sumPrefillTokens;
  }

  protected updateAverages(fpm: ForwardPassMetrics): void {
    const s = fpm.scheduledRequests;
    // The reference prefill model pushes 0 when no prefill ran (its agg model does not).
    this.avgIsl.add(s.numPrefillRequests > 0 ? s.sumPrefillTokens / s.numPrefillRequests : 0);
    this.avgNumPrefill.add(s.numPrefillRequests);
  }

  /**
   * TTFT in seconds of the next request on an engine with `queuedPrefillTokens` waiting:
   * the chunk loop over `queued + prompt`, the prompt `avg_isl` unless given. Null when the
   * model is not fitted.
   */
  estimateTtft(queuedPrefillTokens: number, maxNumBatchedTokens: number, promptTokens?: number): number | null {
    if (!this.ensureFitted() || !(maxNumBatchedTokens > 0)) return null;
    return this.chunkedPrefillTime(queuedPrefillTokens + (promptTokens ?? this.avgIsl.value), maxNumBatchedTokens);
  }
}
