/**
 * The planner's Prometheus metrics (`fpm_planner_` prefix, own Registry): per-engine
 * estimates labelled `worker_id` and `dp_rank` (removed when the engine expires; at most
 * `maxEngineSeries` engines, those past probation first), replicas and desired replicas,
 * replicas still starting, decisions by direction and reason and by the rule that decided,
 * the default policy's figures (demand, backlog, replicas needed, TTFT, ITL and KV use
 * predicted at the desired count, the stabilization window), samples, coefficients, and the
 * subscriber's message accounting by reason.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { EngineEstimate, PlannerDecision } from "./decision.js";
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { SUBSCRIBER_DROP_REASONS } from "../subscriber/drop-reasons.js";
import type { FpmEventSubscriberStats } from "../subscriber/fpm-event-subscriber.js";
import { SEQUENCE_RESET_REASONS } from "../util/sequence-follower.js";

/** Engines whose per-engine series are exported at most, by default (`--max-engine-series`). */
export const DEFAULT_MAX_ENGINE_SERIES = 2000;

/** One engine's latest state, as the per-engine series read it. */
export interface EngineLatestView {
  fpm: ForwardPassMetrics;
  /** Past probation: it keeps reporting (preferred for a series). */
  established: boolean;
}

export interface PlannerMetricsOptions {
  /** Engines whose per-engine series are exported at most; the rest are counted. Default 2000. */
  maxEngineSeries?: number;
}

const COEF_TERMS: Record<string, string[]> = {
  prefill: ["sum_prefill_tokens"],
  decode: ["num_decode_requests", "sum_decode_kv_tokens"],
  agg: ["sum_prefill_tokens", "sum_decode_kv_tokens"],
};

export class PlannerMetrics {
  readonly registry = new Registry();
  private readonly replicas: Gauge<string>;
  private readonly desired: Gauge<string>;
  private readonly decisions: Counter<string>;
  private readonly rules: Counter<string>;
  private readonly pending: Gauge<string>;
  /** Default policy (sla target): the figures its decisions used. */
  private readonly predicted: Record<"demand" | "backlog" | "needed" | "ttft" | "itl" | "kv" | "window", Gauge<string>>;
  private readonly samples: Gauge<string>;
  private readonly samplesAdded: Counter<string>;
  private readonly lastSamplesAdded = new Map<string, number>();
  private readonly coef: Gauge<string>;
  private readonly tickSeconds: Gauge<string>;
  private readonly engines: Gauge<string>;
  private readonly received: Counter<string>;
  private readonly accepted: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly lost: Counter<string>;
  private readonly unattributed: Counter<string>;
  private readonly expired: Counter<string>;
  private readonly restarts: Counter<string>;
  private readonly coldStart: Counter<string>;
  private readonly sequenceResets: Counter<string>;
  private readonly evicted: Counter<string>;
  private last: FpmEventSubscriberStats | null = null;
  /** Engines whose per-engine series are exported at most. */
  readonly maxEngineSeries: number;
  /** Engines left without per-engine series at the latest scrape. */
  seriesOmitted = 0;
  /**
   * Latest per-engine estimates per component. The per-engine gauges are filled from here
   * when scraped, not at every tick: setting thousands of labelled series per tick would
   * cost more than the tick itself at 2,000 engines.
   */
  private readonly engineViews = new Map<
    string,
    { engines: EngineEstimate[]; latest: (workerId: string, dpRank: number) => EngineLatestView | undefined }
  >();
  private readonly lastColdStart = new Map<string, number>();

