/**
 * The planner of one component (prefill, decode or agg): feeds its model and decides the
 * replica count each tick (docs/design/planner-algorithm.md sections 2 and 7). Pure: time and the
 * engines' latest messages come in as arguments; no I/O.
 *
 * Parity mode feeds the latest message of each engine once per tick, as the reference, and
 * decides with Dynamo 1.6.1's rules (parity/) or, with `parity_rules: pre-1.6`, the rules
 * before 1.6 (decision-rules.ts). Default mode instead takes every distinct iteration as it
 * arrives (`ingest`), skips the cold-start iterations of new or restarted engines, keeps
 * what each engine did since the last tick (engine-window.ts) and, with the sla target,
 * decides by default-policy.ts: demand as work, replicas sized in one step, predicted
 * scale-down behind a stabilization window. With the other targets it steps down when
 * every engine has been idle for a whole interval.
 */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { DEFAULT_MAX_ENGINES } from "../subscriber/fpm-event-subscriber.js";
import { AggModel } from "./agg-model.js";
import { DecodeModel } from "./decode-model.js";
import {
  clampReplicas,
  combineAggVerdicts,
  slaVerdict,
  thresholdsFor,
  thresholdVerdict,
  type RuleVerdict,
} from "./decision-rules.js";
import type { DecisionReason, DecisionRule, EngineEstimate, PlannerDecision, PredictedFigures } from "./decision.js";
import {
  decideDefault,
  type EngineModel,
  type PolicyLimits,
  predictAt,
  replicasFor,
  ScaleDownWindow,
} from "./default-policy.js";
import {
  addIteration,
  demandOf,
  type EngineWindow,
  newEngineWindow,
  promptTokensPerRequest,
  rollWindow,
} from "./engine-window.js";
import { decideDynamo161 } from "./parity/decide-1-6-1.js";
import { DEFAULT_MAX_NUM_BATCHED_TOKENS, EnginePerfEstimate } from "./parity/perf-estimate.js";
import { allocation } from "./pending-replicas.js";
import { SEQUENCE_MAX_JUMP, SequenceFollower } from "../util/sequence-follower.js";
import { gpusPerReplicaFor, minEndpointFor, type PlannerConfig } from "./planner-config.js";
import { PrefillModel } from "./prefill-model.js";
import type { ModelKind } from "./regression-model.js";

/** One live engine's latest message, as the subscriber's tracking snapshot gives it. */
export interface EngineLatest {
  workerId: string;
  dpRank: number;
  fpm: ForwardPassMetrics;
}

export interface TickInput {
  /** Wall-clock ms of the tick (simulated time in tests). */
  nowMs: number;
  /** Live engines of this component, latest message each. */
  engines: readonly EngineLatest[];
  /** Replicas the deployment has ready now. */
  replicas: number;
  /** True while an earlier scale has not completed. */
  scaleInProgress: boolean;
  /** Replicas still starting, when the deployment reports them (Dynamo 1.6.1's rules count them). Default 0. */
  pendingReplicas?: number;
  /** Prefix-cache hit rate of recent requests (0..1), when known: discounts TTFT inputs (1.6.1 rules). */
  kvHitRate?: number;
  /** Speculative decoding accept length, when known: divides ITL (1.6.1 rules; clamped by speculative_nextn). */
  acceptLength?: number;
}

export interface ComponentPlannerOptions {
  /** Component name, as in the subject (`backend`, `prefill`, ...). */
  component: string;
  kind: ModelKind;
  config: PlannerConfig;
  /** Engines whose cold-start and idle state are kept (default mode). Default 10,000. */
  maxEngines?: number;
}

interface EngineProgress {
  /** Follows the engine's counter_id: a restart is a step back, confirmed by the message after it. */
  counterIds: SequenceFollower;
  /** Non-idle iterations since the engine (re)started. */
  busyIterations: number;
  firstSeenMs: number;
  /** Last non-heartbeat iteration, or -Infinity. */
  lastBusyMs: number;
  /** What the engine did since the last tick. */
  window: EngineWindow;
}

