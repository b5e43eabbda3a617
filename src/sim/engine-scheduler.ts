/**
 * The scheduler of one simulated engine (one dp_rank), modelled on vLLM's continuous
 * batching: each iteration has a budget of `maxNumBatchedTokens`; running requests go
 * first (one token per decoding request, the next chunk of a prefill), then waiting
 * requests are admitted while budget, `maxNumSeqs` and KV capacity allow. When the KV
 * cache cannot hold a running request's next tokens, the most recently admitted running
 * request is preempted (recompute mode) and goes back to the front of the queue.
 *
 * `schedule()` plans an iteration and returns its FPM fields; `complete()` applies it
 * when the simulated forward pass ends (tokens sampled, finished requests leave).
 */
import {
  emptyQueued,
  emptyScheduled,
  type QueuedRequestMetrics,
  type ScheduledRequestMetrics,
} from "../schema/forward-pass-metrics.js";
import type { SimRequest } from "./sim-request.js";
import { LifecycleError } from "../util/errors.js";
import { RunningVariance } from "./welford.js";

/** The simulated engine's limits by default (vLLM-like). */
export const DEFAULT_ENGINE_SCHEDULER = {
  maxNumBatchedTokens: 2048,
  maxNumSeqs: 256,
  kvCapacityTokens: 65536,
  maxQueuedRequests: 10_000,
} as const;

export interface EngineSchedulerOptions {
  /** Token budget of one iteration (vLLM `max_num_batched_tokens`). Default DEFAULT_ENGINE_SCHEDULER (2048). */
  maxNumBatchedTokens?: number;
  /** Most requests running at once (vLLM `max_num_seqs`). Default DEFAULT_ENGINE_SCHEDULER (256). */
  maxNumSeqs?: number;
  /** KV cache capacity in tokens. Default DEFAULT_ENGINE_SCHEDULER (65536). */
  kvCapacityTokens?: number;
  /** Split long prompts over iterations (vLLM chunked prefill). Default true. */
  chunkedPrefill?: boolean;
  /** Most requests waiting; arrivals beyond it are rejected and counted. Default DEFAULT_ENGINE_SCHEDULER (10000). */
  maxQueuedRequests?: number;
  /**
   * Compute the FPM-only fields (variances, queued metrics) of each plan. Default true;
   * false when nobody reads the FPM (the counts and sums the cost model needs stay exact).
   */
  fpmMetrics?: boolean;
}

export interface IterationPlan {
  /** The requests of this iteration; `tokens[i]` is what `requests[i]` computes in it. */
  requests: SimRequest[];
  tokens: number[];
  scheduled: ScheduledRequestMetrics;
  /** Zeros when `fpmMetrics` is off. */
  queued: QueuedRequestMetrics;
  /** Requests preempted while planning this iteration. */
  preempted: number;
}

export interface IterationOutcome {
  /** Requests that produced their last token. */
  finished: SimRequest[];
  /** Requests that produced their first token in this iteration. */
  firstTokens: SimRequest[];
}

export type EnqueueResult = "queued" | "rejected_queue_full" | "rejected_too_long";

export class EngineScheduler {
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
  readonly kvCapacityTokens: number;
  readonly chunkedPrefill: boolean;
  readonly maxQueuedRequests: number;
  readonly fpmMetrics: boolean;
  /** Admitted requests, in admission order (the tail is preempted first). */
  private readonly running: SimRequest[] = [];
  /** Waiting requests; preempted ones are put back at the front. */
  private waiting: SimRequest[] = [];
  private kvUsed = 0;
  private inFlight: IterationPlan | null = null;
  /** Totals since start. */
  readonly totals = { enqueued: 0, rejected: 0, finished: 0, preemptions: 0, iterations: 0 };