  constructor(opts: PlannerMetricsOptions = {}) {
    this.maxEngineSeries = opts.maxEngineSeries ?? DEFAULT_MAX_ENGINE_SERIES;
    const r = [this.registry];
    const eng = ["component", "worker_id", "dp_rank"];
    const self = this;
    const fill = (pick: (e: EngineEstimate, fpm: ForwardPassMetrics | undefined) => number | undefined) =>
      function (this: Gauge<string>) {
        this.reset();
        for (const { component, e, fpm } of self.seriesEngines()) {
          const v = pick(e, fpm);
          if (v !== undefined) this.set({ component, worker_id: e.workerId, dp_rank: String(e.dpRank) }, v);
        }
      };
    new Gauge({
      name: "fpm_planner_engine_ttft_estimate_seconds",
      help: "Estimated TTFT of the next request on the engine (sla target)",
      labelNames: eng,
      registers: r,
      collect: fill((e) => (e.ttftMs === undefined ? undefined : e.ttftMs / 1000)),
    });
    new Gauge({
      name: "fpm_planner_engine_itl_estimate_seconds",
      help: "Estimated ITL of the next decode step on the engine (sla target)",
      labelNames: eng,
      registers: r,
      collect: fill((e) => (e.itlMs === undefined ? undefined : e.itlMs / 1000)),
    });
    new Gauge({
      name: "fpm_planner_engine_consolidated_ttft_estimate_seconds",
      help: "TTFT the engine's group would see with one replica fewer (parity, Dynamo 1.6.1 sla)",
      labelNames: eng,
      registers: r,
      collect: fill((e) => (e.consolidatedTtftMs === undefined ? undefined : e.consolidatedTtftMs / 1000)),
    });
    new Gauge({
      name: "fpm_planner_engine_consolidated_itl_estimate_seconds",
      help: "ITL the engine's group would see with one replica fewer (parity, Dynamo 1.6.1 sla)",
      labelNames: eng,
      registers: r,
      collect: fill((e) => (e.consolidatedItlMs === undefined ? undefined : e.consolidatedItlMs / 1000)),
    });
    new Gauge({
      name: "fpm_planner_engine_load_ratio",
      help: "Queue or KV utilisation ratio the throughput/latency/load rule compares (load on prefill: queued tokens)",
      labelNames: eng,
      registers: r,
      collect: fill((e) => e.loadRatio),
    });
    new Gauge({
      name: "fpm_planner_engine_wall_time_seconds",
      help: "Wall time of the engine's latest iteration (0: idle heartbeat)",
      labelNames: eng,
      registers: r,
      collect: fill((_e, f) => f?.wallTimeS),
    });
    new Gauge({
      name: "fpm_planner_engine_queued_requests",
      help: "Requests waiting on the engine (prefill plus preempted decode), from its latest FPM",
      labelNames: eng,
      registers: r,
      collect: fill((_e, f) =>
        f ? f.queuedRequests.numPrefillRequests + f.queuedRequests.numDecodeRequests : undefined,
      ),
    });
    new Gauge({
      name: "fpm_planner_engine_queued_prefill_tokens",
      help: "Prompt tokens waiting for prefill on the engine, from its latest FPM",
      labelNames: eng,
      registers: r,
      collect: fill((_e, f) => f?.queuedRequests.sumPrefillTokens),
    });
    this.replicas = new Gauge({
      name: "fpm_planner_replicas",
      help: "Replicas ready now, as the connector reports",
      labelNames: ["component"],
      registers: r,
    });
    this.desired = new Gauge({
      name: "fpm_planner_desired_replicas",
      help: "Replicas the latest tick asked for",
      labelNames: ["component"],
      registers: r,
    });
    this.decisions = new Counter({
      name: "fpm_planner_decisions_total",
      help: "Ticks by direction (up, down, hold) and reason",
      labelNames: ["component", "direction", "reason"],
      registers: r,
    });
    this.rules = new Counter({
      name: "fpm_planner_decision_rules_total",
      help: "Ticks by the rule that decided (gate, sla_consolidation, threshold_consolidation_guard, ...)",
      labelNames: ["component", "rule"],
      registers: r,
    });
    this.pending = new Gauge({
      name: "fpm_planner_pending_replicas",
      help: "Replicas still starting, as the connector reports (counted as capacity by Dynamo 1.6.1's rules)",
      labelNames: ["component"],
      registers: r,
    });
    const figure = (name: string, help: string) => new Gauge({ name, help, labelNames: ["component"], registers: r });
    this.predicted = {
      demand: figure(
        "fpm_planner_demand_engine_seconds",
        "Default policy: work arriving per second, in engine-seconds of the fitted per-token costs",
      ),
      backlog: figure("fpm_planner_backlog_engine_seconds", "Default policy: queued work, engine-seconds"),
      needed: figure("fpm_planner_replicas_needed", "Default policy: fewest replicas predicted to meet every limit"),
      ttft: figure(
        "fpm_planner_predicted_ttft_seconds",
        "Default policy: TTFT (tail) predicted per engine at the desired replicas",
      ),
      itl: figure(
        "fpm_planner_predicted_itl_seconds",
        "Default policy: ITL predicted per engine at the desired replicas",
      ),
      kv: figure(
        "fpm_planner_predicted_kv_use_ratio",
        "Default policy: share of the KV cache predicted in use per engine at the desired replicas",
      ),
      window: figure(
        "fpm_planner_scale_down_window_seconds",
        "Default policy: length of the scale-down stabilization window now",
      ),
    };
    this.samples = new Gauge({
      name: "fpm_planner_model_samples",
      help: "Regression samples kept now",
      labelNames: ["component"],
      registers: r,
    });
    this.samplesAdded = new Counter({
      name: "fpm_planner_model_samples_added_total",
      help: "Regression samples added, retired ones included",
      labelNames: ["component"],
      registers: r,
    });
    this.coef = new Gauge({
      name: "fpm_planner_model_coefficient",
      help: "Fitted coefficient (term intercept in seconds; others seconds per unit)",
      labelNames: ["component", "term"],
      registers: r,
    });
    this.tickSeconds = new Gauge({
      name: "fpm_planner_tick_duration_seconds",
      help: "Time the latest tick took (all components)",
      registers: r,
    });
    this.engines = new Gauge({ name: "fpm_planner_engines", help: "Live engines tracked", registers: r });
    this.received = new Counter({
      name: "fpm_planner_messages_received_total",
      help: "NATS messages received",
      registers: r,
    });
    this.accepted = new Counter({
      name: "fpm_planner_messages_accepted_total",
      help: "Messages accepted into the engine state",
      registers: r,
    });
    this.dropped = new Counter({
      name: "fpm_planner_messages_dropped_total",
      help: "Messages dropped, by reason",
      labelNames: ["reason"],
      registers: r,
    });
    this.lost = new Counter({
      name: "fpm_planner_messages_lost_total",
      help: "Messages missing from sequence gaps",
      registers: r,
    });
    this.unattributed = new Counter({
      name: "fpm_planner_messages_unattributed_total",
      help: 'Accepted messages with worker_id "" (no worker yet: kept out of the workers, the gates and the model)',
      registers: r,
    });
    this.expired = new Counter({
      name: "fpm_planner_engines_expired_total",
      help: "Engines expired after staying silent",
      registers: r,
    });
    this.restarts = new Counter({
      name: "fpm_planner_engine_restarts_total",
      help: "Engine restarts seen (counter_id went back to a new epoch near 0, confirmed by the message after)",
      registers: r,
    });
    this.coldStart = new Counter({
      name: "fpm_planner_cold_start_iterations_skipped_total",
      help: "Iterations of new or restarted engines kept out of the regression (default mode)",
      labelNames: ["component"],
      registers: r,
    });
    this.sequenceResets = new Counter({
      name: "fpm_planner_sequence_resets_total",
      help: "Breaks of an envelope sequence (field=sequence) or an engine's counter_id (field=counter_id) that were neither a gap nor a restart, by reason (jump, back, reverted)",
      labelNames: ["field", "reason"],
      registers: r,
    });
    this.evicted = new Counter({
      name: "fpm_planner_engines_evicted_total",
      help: "Engines on probation evicted to make room for a new engine in a full table (--max-engines)",
      registers: r,
    });
    new Gauge({
      name: "fpm_planner_engine_series_omitted",
      help: "Engines left without per-engine series at this scrape because more than --max-engine-series are tracked",
      registers: r,
      collect() {
        self.seriesEngines();
        this.set(self.seriesOmitted);
      },
    });
    // Every drop reason shows from the start, at 0, so alerts and dashboards find the series.
    for (const reason of [...SUBSCRIBER_DROP_REASONS, "recv_overflow"]) this.dropped.inc({ reason }, 0);
    for (const field of ["sequence", "counter_id"])
      for (const reason of SEQUENCE_RESET_REASONS) this.sequenceResets.inc({ field, reason }, 0);
  }

