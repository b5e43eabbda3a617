/**
 * Default mode's scaling rules (docs/design/planner-default-policy.md), as pure functions
 * of the component's demand (engine-window.ts), the fitted cost model and the planner's
 * own history, so every branch is testable with hand-worked numbers:
 *
 * - `predictAt`: what m replicas would see with today's demand spread over them: per-engine
 *   utilisation, step time, ITL, a tail TTFT and KV use (the "what would n-1 see" estimate,
 *   for every m at once);
 * - `replicasFor`: the fewest replicas whose prediction meets both SLAs and the KV and
 *   utilisation limits, and, for a scale-up, that also drain the backlog within a bound;
 * - `ScaleDownWindow`: scale-down goes only to the largest need of the last W seconds, and
 *   W grows when a scale-up soon follows a scale-down (the lull was a gap between peaks);
 * - `decideDefault`: one decision from those, naming the rule and the figures it used.
 */
import type { PredictionLimit } from "./decision.js";
import type { DemandFigures } from "./engine-window.js";

/** The engine as the planner knows it: fitted costs and configured facts. */
export interface EngineModel {
  /** Fixed seconds per iteration (the fit's intercept). */
  iterationS: number;
  /** Seconds per prefill token. */
  prefillS: number;
  /** Token budget of one iteration (max_num_batched_tokens); undefined: no chunking assumed. */
  chunkTokens?: number;
  /** KV cache tokens per engine; undefined: not checked. */
  kvCapacityTokens?: number;
  /** Engines (dp ranks) per replica. */
  ranks: number;
}

export interface PolicyLimits {
  ttftMs: number;
  itlMs: number;
  /** Highest per-engine utilisation of the variable work a replica count may plan for (0..1). */
  maxUtilization: number;
  /** Highest share of the KV cache a replica count may plan for (0..1). */
  kvUseTarget: number;
  /** Seconds within which a scale-up must drain the queued work. */
  backlogDrainS: number;
}

/**
 * Standard deviations of the TTFT estimate added to its mean to stand for the SLA's tail
 * (about the 99th percentile). Calibrated on steady runs of fixed deployments (the
 * design doc's table): a normal quantile (2.33) under-states the bursts of continuous batching.
 */
export const TTFT_TAIL_SIGMAS = 3.85;

/** What m replicas would see, per engine. */
export interface Prediction {
  replicas: number;
  utilization: number;
  /** Mean iteration time, ms: the fixed cost stretched by the variable work, a / (1 - u). */
  iterationMs: number;
  /** Mean ITL, ms (a decoding request gets one token per iteration). */
  itlMs: number;
  /** Mean TTFT, ms: half an iteration of wait, the iterations of its chunks, its own prefill. */
  ttftMeanMs: number;
  /** TTFT standing for the SLA's tail, ms (mean + TTFT_TAIL_SIGMAS standard deviations). */
  ttftMs: number;
  /** Share of an engine's KV cache in use (null when the capacity is unknown). */
  kvUse: number | null;
}

/** Per-engine figures at m replicas with `demand` spread over them. Infinite when saturated. */
export function predictAt(m: number, d: DemandFigures, e: EngineModel): Prediction {
  const engines = Math.max(1, m * e.ranks);
  const u = d.demand / engines;
  const a = Math.max(e.iterationS, 1e-6);
  if (!(u < 1)) {
    return {
      replicas: m,
      utilization: u,
      iterationMs: Infinity,
      itlMs: Infinity,
      ttftMeanMs: Infinity,
      ttftMs: Infinity,
      kvUse: e.kvCapacityTokens ? Infinity : null,
    };
  }
  const t = a / (1 - u);
  const prompt = d.promptTokens;
  const chunks = e.chunkTokens && prompt > e.chunkTokens ? Math.ceil(prompt / e.chunkTokens) : 1;
  const own = e.prefillS * prompt;
  const mean = (chunks + 0.5) * t + own;
  // Spread: the own prompt's length, the prompts arriving in the same step (compound Poisson,
  // stretched as the engine fills), and where in a step a request lands.
  const perEngineRate = d.requestRate / engines;
  const secondMoment = prompt * prompt + d.promptVar;
  const variance =
    e.prefillS * e.prefillS * (d.promptVar + (perEngineRate * secondMoment * t) / Math.sqrt(1 - u)) +
    (chunks * t * t) / 12;
  const tail = mean + TTFT_TAIL_SIGMAS * Math.sqrt(variance);
  // KV in use follows concurrency, which grows with the step time: Little's law per engine.
  let kvUse: number | null = null;
  if (e.kvCapacityTokens) {
    // The step time the KV figure was measured at: observed, or the model's at today's count.
    const uNow = d.demand / Math.max(1, d.engines);
    const tNow = Math.max(d.iterationS, uNow < 1 ? a / (1 - uNow) : 0) || t;
    kvUse = ((d.kvDemandTokens / engines) * (t / tNow)) / e.kvCapacityTokens;
  }
  return {
    replicas: m,
    utilization: u,
    iterationMs: t * 1000,
    itlMs: t * 1000,
    ttftMeanMs: mean * 1000,
    ttftMs: tail * 1000,
    kvUse,
  };
}

