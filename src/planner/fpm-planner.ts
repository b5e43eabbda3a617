/**
 * `FpmPlanner`: the load-adjusting planner wired to the event plane. An
 * `FpmEventSubscriber` keeps the live engines; every `loadAdjustmentIntervalS` each
 * component's `ComponentPlanner` decides, the decision goes to the connector and out as a
 * record (one JSON line per component per tick), and the metrics follow.
 *
 * ```ts
 * const planner = new FpmPlanner({ connection: nc, namespace: "dynamo",
 *   components: [{ component: "backend", kind: "agg" }], config: resolvePlannerConfig({ optimizationTarget: "sla", maxNumBatchedTokens: 8192 }),
 *   onDecision: (d) => console.log(JSON.stringify(d)) });
 * planner.start();
 * ```
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type ModelCardEvent, ModelCardWatch } from "../discovery/model-card-watch.js";
import type { DiscoveryStore } from "../discovery/store.js";
import type { EnvelopeSource } from "../eventplane/plane.js";
import { namespaceFrom } from "../eventplane/subject.js";
import { PlannerMetrics } from "./planner-metrics.js";
import { DEFAULT_STALE_AFTER_MS, FpmEventSubscriber } from "../subscriber/fpm-event-subscriber.js";
import type { EngineEvent } from "../subscriber/tracked-engine.js";
import { Logger } from "../util/log.js";
import { ComponentPlanner } from "./component-planner.js";
import type { ReplicaConnector } from "./connectors/replica-connector.js";
import { VirtualConnector } from "./connectors/virtual-connector.js";
import type { PlannerDecision } from "./decision.js";
import type { PlannerConfig } from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";

export interface PlannedComponent {
  /** Component name as in the FPM subject (`backend`, `prefill`, ...). */
  component: string;
  /** Which model: `prefill`, `decode`, or `agg` (prefill and decode in one engine). */
  kind: ModelKind;
}

export interface FpmPlannerOptions {
  /** Connected NATS client: the FPM subscriptions (unless `source` is given) and the virtual connector. */
  connection?: NatsConnection;
  /** The event plane to read FPM from instead of NATS subscriptions (the ZMQ plane). */
  source?: EnvelopeSource;
  /**
   * Dynamo's discovery: model cards give liveness (a worker whose card goes is removed at
   * once) and the engine facts (`max_num_batched_tokens`, `context_length`, KV capacity)
   * that `config` leaves unset; what `config` sets (flags, config file) wins.
   */
  discovery?: DiscoveryStore;
  /** Namespace. Default: env DYN_NAMESPACE, else `dynamo`. */
  namespace?: string;
  /** Components planned, each with its model kind. Required, at least one. */
  components: PlannedComponent[];
  /** Resolved configuration (`resolvePlannerConfig`). */
  config: PlannerConfig;
  /** Default: a `VirtualConnector` publishing on `namespace.{ns}.planner.decisions`. */
  connector?: ReplicaConnector;
  /** Engines silent this long are expired (default mode). Default DEFAULT_STALE_AFTER_MS (5000); parity mode never expires. */
  staleAfterMs?: number;
  /** Engines tracked at most (new ones start on probation, see `FpmEventSubscriberOptions.maxEngines`). Default DEFAULT_MAX_ENGINES (10,000). */
  maxEngines?: number;
  /** Engines with per-engine series at most, when `metrics` is not given. Default DEFAULT_MAX_ENGINE_SERIES (2000). */
  maxEngineSeries?: number;
  /** Receives every decision record. */
  onDecision?: (d: PlannerDecision) => void;
  /** Default: a fresh `PlannerMetrics`. */
  metrics?: PlannerMetrics;
  /** Default: a `planner` logger from DYN_LOG. */
  logger?: Logger;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** Tick on a timer after `start()`. Default true; false when the caller drives `tick()` (simulated time). */
  autoTick?: boolean;
  /** Environment for DYN_NAMESPACE. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export class FpmPlanner {
  readonly subscriber: FpmEventSubscriber;
  readonly metrics: PlannerMetrics;
  readonly connector: ReplicaConnector;
  readonly planners = new Map<string, ComponentPlanner>();
  readonly namespace: string;
  private readonly opts: FpmPlannerOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private cards: ModelCardWatch | null = null;
  private readonly applying = new Set<Promise<void>>();
  /** Ticks done, and the time of the latest (ms). */
  ticks = 0;
  lastTickMs: number | null = null;

  constructor(opts: FpmPlannerOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? new Logger({ target: "fpm.planner" });
    this.now = opts.now ?? Date.now;
    this.namespace = namespaceFrom(opts.namespace, opts.env);
    this.metrics = opts.metrics ?? new PlannerMetrics({ maxEngineSeries: opts.maxEngineSeries });
    for (const c of opts.components) {
      this.planners.set(
        c.component,
        new ComponentPlanner({
          component: c.component,
          kind: c.kind,
          // A copy per component: model cards fill in its engine facts.
          config: { ...opts.config },
          maxEngines: opts.maxEngines,
        }),
      );
    }
    const parity = opts.config.mode === "parity";
    this.subscriber = new FpmEventSubscriber({
      connection: opts.connection,
      source: opts.source,
      namespace: this.namespace,
      components: opts.components.map((c) => c.component),
      // The reference has no time-based expiry: in parity a silent engine stays until removed.
      staleAfterMs: parity ? 0 : (opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS),
      maxEngines: opts.maxEngines,
      // FPM without a worker id (vLLM before Dynamo names it) belongs to no replica: kept out of the model and the gates.
      onAccepted: parity
        ? undefined
        : (component, fpm) => {
            if (fpm.workerId !== "") this.planners.get(component)?.ingest(fpm, this.now());
          },
      logger: this.logger.child("subscriber"),
      now: this.now,
    });
    this.subscriber.onEngineEvent((e) => this.onEngineEvent(e));
    this.connector =
      opts.connector ??
      new VirtualConnector({
        connection: opts.connection,
        namespace: this.namespace,
        logger: this.logger.child("connector"),
      });
  }