export class ComponentPlanner {
  readonly component: string;
  readonly kind: ModelKind;
  readonly config: PlannerConfig;
  readonly model: PrefillModel | DecodeModel | AggModel;
  /** Default mode: per worker_id, per dp_rank (nested so the hot path builds no key strings). */
  private readonly progress = new Map<string, Map<number, EngineProgress>>();
  private progressCount = 0;
  private readonly maxEngines: number;
  /** Default mode: iterations skipped as cold start, and engines refused for the bound. */
  coldStartSkipped = 0;
  enginesRefused = 0;
  /** Parity mode with Dynamo 1.6.1's rules, sla target: its engine queries over `model`. */
  readonly perf: EnginePerfEstimate | null = null;
  /** 1.6.1 keeps the last hit rate and accept length it was told (runtime metadata, last value wins). */
  private lastKvHitRate: number | undefined;
  private lastAcceptLength = 1;
  /** Default mode, sla target: scale-down stabilization, and the work a prompt token brings (learnt). */
  private readonly downWindow: ScaleDownWindow;
  private workPerPromptToken = 0;
  private smoothDemand: number | null = null;
  /** Prompt tokens per request, as the last window that saw requests start measured it; 0 before. */
  private promptTokens = 0;

  constructor(opts: ComponentPlannerOptions) {
    this.component = opts.component;
    this.kind = opts.kind;
    this.config = opts.config;
    this.maxEngines = opts.maxEngines ?? DEFAULT_MAX_ENGINES;
    const modelOpts = {
      maxSamples: opts.config.maxNumFpmSamples,
      bucketCount: opts.config.fpmSampleBucketSize,
      minObservations: opts.config.loadMinObservations,
    };
    this.model =
      opts.kind === "prefill"
        ? new PrefillModel(modelOpts)
        : opts.kind === "decode"
          ? new DecodeModel(modelOpts)
          : new AggModel(modelOpts);
    const c = opts.config;
    this.downWindow = new ScaleDownWindow(c.scaleDownStabilizationS, c.scaleDownStabilizationMaxS);
    if (c.mode === "parity" && c.parityRules === "1.6.1" && c.optimizationTarget === "sla") {
      this.perf = new EnginePerfEstimate({
        kind: opts.kind,
        model: this.model,
        window: c.maxNumFpmSamples,
        chunkTokens: c.maxNumBatchedTokens ?? DEFAULT_MAX_NUM_BATCHED_TOKENS,
        attentionDp: c.attentionDp?.[opts.kind],
      });
    }
  }

  /**
   * Default mode: one distinct iteration as it arrives. Repeats of an engine's last
   * `counter_id` are ignored; a lower `counter_id` followed by the next one is a restart and
   * starts a new cold start. An iteration that jumps or steps back is not a sample until
   * the next confirms it (it may be forged, or the first of a restart). Returns true when
   * the iteration became a regression sample. No-op in parity mode.
   */
  ingest(fpm: ForwardPassMetrics, nowMs: number): boolean {
    if (this.config.mode === "parity") return false;
    let ranks = this.progress.get(fpm.workerId);
    let p = ranks?.get(fpm.dpRank);
    if (!p) {
      if (this.progressCount >= this.maxEngines) {
        this.enginesRefused++;
        return false;
      }
      p = {
        counterIds: new SequenceFollower(),
        busyIterations: 0,
        firstSeenMs: nowMs,
        lastBusyMs: -Infinity,
        window: newEngineWindow(nowMs),
      };
      p.counterIds.observe(fpm.counterId, 0);
      if (!ranks) {
        ranks = new Map();
        this.progress.set(fpm.workerId, ranks);
      }
      ranks.set(fpm.dpRank, p);
      this.progressCount++;
    } else if (fpm.counterId !== 0 || p.counterIds.last > 0) {
      // 0 is "unstamped" for engines that never stamp; after stamped values it is a restart.
      const f = p.counterIds;
      const step = f.observe(fpm.counterId, 0);
      if (step === "repeat") return false;
      if (f.settled === "back" && f.settledAt <= SEQUENCE_MAX_JUMP) {
        p.busyIterations = 0;
        p.firstSeenMs = nowMs;
      }
      if (step === "break" && f.judging !== "gap") return false;
    }
    const busy = fpm.wallTimeS > 0;
    if (busy) {
      p.busyIterations++;
      p.lastBusyMs = nowMs;
    }
    addIteration(p.window, fpm, this.config.maxNumBatchedTokens);
    const warm = p.busyIterations > this.config.coldStartIterations;
    if (busy && !warm) this.coldStartSkipped++;
    return this.model.observe(fpm, warm);
  }

