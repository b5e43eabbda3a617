/**
 * Dynamo 1.6.1's engine queries for its `sla` rules, on fpm's regression model. 1.6.1 asks
 * a Rust perf model (AISimulate, not published) for the time of one forward pass; the
 * queries around it are Python and reproduced here: the synthetic next request, the
 * queue scaled by N/(N-1) for consolidation, the KV-hit-rate discount, the prefill chunk
 * plan, and attention-DP groups (one group per worker, its ranks step together). The
 * forward-pass time itself is the bucketed OLS regression fed with every engine's latest
 * FPM each tick (1.6.1's default estimator is also an FPM regression); a group of ranks
 * takes as long as its slowest rank.
 */
import type { ForwardPassMetrics } from "../../schema/forward-pass-metrics.js";
import type { EngineLatest } from "../component-planner.js";
import { MovingAverage } from "../moving-average.js";
import type { ModelKind, RegressionModel } from "../regression-model.js";

/** A new arrival benefits from the same prefix hits, but never more than 95%: some work is always ahead. */
export const MAX_KV_HIT_RATE_DISCOUNT = 0.95;
/** 1.6.1's chunk size when the engine's max_num_batched_tokens is not known. */
export const DEFAULT_MAX_NUM_BATCHED_TOKENS = 8192;

export function clampKvHitRate(rate: number | undefined): number {
  if (rate === undefined || Number.isNaN(rate)) return 0;
  return Math.max(0, Math.min(MAX_KV_HIT_RATE_DISCOUNT, rate));
}

const ceilNonNegative = (v: number) => (v <= 0 ? 0 : Math.ceil(v));

export interface PrefillQuery {
  kvHitRate?: number;
  /** Queued prefill tokens x this (0: the new request alone; N/(N-1): after consolidation). Default 1. */
  queueScale?: number;
  /** Decode KV x this (agg). Default 1. */
  decodeScale?: number;
  /** Count queued decode KV with the scheduled (agg consolidation). Default false. */
  includeQueuedDecode?: boolean;
}

export interface DecodeQuery {
  /** Decode KV and requests x this. Default 1. */
  decodeScale?: number;
  /** Count queued decode KV and requests. Default true. */
  includeQueuedDecode?: boolean;
  /** Count queued prefill tokens as KV to come (agg consolidation). Default false. */
  includeQueuedPrefillAsKv?: boolean;
}

export interface EnginePerfEstimateOptions {
  kind: ModelKind;
  model: RegressionModel;
  /** Window of the next-request averages (`max_num_fpm_samples`). */
  window: number;
  /** Chunk size of the prefill plan: max_num_batched_tokens, or 8192 when unknown. */
  chunkTokens: number;
  /** Attention-DP ranks per worker; > 1 groups a worker's ranks. Default 1. */
  attentionDp?: number;
}

export class EnginePerfEstimate {
  readonly kind: ModelKind;
  readonly model: RegressionModel;
  private readonly chunk: number;
  private readonly dp: number;
  private readonly avgIsl: MovingAverage;
  private readonly avgDecodeLen: MovingAverage;
  /** Agg: the prefill tokens assumed in a decode step (the busiest rank's scheduled prefill). */
  private readonly avgPrefillTokens: MovingAverage;
  /** Ticks whose samples were refused because a worker's rank group was incomplete. */
  incompleteGroups = 0;

  constructor(opts: EnginePerfEstimateOptions) {
    this.kind = opts.kind;
    this.model = opts.model;
    this.chunk = opts.chunkTokens;
    this.dp = opts.attentionDp ?? 1;
    this.avgIsl = new MovingAverage(opts.window);
    this.avgDecodeLen = new MovingAverage(opts.window);
    this.avgPrefillTokens = new MovingAverage(opts.window);
  }

  /** One tick's observation: every engine's latest FPM moves the averages and is a sample. */
  observe(engines: readonly EngineLatest[]): void {
    for (const e of engines) {
      const s = e.fpm.scheduledRequests;
      this.avgIsl.add(s.numPrefillRequests > 0 ? s.sumPrefillTokens / s.numPrefillRequests : 0);
      if (s.numDecodeRequests > 0) this.avgDecodeLen.add(s.sumDecodeKvTokens / s.numDecodeRequests);
    }
    const groups = this.groups(engines, true);
    // 1.6.1 validates the whole batch first: one incomplete rank group and the tick adds no samples.
    if (this.dp > 1 && groups.some((g) => !this.completeGroup(g))) {
      this.incompleteGroups++;
      return;
    }
    for (const g of groups) {
      this.observeMix(g);
      for (const fpm of g) this.model.observe(fpm);
    }
  }