  /** Follows the model cards (when `discovery` is given); resolves once the first snapshot is in. */
  async watchModelCards(): Promise<void> {
    if (!this.opts.discovery || this.cards) return;
    this.cards = new ModelCardWatch(
      this.opts.discovery,
      this.namespace,
      (e) => this.onModelCard(e),
      this.logger.child("cards"),
    );
    await this.cards.start();
  }

  private onModelCard(e: ModelCardEvent): void {
    const planner = this.planners.get(e.card.component);
    if (!planner) return;
    if (e.type === "removed") {
      this.subscriber.removeWorker(e.card.workerId, e.card.component);
      return;
    }
    const user = this.opts.config;
    const c = planner.config;
    if (user.maxNumBatchedTokens === undefined && e.card.maxNumBatchedTokens !== undefined)
      c.maxNumBatchedTokens = e.card.maxNumBatchedTokens;
    if (user.contextLength === undefined && e.card.contextLength !== undefined) c.contextLength = e.card.contextLength;
    if (user.maxKvTokens === undefined && e.card.maxKvTokens !== undefined) c.maxKvTokens = e.card.maxKvTokens;
  }

  /** Subscribes and ticks every `loadAdjustmentIntervalS`. */
  start(): this {
    if (this.opts.connection || this.opts.source) this.subscriber.start();
    else this.subscriber.startExpiry();
    if (this.opts.autoTick ?? true) {
      const everyMs = this.opts.config.loadAdjustmentIntervalS * 1000;
      this.timer = setInterval(() => this.tick(), everyMs);
    }
    return this;
  }

  /** One tick for every component at `nowMs` (default: the clock); returns the decisions. */
  tick(nowMs = this.now()): PlannerDecision[] {
    const t0 = performance.now();
    const out: PlannerDecision[] = [];
    for (const [component, planner] of this.planners) {
      this.forgetGoneWorkers(component);
      const tracked = this.subscriber.snapshot(component).filter((t) => t.workerId !== "");
      const workers = new Set<string>();
      for (const t of tracked) workers.add(t.workerId);
      const live = { component, liveWorkers: workers.size };
      let d: PlannerDecision;
      try {
        d = planner.tick({
          nowMs,
          engines: tracked,
          replicas: this.connector.replicas(live),
          scaleInProgress: this.connector.scaleInProgress(live, nowMs),
          pendingReplicas: this.connector.pendingReplicas?.(live),
        });
      } catch (err) {
        // A bug in one component's tick must not stop the planner; it is logged and the tick skipped.
        this.logger.limited("tick-failed", "error", "tick failed", { component, error: String(err) });
        continue;
      }
      // Advisory mode decides and records, and never actuates.
      if (!this.opts.config.advisory) {
        const p = this.connector
          .apply(d, nowMs)
          .catch((err) => this.logger.limited("apply-failed", "error", "connector failed", { error: String(err) }));
        this.applying.add(p);
        void p.finally(() => this.applying.delete(p));
      }
      this.metrics.recordDecision(d, (w, r) => {
        const t = this.subscriber.get(component, w, r);
        return t && { fpm: t.fpm, established: this.subscriber.established(t) };
      });
      this.metrics.recordColdStart(component, planner.coldStartSkipped);
      if (d.direction !== "hold")
        this.logger.info("scaling decision", { component, replicas: d.replicas, desired: d.desired, reason: d.reason });
      this.opts.onDecision?.(d);
      out.push(d);
    }
    this.metrics.recordSubscriber(this.subscriber.stats());
    this.metrics.recordTick((performance.now() - t0) / 1000);
    this.ticks++;
    this.lastTickMs = nowMs;
    return out;
  }

  /** Healthy once connected (or offline) and ticking on time. */
  health(): { healthy: boolean; [k: string]: unknown } {
    const interval = this.opts.config.loadAdjustmentIntervalS * 1000;
    const late = this.lastTickMs !== null && this.now() - this.lastTickMs > 3 * interval;
    const closed = this.opts.connection?.isClosed() ?? false;
    const s = this.subscriber.stats();
    return {
      healthy: !late && !closed,
      nats: closed ? "closed" : "ok",
      ticks: this.ticks,
      engines: s.engines,
      mode: this.opts.config.mode,
      connector: this.connector.name,
    };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.cards?.stop();
    await this.subscriber.stop();
    await Promise.all([...this.applying]);
    await this.connector.close();
  }

  /** The deployment's own list of workers (when its connector has one) is discovery: others are forgotten. */
  private forgetGoneWorkers(component: string): void {
    const known = this.connector.workerIds?.({ component, liveWorkers: 0 });
    if (!known) return;
    const gone = new Set<string>();
    for (const t of this.subscriber.snapshot(component)) if (!known.has(t.workerId)) gone.add(t.workerId);
    for (const w of gone) this.subscriber.removeWorker(w, component);
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.type === "expired" || e.type === "removed" || e.type === "evicted") {
      this.planners.get(e.component)?.forgetEngine(e.workerId, e.dpRank);
      this.metrics.removeEngine(e.component, e.workerId, e.dpRank);
    }
  }
}
