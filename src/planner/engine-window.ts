/**
 * What one engine did between two ticks, accumulated from every distinct iteration it
 * published (default mode), and the component's demand computed from those windows. Pure:
 * no clock, no I/O; the planner feeds iterations in and reads one `DemandFigures` a tick.
 *
 * Demand is measured as work, in engine-seconds per second of the fitted per-token costs
 * (`b` x prefill tokens + `c` x decode KV tokens; the per-iteration intercept is not load),
 * so it moves with the load when the replica count changes. Saturation cannot hide it:
 * the growth of the engines' queues is added, converted to work by the work a prompt token
 * brings (its decode included), so an engine that stretched its steps or stopped admitting
 * (full KV cache) still shows what arrives. Prompt lengths are counted per request, not per
 * chunk: under chunked prefill `sum_prefill_tokens / num_prefill_requests` is the chunk.
 */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";

/** One engine's accumulation since the last tick. */
export interface EngineWindow {
  /** ms of the window's start (the previous tick, or when the engine was first seen). */
  startMs: number;
  iterations: number;
  busyS: number;
  prefillTokens: number;
  decodeKvTokens: number;
  /** Decoding requests summed over iterations (one token each). */
  decodeRequests: number;
  /** Requests that started a prefill (chunks continuing from the previous iteration are not counted). */
  newPrefillRequests: number;
  /** Sum and count of per-iteration prompt-length variances (iterations with >= 2 requests). */
  promptVarSum: number;
  promptVarCount: number;
  /** Queued prompt tokens and requests at the window's start (end of the previous window). */
  queuedTokensAtStart: number;
  queuedRequestsAtStart: number;
  /** The latest iteration's queue and KV figures. */
  queuedTokens: number;
  queuedRequests: number;
  queuedDecodeRequests: number;
  queuedDecodeKvTokens: number;
  kvInUseTokens: number;
  /** Highest KV in use over the window. */
  kvPeakTokens: number;
  /** Some iteration of the window had preempted requests waiting (KV cache full). */
  preempted: boolean;
  /** The previous iteration filled the token budget, so its last prefill may continue as a chunk. */
  lastFilledBudget: boolean;
}

export function newEngineWindow(startMs: number): EngineWindow {
  return {
    startMs,
    iterations: 0,
    busyS: 0,
    prefillTokens: 0,
    decodeKvTokens: 0,
    decodeRequests: 0,
    newPrefillRequests: 0,
    promptVarSum: 0,
    promptVarCount: 0,
    queuedTokensAtStart: 0,
    queuedRequestsAtStart: 0,
    queuedTokens: 0,
    queuedRequests: 0,
    queuedDecodeRequests: 0,
    queuedDecodeKvTokens: 0,
    kvInUseTokens: 0,
    kvPeakTokens: 0,
    preempted: false,
    lastFilledBudget: false,
  };
}

/**
 * New prefill requests of an iteration: its prefill requests less the one chunk that may
 * continue from the previous iteration (chunked prefill splits at most the last admitted
 * prompt, and only when that iteration used the whole token budget).
 */
export function newPrefillRequestsOf(numPrefillRequests: number, previousFilledBudget: boolean): number {
  return Math.max(0, numPrefillRequests - (previousFilledBudget && numPrefillRequests > 0 ? 1 : 0));
}