  /**
   * The engines that get per-engine series: at most `maxEngineSeries`, those past probation
   * first (a flood of one-message strangers cannot crowd out the engines that keep reporting).
   */
  private seriesEngines(): { component: string; e: EngineEstimate; fpm: ForwardPassMetrics }[] {
    const established: { component: string; e: EngineEstimate; fpm: ForwardPassMetrics }[] = [];
    const newcomers: { component: string; e: EngineEstimate; fpm: ForwardPassMetrics }[] = [];
    let total = 0;
    for (const [component, view] of this.engineViews) {
      for (const e of view.engines) {
        const latest = view.latest(e.workerId, e.dpRank);
        if (latest === undefined) continue;
        total++;
        const into = latest.established ? established : newcomers;
        if (into.length < this.maxEngineSeries) into.push({ component, e, fpm: latest.fpm });
      }
    }
    const out = established.concat(newcomers).slice(0, this.maxEngineSeries);
    this.seriesOmitted = total - out.length;
    return out;
  }

  /** Records one tick's decision and its per-engine estimates. */
  recordDecision(d: PlannerDecision, latest: (workerId: string, dpRank: number) => EngineLatestView | undefined): void {
    const c = d.component;
    this.replicas.set({ component: c }, d.replicas);
    this.desired.set({ component: c }, d.desired);
    this.decisions.inc({ component: c, direction: d.direction, reason: d.reason });
    this.rules.inc({ component: c, rule: d.rule });
    this.pending.set({ component: c }, d.pending ?? 0);
    const p = d.predicted;
    if (p) {
      const set = (g: Gauge<string>, v: number | null) => {
        if (v !== null && Number.isFinite(v)) g.set({ component: c }, v);
      };
      set(this.predicted.demand, p.demand);
      set(this.predicted.backlog, p.backlogS);
      set(this.predicted.needed, p.replicasNeeded);
      set(this.predicted.ttft, p.ttftMsAtDesired / 1000);
      set(this.predicted.itl, p.itlMsAtDesired / 1000);
      set(this.predicted.kv, p.kvUseAtDesired);
      set(this.predicted.window, p.windowS);
    }
    this.samples.set({ component: c }, d.model.samples);
    const before = this.lastSamplesAdded.get(c) ?? 0;
    if (d.model.samplesAdded > before) this.samplesAdded.inc({ component: c }, d.model.samplesAdded - before);
    this.lastSamplesAdded.set(c, d.model.samplesAdded);
    const terms = COEF_TERMS[d.kind];
    if (d.model.coef && d.model.intercept !== null) {
      this.coef.set({ component: c, term: "intercept" }, d.model.intercept);
      for (const [i, v] of d.model.coef.entries()) this.coef.set({ component: c, term: terms[i] }, v);
    }
    this.engineViews.set(c, { engines: d.engines, latest });
  }