  constructor(opts: EngineSchedulerOptions = {}) {
    this.maxNumBatchedTokens = opts.maxNumBatchedTokens ?? DEFAULT_ENGINE_SCHEDULER.maxNumBatchedTokens;
    this.maxNumSeqs = opts.maxNumSeqs ?? DEFAULT_ENGINE_SCHEDULER.maxNumSeqs;
    this.kvCapacityTokens = opts.kvCapacityTokens ?? DEFAULT_ENGINE_SCHEDULER.kvCapacityTokens;
    this.chunkedPrefill = opts.chunkedPrefill ?? true;
    this.maxQueuedRequests = opts.maxQueuedRequests ?? DEFAULT_ENGINE_SCHEDULER.maxQueuedRequests;
    this.fpmMetrics = opts.fpmMetrics ?? true;
    for (const [k, v] of Object.entries({
      maxNumBatchedTokens: this.maxNumBatchedTokens,
      maxNumSeqs: this.maxNumSeqs,
      kvCapacityTokens: this.kvCapacityTokens,
      maxQueuedRequests: this.maxQueuedRequests,
    })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be an integer >= 1, got ${v}`);
    }
  }

  enqueue(req: SimRequest): EnqueueResult {
    // A request whose whole context can never fit would block the queue forever.
    if (
      req.promptTokens + req.outputTokens > this.kvCapacityTokens ||
      (!this.chunkedPrefill && req.promptTokens > this.maxNumBatchedTokens)
    ) {
      this.totals.rejected++;
      return "rejected_too_long";
    }
    if (this.waiting.length >= this.maxQueuedRequests) {
      this.totals.rejected++;
      return "rejected_queue_full";
    }
    this.waiting.push(req);
    this.totals.enqueued++;
    return "queued";
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  /** Requests admitted or waiting. */
  outstanding(): number {
    return this.running.length + this.waiting.length;
  }

  numRunning(): number {
    return this.running.length;
  }

  numWaiting(): number {
    return this.waiting.length;
  }

  kvUsedTokens(): number {
    return this.kvUsed;
  }

  /** Removes every request (a worker being shut down) and returns them. */
  drain(): SimRequest[] {
    const all = [...this.running, ...this.waiting];
    this.running.length = 0;
    this.waiting = [];
    this.kvUsed = 0;
    this.inFlight = null;
    for (const r of all) r.computed = 0;
    return all;
  }

  /** Plans one iteration. Call `complete()` with the plan before planning the next. */
  schedule(): IterationPlan {
    if (this.inFlight) throw new LifecycleError("schedule() called while an iteration is in flight");
    let budget = this.maxNumBatchedTokens;
    const requests: SimRequest[] = [];
    const planned: number[] = [];
    let preempted = 0;

    // 1. Running requests, oldest first.
    for (let i = 0; i < this.running.length && budget > 0; ) {
      const req = this.running[i];
      const tokens = Math.min(req.target() - req.computed, budget);
      // Free KV by preempting from the tail until this request's tokens fit.
      while (this.kvUsed + tokens > this.kvCapacityTokens && this.running.length > i) {
        const victim = this.running.pop()!;
        this.preempt(victim);
        preempted++;
        if (victim === req) break;
      }
      if (this.running[i] !== req) break; // the request itself was preempted
      requests.push(req);
      planned.push(tokens);
      req.computed += tokens;
      this.kvUsed += tokens;
      budget -= tokens;
      i++;
    }

    // 2. Waiting requests, in order, unless this iteration already had to preempt.
    while (preempted === 0 && budget > 0 && this.waiting.length > 0 && this.running.length < this.maxNumSeqs) {
      const req = this.waiting[0];
      const reused = req.generated === 0 && req.computed === 0 ? req.cachedTokens : 0;
      const need = req.target() - reused;
      if (!this.chunkedPrefill && need > budget) break;
      const tokens = Math.min(need, budget);
      if (this.kvUsed + reused + tokens > this.kvCapacityTokens) break;
      this.waiting.shift();
      req.computed = reused + tokens;
      this.kvUsed += reused + tokens;
      this.running.push(req);
      requests.push(req);
      planned.push(tokens);
      budget -= tokens;
    }

    const plan: IterationPlan = {
      requests,
      tokens: planned,
      scheduled: this.scheduledMetrics(requests, planned),
      queued: this.fpmMetrics ? this.queuedMetrics() : emptyQueued(),
      preempted,
    };
    this.totals.preemptions += preempted;
    this.inFlight = plan;
    return plan;
  }

  /** Applies the iteration: tokens are sampled, finished requests leave and free their KV. */
  complete(plan: IterationPlan): IterationOutcome {
    if (this.inFlight !== plan) throw new LifecycleError("complete() called with a plan that is not in flight");
    this.inFlight = null;
    this.totals.iterations++;
    const finished: SimRequest[] = [];
    const firstTokens: SimRequest[] = [];
    for (const request of plan.requests) {
      if (request.computed !== request.target()) continue; // a prefill chunk, not the last one
      request.generated++;
      if (request.generated === 1) firstTokens.push(request);
      if (request.finished()) finished.push(request);
    }
    if (finished.length > 0) {
      // Finished requests leave the running list in one pass (order kept: the tail is preempted first).
      let kept = 0;
      for (let i = 0; i < this.running.length; i++) {
        const r = this.running[i];
        if (r.finished()) {
          this.kvUsed -= r.computed;
          continue;
        }
        this.running[kept++] = r;
      }
      this.running.length = kept;
      this.totals.finished += finished.length;
    }
    return { finished, firstTokens };
  }

  private preempt(req: SimRequest): void {
    this.kvUsed -= req.computed;
    req.computed = 0;
    req.preemptions++;
    this.waiting.unshift(req);
  }

  /** The plan's FPM scheduled fields; Welford inline (no objects per iteration) for the variances. */
  private scheduledMetrics(requests: readonly SimRequest[], tokens: readonly number[]): ScheduledRequestMetrics {
    const m = emptyScheduled();
    const withVariance = this.fpmMetrics;
    let pn = 0,
      pMean = 0,
      pM2 = 0;
    let dn = 0,
      dSum = 0,
      dMean = 0,
      dM2 = 0;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i];
      const t = tokens[i];
      const before = request.computed - t; // KV read, not computed: prefix hits and earlier chunks
      if (request.generated >= 1 && t === 1 && before === request.target() - 1) {
        dn++;
        dSum += before;
        if (withVariance) {
          const delta = before - dMean;
          dMean += delta / dn;
          dM2 += delta * (before - dMean);
        }
      } else {
        pn++;
        m.sumPrefillTokens += t;
        m.sumPrefillKvTokens += before;
        if (withVariance) {
          const x = request.target();
          const delta = x - pMean;
          pMean += delta / pn;
          pM2 += delta * (x - pMean);
        }
      }
    }
    m.numPrefillRequests = pn;
    m.varPrefillLength = pn === 0 ? 0 : Math.max(0, pM2 / pn);
    m.numDecodeRequests = dn;
    m.sumDecodeKvTokens = dSum;
    m.varDecodeKvTokens = dn === 0 ? 0 : Math.max(0, dM2 / dn);
    return m;
  }

  private queuedMetrics(): QueuedRequestMetrics {
    const m = emptyQueued();
    const prefillLen = new RunningVariance();
    const decodeKv = new RunningVariance();
    for (const req of this.waiting) {
      // Preempted requests already produced output: they wait to resume decoding.
      if (req.generated >= 1) decodeKv.add(req.target());
      else prefillLen.add(req.promptTokens);
    }
    m.numPrefillRequests = prefillLen.count;
    m.sumPrefillTokens = prefillLen.sum;
    m.varPrefillLength = prefillLen.variance();
    m.numDecodeRequests = decodeKv.count;
    m.sumDecodeKvTokens = decodeKv.sum;
    m.varDecodeKvTokens = decodeKv.variance();
    return m;
  }
}