  /** Engines grouped as 1.6.1 queries them: per worker with attention DP, else one group per engine. */
  groups(engines: readonly EngineLatest[], sorted = true): ForwardPassMetrics[][] {
    if (this.dp > 1) {
      const byWorker = new Map<string, ForwardPassMetrics[]>();
      for (const e of engines) {
        const g = byWorker.get(e.workerId);
        if (g) g.push(e.fpm);
        else byWorker.set(e.workerId, [e.fpm]);
      }
      return [...byWorker.values()].map((g) => g.sort((a, b) => a.dpRank - b.dpRank));
    }
    const list = engines.map((e) => e.fpm);
    if (sorted) list.sort(byWorkerThenRank);
    return list.map((f) => [f]);
  }

  /** A query on an incomplete group fails in 1.6.1 (its estimate is unavailable). */
  completeGroup(group: readonly ForwardPassMetrics[]): boolean {
    if (this.dp <= 1) return group.length >= 1;
    if (group.length !== this.dp) return false;
    return group.every((f, i) => f.dpRank === i);
  }

  /** Seconds until a new request's first token: the queued prefill drained in chunks, each a forward pass. */
  queuedPrefillTime(group: readonly ForwardPassMetrics[], q: PrefillQuery = {}): number | null {
    if (this.kind === "decode" || !this.model.ensureFitted() || !this.completeGroup(group)) return null;
    const keep = 1 - clampKvHitRate(q.kvHitRate);
    const queueScale = q.queueScale ?? 1;
    const decodeScale = q.decodeScale ?? 1;
    const avgIsl = this.avgIsl.value;
    const plans = group.map((f) => {
      let tokens = f.queuedRequests.sumPrefillTokens * queueScale;
      if (avgIsl > 0) tokens += avgIsl;
      const total = ceilNonNegative(tokens * keep);
      let kv = f.scheduledRequests.sumDecodeKvTokens;
      if (q.includeQueuedDecode) kv += f.queuedRequests.sumDecodeKvTokens;
      return { full: Math.floor(total / this.chunk), tail: total % this.chunk, kv: ceilNonNegative(kv * decodeScale) };
    });
    if (plans.every((p) => p.full === 0 && p.tail === 0)) return 0;
    const breaks = new Set<number>([0]);
    for (const p of plans) {
      if (p.full > 0) breaks.add(p.full);
      if (p.tail > 0) breaks.add(p.full + 1);
    }
    const points = [...breaks].sort((a, b) => a - b);
    let total = 0;
    for (let i = 0; i + 1 < points.length; i++) {
      const start = points[i];
      let step = 0;
      for (const p of plans) {
        const chunk = start < p.full ? this.chunk : start === p.full ? p.tail : 0;
        const t = this.kind === "agg" ? this.model.predictWallTime(chunk, p.kv) : this.model.predictWallTime(chunk);
        if (t === null) return null;
        step = Math.max(step, t);
      }
      total += step * (points[i + 1] - start);
    }
    return total;
  }

  /** Seconds of the next decode step with the new request added (1.6.1's ITL estimate, before the accept-length discount). */
  scheduledDecodeItl(group: readonly ForwardPassMetrics[], q: DecodeQuery = {}): number | null {
    if (this.kind === "prefill" || !this.model.ensureFitted() || !this.completeGroup(group)) return null;
    const scale = q.decodeScale ?? 1;
    const includeQueued = q.includeQueuedDecode ?? true;
    const avgLen = this.avgDecodeLen.value;
    let step = 0;
    for (const f of group) {
      const s = f.scheduledRequests;
      const qd = f.queuedRequests;
      let kv = s.sumDecodeKvTokens;
      let requests = s.numDecodeRequests;
      if (includeQueued) {
        kv += qd.sumDecodeKvTokens;
        requests += qd.numDecodeRequests;
      }
      if (q.includeQueuedPrefillAsKv) {
        kv += qd.sumPrefillTokens;
        requests += qd.numPrefillRequests;
      }
      kv *= scale;
      requests *= scale;
      if (avgLen > 0) {
        kv += avgLen;
        requests += 1;
      }
      const t =
        this.kind === "agg"
          ? this.model.predictWallTime(ceilNonNegative(this.avgPrefillTokens.value), ceilNonNegative(kv))
          : this.model.predictWallTime(ceilNonNegative(requests), ceilNonNegative(kv));
      if (t === null) return null;
      step = Math.max(step, t);
    }
    return step;
  }

  /** Agg: the busiest rank's scheduled prefill feeds the mix assumed in decode steps. */
  private observeMix(group: readonly ForwardPassMetrics[]): void {
    if (this.kind !== "agg" || group.length === 0) return;
    let busiest = group[0];
    const load = (f: ForwardPassMetrics) =>
      f.scheduledRequests.sumPrefillTokens +
      f.scheduledRequests.sumDecodeKvTokens +
      f.scheduledRequests.numDecodeRequests;
    for (const f of group) if (load(f) > load(busiest)) busiest = f;
    this.avgPrefillTokens.add(busiest.scheduledRequests.sumPrefillTokens);
  }
}

function byWorkerThenRank(a: ForwardPassMetrics, b: ForwardPassMetrics): number {
  if (a.workerId !== b.workerId) return a.workerId < b.workerId ? -1 : 1;
  return a.dpRank - b.dpRank;
}