/** Adds one iteration (or heartbeat) to the window. `budget`: the engine's max_num_batched_tokens, if known. */
export function addIteration(w: EngineWindow, fpm: ForwardPassMetrics, budget: number | undefined): void {
  const s = fpm.scheduledRequests;
  const q = fpm.queuedRequests;
  w.queuedTokens = q.sumPrefillTokens;
  w.queuedRequests = q.numPrefillRequests;
  w.queuedDecodeRequests = q.numDecodeRequests;
  w.queuedDecodeKvTokens = q.sumDecodeKvTokens;
  if (q.numDecodeRequests > 0) w.preempted = true;
  if (fpm.wallTimeS <= 0) {
    // A heartbeat: the engine is idle, nothing in flight.
    w.kvInUseTokens = 0;
    w.lastFilledBudget = false;
    return;
  }
  w.iterations++;
  w.busyS += fpm.wallTimeS;
  w.prefillTokens += s.sumPrefillTokens;
  w.decodeKvTokens += s.sumDecodeKvTokens;
  w.decodeRequests += s.numDecodeRequests;
  w.newPrefillRequests += newPrefillRequestsOf(s.numPrefillRequests, w.lastFilledBudget);
  if (s.numPrefillRequests >= 2) {
    w.promptVarSum += s.varPrefillLength;
    w.promptVarCount++;
  }
  if (q.numPrefillRequests >= 2) {
    w.promptVarSum += q.varPrefillLength;
    w.promptVarCount++;
  }
  const kv = s.sumPrefillKvTokens + s.sumPrefillTokens + s.sumDecodeKvTokens + s.numDecodeRequests;
  w.kvInUseTokens = kv;
  if (kv > w.kvPeakTokens) w.kvPeakTokens = kv;
  const tokens = s.sumPrefillTokens + s.numDecodeRequests;
  w.lastFilledBudget = budget !== undefined && tokens >= budget;
}

/** Starts the next window from the end of this one (queue levels and chunk state carry over). */
export function rollWindow(w: EngineWindow, nowMs: number): EngineWindow {
  const next = newEngineWindow(nowMs);
  next.queuedTokensAtStart = w.queuedTokens;
  next.queuedRequestsAtStart = w.queuedRequests;
  next.queuedTokens = w.queuedTokens;
  next.queuedRequests = w.queuedRequests;
  next.queuedDecodeRequests = w.queuedDecodeRequests;
  next.queuedDecodeKvTokens = w.queuedDecodeKvTokens;
  next.kvInUseTokens = w.kvInUseTokens;
  next.lastFilledBudget = w.lastFilledBudget;
  return next;
}

/** The fitted per-token costs that turn tokens into work (seconds). */
export interface WorkCosts {
  /** Seconds per prefill token. */
  prefillS: number;
  /** Seconds per decode KV token read. */
  decodeKvS: number;
  /** Seconds per decoding request (the decode model's term; 0 where the fit has none). */
  decodeRequestS: number;
}

/** The component's load over one tick, from its engines' windows. */
export interface DemandFigures {
  /** Engines the windows came from. */
  engines: number;
  /** Seconds the windows covered (the longest). */
  windowS: number;
  /** Work arriving, engine-seconds per second: served work plus queue growth as work. */
  demand: number;
  /** The prefill part of `demand` (same units). */
  prefillDemand: number;
  /** Work served, engine-seconds per second. */
  served: number;
  /** Work waiting in the queues (prompts and preempted requests), engine-seconds. */
  backlogS: number;
  /** Requests arriving per second (started prefills plus queue growth). */
  requestRate: number;
  /** Mean prompt tokens per request (from requests, not chunks); 0 when none was seen. */
  promptTokens: number;
  /** Variance of prompt lengths, tokens squared (0 when unknown). */
  promptVar: number;
  /** Work per prompt token, its decode included, as these windows saw it (seconds per token); 0 when none was seen. */
  observedWorkPerPromptToken: number;
  /** KV tokens in use now, summed over engines (the queues are the backlog's part). */
  kvDemandTokens: number;
  /** The fullest engine's peak KV use over the window, tokens. */
  kvPeakTokens: number;
  /** Requests waiting in the queues, summed. */
  queuedRequests: number;
  /** Some engine had preempted requests waiting (its KV cache was full). */
  preempted: boolean;
  /** Mean busy iteration time, seconds (0 when no iteration ran). */
  iterationS: number;
}

/**
 * How far above the served work the arriving prompts' work must be, in standard deviations of
 * the window's request count (Poisson: 1/sqrt(n) relative), to count as a rise without a queue.
 */
export const ARRIVAL_NOISE_SIGMAS = 3;

/**
 * The component's demand from its engines' windows at `nowMs`. `workPerPromptToken` turns
 * queued prompt tokens into work; the caller learns it from `observedWorkPerPromptToken` of
 * windows without a queue (a saturated engine's ratio is distorted: admissions stall while
 * decoding goes on).
 */