/** Which limit a prediction breaks first, or null when it meets them all. */
export function limitBroken(p: Prediction, l: PolicyLimits): PredictionLimit | null {
  if (!(p.utilization <= l.maxUtilization)) return "utilization";
  if (!(p.itlMs <= l.itlMs)) return "itl";
  if (!(p.ttftMs <= l.ttftMs)) return "ttft";
  if (p.kvUse !== null && !(p.kvUse <= l.kvUseTarget)) return "kv";
  return null;
}

export interface ReplicaNeed {
  /** Fewest replicas meeting every limit at the steady demand (maxReplicas when none does). */
  steady: number;
  /** Replicas that also drain the backlog within `backlogDrainS` (>= steady). */
  withBacklog: number;
  /** What bound `steady` (null when demand is zero and one replica does). */
  limitedBy: PredictionLimit | null;
  /** True when even maxReplicas do not meet every limit. */
  short: boolean;
}

/** The replicas the demand needs, from 1 to `maxReplicas`. */
export function replicasFor(d: DemandFigures, e: EngineModel, l: PolicyLimits, maxReplicas: number): ReplicaNeed {
  let steady = maxReplicas;
  let limitedBy: PredictionLimit | null = null;
  let short = true;
  for (let m = 1; m <= maxReplicas; m++) {
    const broken = limitBroken(predictAt(m, d, e), l);
    if (broken === null) {
      steady = m;
      short = false;
      break;
    }
    limitedBy = broken;
  }
  // The backlog is extra work for a while: enough engines at the utilisation limit to serve
  // the demand and the queue within the bound.
  const drain = d.backlogS > 0 ? (d.demand + d.backlogS / l.backlogDrainS) / (e.ranks * l.maxUtilization) : 0;
  const withBacklog = Math.min(maxReplicas, Math.max(steady, Math.ceil(drain - 1e-9)));
  return { steady, withBacklog, limitedBy: short || steady > 1 ? limitedBy : null, short };
}

/**
 * Scale-down stabilization: a scale-down goes only to the largest need recorded over the
 * last `windowS` seconds. When a scale-up follows a scale-down within `relapseS` (the load
 * came back), the window doubles up to `maxWindowS`; it shrinks back by half after a whole
 * `maxWindowS` without such a relapse.
 */
export class ScaleDownWindow {
  private readonly needs: { atMs: number; need: number }[] = [];
  private lastDownMs = -Infinity;
  private lastRelapseMs = -Infinity;
  /** The last scale-down ended a peak (it came after a scale-up). */
  private downAfterUp = false;
  private lastDirection: "up" | "down" | null = null;
  windowS: number;

  constructor(
    readonly baseWindowS: number,
    readonly maxWindowS: number,
    /** Seconds after a scale-down within which a scale-up counts as a relapse. Default the window's maximum. */
    readonly relapseS = maxWindowS,
  ) {
    this.windowS = baseWindowS;
  }