  /** Forgets an engine that expired or was removed (default mode state). */
  forgetEngine(workerId: string, dpRank: number): void {
    const ranks = this.progress.get(workerId);
    if (ranks?.delete(dpRank)) {
      this.progressCount--;
      if (ranks.size === 0) this.progress.delete(workerId);
    }
  }

  get trackedEngines(): number {
    return this.progressCount;
  }

  /** One tick: (parity) feed the latest messages, estimate, pass the gates, decide. */
  tick(input: TickInput): PlannerDecision {
    const c = this.config;
    if (c.mode === "parity" && c.parityRules === "1.6.1") return this.tickDynamo161(input);
    if (c.mode === "parity") for (const e of input.engines) this.model.observe(e.fpm);
    if (c.mode === "default" && c.optimizationTarget === "sla") return this.tickDefault(input);
    const n = input.replicas;
    const engines = this.estimate(input.engines);
    const decide = (reason: DecisionReason, desired = n, rule: DecisionRule = "gate"): PlannerDecision =>
      this.record(input, engines, reason, desired, rule);
    const minEndpoint = minEndpointFor(c, this.kind);

    if (!c.enableLoadScaling) return decide("disabled");
    if (input.scaleInProgress) return decide("scaling_in_progress");
    if (input.engines.length === 0) return decide("no_fpm_data");
    if (!workerCountMatches(input.engines, n)) return decide("worker_count_mismatch");
    if (c.mode === "default" && this.allIdle(input)) {
      if (n > minEndpoint) return this.finish(input, engines, { desired: n - 1, rule: "idle" }, "idle_scale_down");
      return decide("no_change", n, "hold");
    }
    if (n === 0) return decide("insufficient_data");

    let verdict: RuleVerdict;
    if (c.optimizationTarget === "sla") {
      if (!this.model.hasSufficientData()) return decide("insufficient_data");
      if (!this.model.ensureFitted()) return decide("fit_rejected");
      const ttft = engines.map((e) => e.ttftMs).filter((v): v is number => v !== undefined);
      const itl = engines.map((e) => e.itlMs).filter((v): v is number => v !== undefined);
      const sens = c.loadScalingDownSensitivity;
      if (this.kind === "prefill") {
        if (ttft.length === 0) return decide("insufficient_data");
        verdict = slaVerdict(ttft, c.ttftMs, sens, n, minEndpoint);
      } else if (this.kind === "decode") {
        verdict = slaVerdict(itl, c.itlMs, sens, n, minEndpoint);
      } else {
        const t = ttft.length > 0 ? slaVerdict(ttft, c.ttftMs, sens, n, minEndpoint) : null;
        verdict = combineAggVerdicts(t, slaVerdict(itl, c.itlMs, sens, n, minEndpoint), n);
      }
    } else {
      const ratios = engines.map((e) => e.loadRatio).filter((v): v is number => v !== undefined);
      if (ratios.length === 0) return decide("insufficient_data");
      verdict = thresholdVerdict(ratios, thresholdsFor(this.kind, c.optimizationTarget, c), n, minEndpoint);
    }
    return this.finish(input, engines, verdict);
  }