  /** Removes every per-engine series of an engine that expired or was removed. */
  removeEngine(component: string, workerId: string, dpRank: number): void {
    const view = this.engineViews.get(component);
    if (view) view.engines = view.engines.filter((e) => e.workerId !== workerId || e.dpRank !== dpRank);
  }

  recordTick(seconds: number): void {
    this.tickSeconds.set(seconds);
  }

  recordColdStart(component: string, total: number): void {
    const prev = this.lastColdStart.get(component) ?? 0;
    if (total > prev) this.coldStart.inc({ component }, total - prev);
    this.lastColdStart.set(component, total);
  }

  /** Brings the message counters up to the subscriber's totals. */
  recordSubscriber(s: FpmEventSubscriberStats): void {
    const p = this.last;
    const inc = (c: Counter<string>, now: number, before: number, labels?: Record<string, string>) => {
      if (now > before) labels ? c.inc(labels, now - before) : c.inc(now - before);
    };
    inc(this.received, s.received, p?.received ?? 0);
    inc(this.accepted, s.accepted, p?.accepted ?? 0);
    inc(this.lost, s.lost, p?.lost ?? 0);
    inc(this.unattributed, s.unattributed, p?.unattributed ?? 0);
    inc(this.expired, s.expired, p?.expired ?? 0);
    inc(this.restarts, s.restarts, p?.restarts ?? 0);
    inc(this.evicted, s.evicted, p?.evicted ?? 0);
    for (const reason of SEQUENCE_RESET_REASONS) {
      inc(this.sequenceResets, s.sequenceResets[reason], p?.sequenceResets[reason] ?? 0, { field: "sequence", reason });
      inc(this.sequenceResets, s.counterResets[reason], p?.counterResets[reason] ?? 0, { field: "counter_id", reason });
    }
    for (const [reason, n] of Object.entries(s.dropped))
      inc(this.dropped, n, p?.dropped[reason as keyof typeof s.dropped] ?? 0, { reason });
    inc(this.dropped, s.recvOverflow, p?.recvOverflow ?? 0, { reason: "recv_overflow" });
    this.engines.set(s.engines);
    this.last = s;
  }
}