  /** Records the need of one tick and forgets what is older than the longest window. */
  record(atMs: number, need: number): void {
    this.needs.push({ atMs, need });
    const keepFrom = atMs - this.maxWindowS * 1000;
    while (this.needs.length > 0 && this.needs[0].atMs < keepFrom) this.needs.shift();
    if (this.windowS > this.baseWindowS && atMs - this.lastRelapseMs > this.maxWindowS * 1000) {
      this.windowS = Math.max(this.baseWindowS, this.windowS / 2);
      this.lastRelapseMs = atMs;
    }
  }

  /** The largest need recorded within the window ending at `atMs`. */
  highest(atMs: number): number {
    const from = atMs - this.windowS * 1000;
    let max = 0;
    for (const n of this.needs) if (n.atMs >= from && n.need > max) max = n.need;
    return max;
  }

  /** Seconds the window has covered so far (the history may be shorter than the window). */
  covered(atMs: number): number {
    if (this.needs.length === 0) return 0;
    return Math.min(this.windowS, (atMs - this.needs[0].atMs) / 1000);
  }

  /** Tells the window the planner scaled; up, down, then up again soon lengthens it. */
  scaled(atMs: number, direction: "up" | "down"): void {
    if (direction === "down") {
      // A run of scale-downs after a peak still ends that peak.
      this.downAfterUp = this.lastDirection === "up" || (this.lastDirection === "down" && this.downAfterUp);
      this.lastDownMs = atMs;
    } else if (this.downAfterUp && atMs - this.lastDownMs <= this.relapseS * 1000) {
      this.windowS = Math.min(this.maxWindowS, this.windowS * 2);
      this.lastRelapseMs = atMs;
      this.downAfterUp = false;
    }
    this.lastDirection = direction;
  }
}

/** The rule that set a default-mode decision. */
export type DefaultRule =
  | "demand_scale_up"
  | "worst_engine_overload"
  | "predictive_scale_down"
  | "stabilization_window"
  | "scale_down_refused_backlog"
  | "capacity_starting"
  | "hold";

export interface DefaultDecisionInput {
  /** Ready replicas, and replicas still starting (counted as coming capacity). */
  ready: number;
  pending: number;
  minReplicas: number;
  maxReplicas: number;
  need: ReplicaNeed;
  /** Largest need over the stabilization window (including this tick's). */
  windowHighest: number;
  /** The history covers the whole window (no scale-down before it does). */
  windowCovered: boolean;
  /** Some engine is overloaded on its own (preempting, or its queue grows), whatever the aggregate says. */
  worstEngineOverloaded: boolean;
  /** Requests queued over the component. */
  queuedRequests: number;
  /** Queued requests per engine that still count as no backlog (a request or two in the gap between steps). */
  queueTolerance: number;
}

export interface DefaultDecision {
  desired: number;
  rule: DefaultRule;
}

/** One decision from the need (see the file's docblock); `desired` counts ready plus starting replicas. */
export function decideDefault(x: DefaultDecisionInput): DefaultDecision {
  const allocation = x.ready + x.pending;
  const clamp = (n: number) => Math.max(x.minReplicas, Math.min(x.maxReplicas, n));
  // Replicas starting will drain what queued while they started: while they start, only a
  // higher steady need adds more.
  const up = clamp(x.pending > 0 ? x.need.steady : x.need.withBacklog);
  if (up > allocation) return { desired: up, rule: "demand_scale_up" };
  if (x.worstEngineOverloaded && x.pending === 0 && allocation < x.maxReplicas)
    return { desired: clamp(allocation + 1), rule: "worst_engine_overload" };
  const down = clamp(Math.max(x.need.steady, x.windowHighest));
  if (x.need.steady < allocation && x.pending > 0) return { desired: allocation, rule: "capacity_starting" };
  if (down < allocation) {
    if (!x.windowCovered) return { desired: allocation, rule: "stabilization_window" };
    if (x.queuedRequests > x.queueTolerance) return { desired: allocation, rule: "scale_down_refused_backlog" };
    return { desired: down, rule: "predictive_scale_down" };
  }
  if (clamp(x.need.steady) < allocation) return { desired: allocation, rule: "stabilization_window" };
  return { desired: allocation, rule: "hold" };
}