  private finish(
    input: TickInput,
    engines: EngineEstimate[],
    verdict: RuleVerdict,
    why?: DecisionReason,
  ): PlannerDecision {
    const c = this.config;
    const n = input.replicas;
    const { desired, budgetCapped } = clampReplicas(
      verdict ? verdict.desired : n,
      minEndpointFor(c, this.kind),
      c.maxGpuBudget,
      gpusPerReplicaFor(c, this.kind),
    );
    let reason: DecisionReason;
    let rule: DecisionRule = verdict?.rule ?? "hold";
    if (budgetCapped && desired <= n && (verdict?.desired ?? n) > desired)
      [reason, rule] = ["max_gpu_budget", "gpu_budget"];
    else if (desired > n) reason = "scale_up";
    else if (desired < n) reason = why ?? "scale_down";
    else reason = "no_change";
    return this.record(input, engines, reason, desired, rule);
  }

  /**
   * Default mode, sla target (default-policy.ts). Replicas still starting count as coming
   * capacity, so a scale in progress stops the tick only when the connector cannot say how
   * many are starting.
   */
  private tickDefault(input: TickInput): PlannerDecision {
    const c = this.config;
    const n = input.replicas;
    const pending = input.pendingReplicas ?? 0;
    const alloc = allocation(n, pending);
    const engines = this.estimate(input.engines, this.windowPromptTokens(input));
    const gate = (reason: DecisionReason): PlannerDecision => this.record(input, engines, reason, alloc, "gate");
    if (!c.enableLoadScaling) return gate("disabled");
    if (input.scaleInProgress && input.pendingReplicas === undefined) return gate("scaling_in_progress");
    if (input.engines.length === 0) return gate("no_fpm_data");
    // Ready workers that have not published yet are capacity still coming; engines of more
    // workers than the deployment runs, or uneven ranks, stop the tick as in the reference.
    const seen = workerCount(input.engines);
    if (seen === null || seen > n) return gate("worker_count_mismatch");
    // No traffic at all for a whole interval needs no model: a step down per tick, as before.
    if (this.allIdle(input) && pending === 0) {
      const minimum = minEndpointFor(c, this.kind);
      const down = n > minimum ? n - 1 : n;
      if (down < n) this.downWindow.scaled(input.nowMs, "down");
      return this.record(input, engines, down < n ? "idle_scale_down" : "no_change", down, down < n ? "idle" : "hold");
    }
    if (!this.model.hasSufficientData()) return gate("insufficient_data");
    if (!this.model.ensureFitted()) return gate("fit_rejected");
    const fit = this.model.coefficients()!;
    const windowTtft: (number | undefined)[] = [];
    const windows = this.takeWindows(input, engines, windowTtft);
    const d = demandOf(windows, input.nowMs, this.workCosts(fit.coef), this.workPerPromptToken);
    const ranks = input.engines.length / seen;
    const tolerance = input.engines.length;
    if (d.observedWorkPerPromptToken > 0 && d.queuedRequests <= tolerance && !d.preempted)
      this.workPerPromptToken =
        this.workPerPromptToken > 0
          ? this.workPerPromptToken + WORK_PER_TOKEN_WEIGHT * (d.observedWorkPerPromptToken - this.workPerPromptToken)
          : d.observedWorkPerPromptToken;
    const engine: EngineModel = {
      iterationS: fit.intercept,
      prefillS: this.kind === "decode" ? 0 : fit.coef[0],
      chunkTokens: c.maxNumBatchedTokens,
      kvCapacityTokens: c.maxKvTokens,
      ranks,
    };
    const limits: PolicyLimits = {
      ttftMs: this.kind === "decode" ? Infinity : c.ttftMs,
      itlMs: this.kind === "prefill" ? Infinity : c.itlMs,
      maxUtilization: c.maxUtilization,
      kvUseTarget: this.kind === "prefill" ? Infinity : c.kvUseTarget,
      backlogDrainS: c.backlogDrainS,
    };
    const minReplicas = minEndpointFor(c, this.kind);
    const gpus = gpusPerReplicaFor(c, this.kind);
    const maxReplicas = Math.max(minReplicas, c.maxGpuBudget >= 0 ? Math.floor(c.maxGpuBudget / gpus) : 10_000);
    const need = replicasFor(d, engine, limits, maxReplicas);
    // The window keeps the need of the smoothed demand: a tick's noise would otherwise set its maximum.
    this.smoothDemand =
      this.smoothDemand === null ? d.demand : this.smoothDemand + DEMAND_WEIGHT * (d.demand - this.smoothDemand);
    const smoothNeed = replicasFor({ ...d, demand: this.smoothDemand }, engine, limits, maxReplicas).steady;
    this.downWindow.record(input.nowMs, Math.max(smoothNeed, Math.min(need.steady, smoothNeed + 1)));
    // The worst engine decides too: one whose queue grows is short of capacity for what it is
    // sent, and one whose standing queue alone breaks the TTFT SLA is too (a queue that drains
    // is not: replicas added now would not take its requests).
    const worst = windows.some(
      (w, i) =>
        (w.queuedRequests > w.queuedRequestsAtStart + 1 && w.queuedTokens > w.queuedTokensAtStart) ||
        (w.queuedTokens > 0 && w.queuedTokens >= w.queuedTokensAtStart && (windowTtft[i] ?? 0) > c.ttftMs),
    );
    const out = decideDefault({
      ready: seen,
      pending: pending + (n - seen),
      minReplicas,
      maxReplicas,
      need,
      windowHighest: this.downWindow.highest(input.nowMs),
      windowCovered: this.downWindow.covered(input.nowMs) >= this.downWindow.windowS - 1e-9,
      worstEngineOverloaded: worst,
      queuedRequests: d.queuedRequests,
      queueTolerance: tolerance,
    });
    if (out.desired !== alloc) this.downWindow.scaled(input.nowMs, out.desired > alloc ? "up" : "down");
    const at = predictAt(out.desired, d, engine);
    const predicted: PredictedFigures = {
      demand: round(d.demand, 4),
      backlogS: round(d.backlogS, 3),
      requestRate: round(d.requestRate, 2),
      promptTokens: round(d.promptTokens, 1),
      replicasNeeded: need.steady,
      replicasWithBacklog: need.withBacklog,
      limitedBy: need.limitedBy,
      windowReplicas: this.downWindow.highest(input.nowMs),
      windowS: this.downWindow.windowS,
      utilizationAtDesired: round(at.utilization, 4),
      ttftMsAtDesired: round(at.ttftMs, 1),
      itlMsAtDesired: round(at.itlMs, 2),
      kvUseAtDesired: at.kvUse === null ? null : round(at.kvUse, 4),
    };
    const reason: DecisionReason = out.desired > alloc ? "scale_up" : out.desired < alloc ? "scale_down" : "no_change";
    const rec = this.record(input, engines, reason, out.desired, out.rule);
    rec.predicted = predicted;
    return rec;
  }