export function demandOf(
  windows: readonly EngineWindow[],
  nowMs: number,
  costs: WorkCosts,
  workPerPromptToken: number,
): DemandFigures {
  let served = 0;
  let prefillServed = 0;
  let growthTokens = 0;
  let growthRequests = 0;
  let newRequests = 0;
  let prefillTokens = 0;
  let queuedTokens = 0;
  let queuedRequests = 0;
  let queuedDecodeKv = 0;
  let kvDemand = 0;
  let kvPeak = 0;
  let varSum = 0;
  let varCount = 0;
  let busy = 0;
  let requests = 0;
  let iterations = 0;
  let windowS = 0;
  let preempted = false;
  for (const w of windows) {
    const dt = Math.max(1e-3, (nowMs - w.startMs) / 1000);
    if (dt > windowS) windowS = dt;
    const prefillWork = costs.prefillS * w.prefillTokens;
    served += (prefillWork + decodeWork(w, costs)) / dt;
    prefillServed += prefillWork / dt;
    growthTokens += (w.queuedTokens - w.queuedTokensAtStart) / dt;
    growthRequests += (w.queuedRequests - w.queuedRequestsAtStart) / dt;
    newRequests += w.newPrefillRequests / dt;
    requests += w.newPrefillRequests;
    prefillTokens += w.prefillTokens;
    queuedTokens += w.queuedTokens;
    queuedRequests += w.queuedRequests + w.queuedDecodeRequests;
    queuedDecodeKv += w.queuedDecodeKvTokens;
    kvDemand += w.kvInUseTokens;
    if (w.kvPeakTokens > kvPeak) kvPeak = w.kvPeakTokens;
    varSum += w.promptVarSum;
    varCount += w.promptVarCount;
    busy += w.busyS;
    iterations += w.iterations;
    if (w.preempted) preempted = true;
  }
  const k =
    workPerPromptToken > 0 ? workPerPromptToken : prefillTokens > 0 ? windowsWork(windows, costs) / prefillTokens : 0;
  // What arrives is what was served plus what the queues grew by (a shrinking queue was served
  // on top of the arrivals).
  // Right after a rise the engines admit everything and stretch their steps: the decode work
  // of what they admitted is still to come, so the prompts arriving, as work, bound it too
  // while queues grow, or while they exceed the served work by more than the noise of the
  // window's request count could (engines with KV to spare admit a rise without a queue).
  const arriving = k * (prefillTokens / Math.max(windowS, 1e-3) + growthTokens);
  const noise = ARRIVAL_NOISE_SIGMAS / Math.sqrt(Math.max(1, requests));
  const rising = growthTokens > 0 || arriving > served * (1 + noise);
  const demand = Math.max(0, served + k * growthTokens, rising ? arriving : 0);
  return {
    engines: windows.length,
    windowS,
    demand,
    prefillDemand: Math.max(0, prefillServed + costs.prefillS * growthTokens),
    served,
    backlogS: k * queuedTokens + costs.prefillS * queuedDecodeKv,
    requestRate: Math.max(0, newRequests + growthRequests),
    promptTokens: promptTokensPerRequest(windows),
    promptVar: varCount > 0 ? varSum / varCount : 0,
    observedWorkPerPromptToken: prefillTokens > 0 ? windowsWork(windows, costs) / prefillTokens : 0,
    kvDemandTokens: kvDemand,
    kvPeakTokens: kvPeak,
    queuedRequests,
    preempted,
    iterationS: iterations > 0 ? busy / iterations : 0,
  };
}

/** Mean prompt tokens per request the windows saw start (from requests, not chunks); 0 when none started. */
export function promptTokensPerRequest(windows: readonly EngineWindow[]): number {
  let tokens = 0;
  let requests = 0;
  for (const w of windows) {
    tokens += w.prefillTokens;
    requests += w.newPrefillRequests;
  }
  return requests > 0 ? tokens / requests : 0;
}

/** Work served over the windows, engine-seconds. */
function windowsWork(windows: readonly EngineWindow[], costs: WorkCosts): number {
  let s = 0;
  for (const w of windows) s += costs.prefillS * w.prefillTokens + decodeWork(w, costs);
  return s;
}

function decodeWork(w: EngineWindow, costs: WorkCosts): number {
  return costs.decodeKvS * w.decodeKvTokens + costs.decodeRequestS * w.decodeRequests;
}