  /** The per-token costs of the fit: agg [prefill, decode KV], prefill [prefill], decode [decode requests, decode KV]. */
  private workCosts(coef: readonly number[]): { prefillS: number; decodeKvS: number; decodeRequestS: number } {
    if (this.kind === "prefill") return { prefillS: coef[0], decodeKvS: 0, decodeRequestS: 0 };
    if (this.kind === "decode") return { prefillS: 0, decodeKvS: coef[1], decodeRequestS: coef[0] };
    return { prefillS: coef[0], decodeKvS: coef[1], decodeRequestS: 0 };
  }

  /**
   * The prompt length the TTFT estimates take in default mode: per request, as the policy
   * sizes with (the models' average is per scheduled chunk, short under chunked prefill).
   * Undefined until a window saw a request start: the model's average then.
   */
  private windowPromptTokens(input: TickInput): number | undefined {
    const windows: EngineWindow[] = [];
    for (const e of input.engines) {
      const p = this.progress.get(e.workerId)?.get(e.dpRank);
      if (p) windows.push(p.window);
    }
    const now = promptTokensPerRequest(windows);
    if (now > 0) this.promptTokens = now;
    return this.promptTokens > 0 ? this.promptTokens : undefined;
  }

  /** The windows of the live engines, each restarted at `nowMs`; `ttft` gets each one's TTFT estimate. */
  private takeWindows(input: TickInput, estimates: EngineEstimate[], ttft: (number | undefined)[]): EngineWindow[] {
    const out: EngineWindow[] = [];
    for (let i = 0; i < input.engines.length; i++) {
      const e = input.engines[i];
      const p = this.progress.get(e.workerId)?.get(e.dpRank);
      if (!p) continue;
      out.push(p.window);
      ttft.push(estimates[i].ttftMs);
      p.window = rollWindow(p.window, input.nowMs);
    }
    return out;
  }

  /** Parity mode, Dynamo 1.6.1's rules (parity/decide-1-6-1.ts); the sla model is fed every tick, as 1.6.1 does. */
  private tickDynamo161(input: TickInput): PlannerDecision {
    const c = this.config;
    if (input.kvHitRate !== undefined && !Number.isNaN(input.kvHitRate)) this.lastKvHitRate = input.kvHitRate;
    if (input.acceptLength !== undefined && Number.isFinite(input.acceptLength))
      this.lastAcceptLength = input.acceptLength;
    this.perf?.observe(input.engines);
    const pending = input.pendingReplicas ?? 0;
    const engines: EngineEstimate[] = input.engines.map((e) => ({ workerId: e.workerId, dpRank: e.dpRank }));
    const hold = allocation(input.replicas, pending);
    if (!c.enableLoadScaling) return this.record(input, engines, "disabled", hold, "gate");
    const nextn = c.speculativeNextn;
    const out = decideDynamo161(
      {
        kind: this.kind,
        config: c,
        engines: input.engines,
        estimates: engines,
        ready: input.replicas,
        pending,
        perf: this.perf ?? undefined,
        kvHitRate: this.lastKvHitRate,
        acceptLength: nextn > 0 ? Math.min(Math.max(this.lastAcceptLength, 1), nextn + 1) : 1,
      },
      input.scaleInProgress,
    );
    return this.record(input, engines, out.reason, out.desired ?? hold, out.rule);
  }

  /** Per-engine estimates (sla) or load ratios (throughput/latency); TTFT over `promptTokens` when given. */
  private estimate(latest: readonly EngineLatest[], promptTokens?: number): EngineEstimate[] {
    const c = this.config;
    const out: EngineEstimate[] = new Array(latest.length);
    const sla = c.optimizationTarget === "sla";
    const fitted = sla && this.model.hasSufficientData() && this.model.ensureFitted();
    for (let i = 0; i < latest.length; i++) {
      const { workerId, dpRank, fpm } = latest[i];
      const s = fpm.scheduledRequests,
        q = fpm.queuedRequests;
      const e: EngineEstimate = { workerId, dpRank };
      if (sla) {
        if (fitted) {
          const m = this.model;
          if (m instanceof PrefillModel) {
            const t = m.estimateTtft(q.sumPrefillTokens, c.maxNumBatchedTokens ?? 0, promptTokens);
            if (t !== null) e.ttftMs = t * 1000;
          } else if (m instanceof DecodeModel) {
            const t = m.estimateItl(s.sumDecodeKvTokens, q.sumDecodeKvTokens);
            if (t !== null) e.itlMs = t * 1000;
          } else {
            const t = m.estimateTtft(q.sumPrefillTokens, c.maxNumBatchedTokens ?? 0, s.sumDecodeKvTokens, promptTokens);
            if (t !== null) e.ttftMs = t * 1000;
            const l = m.estimateItl(s.sumDecodeKvTokens, q.sumDecodeKvTokens);
            if (l !== null) e.itlMs = l * 1000;
          }
        }
      } else if (this.kind === "prefill") {
        if (c.optimizationTarget === "load") e.loadRatio = q.sumPrefillTokens;
        else if (c.contextLength) e.loadRatio = q.sumPrefillTokens / c.contextLength;
      } else if (c.maxKvTokens) {
        const kv = s.sumDecodeKvTokens + q.sumDecodeKvTokens + (this.kind === "agg" ? q.sumPrefillTokens : 0);
        e.loadRatio = kv / c.maxKvTokens;
      }
      out[i] = e;
    }
    return out;
  }

  /** Every live engine known for at least an interval and idle (heartbeats only) through it. */
  private allIdle(input: TickInput): boolean {
    const since = input.nowMs - this.config.loadAdjustmentIntervalS * 1000;
    for (const e of input.engines) {
      const p = this.progress.get(e.workerId)?.get(e.dpRank);
      if (!p || p.firstSeenMs > since || p.lastBusyMs >= since) return false;
    }
    return true;
  }

  private record(
    input: TickInput,
    engines: EngineEstimate[],
    reason: DecisionReason,
    desired: number,
    rule: DecisionRule,
  ): PlannerDecision {
    const m = this.model;
    const fit = m.hasSufficientData() ? m.coefficients() : null;
    const c = this.config;
    // 1.6.1's rules and the default policy (sla) decide through starting replicas; the other rule
    // sets' desired counts are ready counts, so their holds must not read as a reduction that
    // cancels a starting replica.
    const throughStarting =
      (c.mode === "parity" && c.parityRules === "1.6.1") || (c.mode === "default" && c.optimizationTarget === "sla");
    const now = throughStarting ? allocation(input.replicas, input.pendingReplicas ?? 0) : input.replicas;
    return {
      time: new Date(input.nowMs).toISOString(),
      component: this.component,
      kind: this.kind,
      mode: c.mode,
      ...(c.mode === "parity" ? { parityRules: c.parityRules } : {}),
      target: c.optimizationTarget,
      replicas: input.replicas,
      ...(input.pendingReplicas !== undefined ? { pending: input.pendingReplicas } : {}),
      desired,
      direction: desired > now ? "up" : desired < now ? "down" : "hold",
      reason,
      rule,
      ...(c.advisory ? { advisory: true } : {}),
      engines,
      model: {
        status: m.hasSufficientData() ? m.status() : "insufficient_data",
        intercept: fit ? fit.intercept : null,
        coef: fit ? fit.coef : null,
        samples: m.sampleCount,
        samplesAdded: m.samplesAdded,
      },
    };
  }
}

/** Weight of a new tick's demand in the smoothed demand behind the stabilization window. */
const DEMAND_WEIGHT = 0.4;

/** Weight of a new tick's work per prompt token in its moving average. */
const WORK_PER_TOKEN_WEIGHT = 0.3;

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** Distinct workers of the engines, or null when their rank counts differ. */
function workerCount(engines: readonly EngineLatest[]): number | null {
  const ranks = new Map<string, number>();
  for (const e of engines) ranks.set(e.workerId, (ranks.get(e.workerId) ?? 0) + 1);
  let size = -1;
  for (const r of ranks.values()) {
    if (size === -1) size = r;
    else if (r !== size) return null;
  }
  return ranks.size;
}

/** The reference's check: distinct workers equal the ready count, and every worker has the same number of ranks. */
export function workerCountMatches(engines: readonly EngineLatest[], replicas: number): boolean {
  const ranks = new Map<string, number>();
  for (const e of engines) ranks.set(e.workerId, (ranks.get(e.workerId) ?? 0) + 1);
  if (ranks.size !== replicas) return false;
  let size = -1;
  for (const r of ranks.values()) {
    if (size === -1) size = r;
    else if (r !== size) return false;
  }
  return true;
}
