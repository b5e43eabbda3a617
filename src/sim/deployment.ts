/**
 * A simulated deployment: workers x dp ranks of engines on one simulated clock, a router
 * that sends each arriving request to the engine with the fewest outstanding requests, and
 * workers that can be added (ready after a start-up delay) or removed while it runs:
 * killed (their requests start over elsewhere, as Dynamo's scale-down does) or drained
 * (no new requests; they stop once their running requests finish). Each finished
 * iteration is reported with its ForwardPassMetrics and each finished request with its
 * timings; nothing here does I/O.
 */
import { FPM_VERSION, type ForwardPassMetrics, emptyQueued, emptyScheduled } from "../schema/forward-pass-metrics.js";
import type { Arrival, ArrivalSource } from "./arrivals.js";
import { CostModel, type CostModelOptions } from "./cost-model.js";
import { EngineScheduler, type EngineSchedulerOptions, type IterationPlan } from "./engine-scheduler.js";
import { EventQueue } from "./event-queue.js";
import { SimRequest } from "./sim-request.js";

export interface ForwardPassEvent {
  workerId: string;
  dpRank: number;
  /** Worker slot (stable position used for ports: base + slot * dpRanks + rank). */
  slot: number;
  /** Simulated time the iteration ended (when the engine publishes). */
  atS: number;
  fpm: ForwardPassMetrics;
}

/** `draining`: removed from routing, finishing its requests; `stopped` follows when it is empty. */
export type WorkerEventKind = "starting" | "ready" | "draining" | "stopped";

/** How a scale-down removes a worker. */
export type ScaleDownMode = "kill" | "drain";

/** A request that produced its last token. */
export interface FinishedRequest {
  /** Arrival at the deployment (the first attempt's, for a restarted request). */
  arrivalS: number;
  /** First output token of the attempt that finished. */
  firstTokenS: number;
  finishS: number;
  inputTokens: number;
  outputTokens: number;
  /** Attempts lost to a killed worker before this one. */
  restarts: number;
  /** Times the finishing attempt was preempted (KV cache full). */
  preemptions: number;
  /** The worker that finished it. */
  workerId: string;
}

export interface WorkerEvent {
  kind: WorkerEventKind;
  workerId: string;
  slot: number;
  atS: number;
}

/** Most workers (running or starting), by default. */
export const DEFAULT_MAX_WORKERS = 64;
/** Worker ids are this prefix and a counter, by default. */
export const DEFAULT_WORKER_ID_PREFIX = "sim-worker-";

export interface SimulatedDeploymentOptions {
  arrivals: ArrivalSource;
  /** Workers ready at time 0. Default 1. */
  workers?: number;
  /** Data-parallel ranks (engines) per worker. Default 1. */
  dpRanks?: number;
  scheduler?: EngineSchedulerOptions;
  /** Each engine gets its own noise stream, seeded from `seed` and its position. */
  cost?: Omit<CostModelOptions, "seed">;
  /** Seed of every random stream in the deployment. Default 1. */
  seed?: number;
  /** Simulated seconds between adding a worker and its engines taking requests. Default 0. */
  startupDelayS?: number;
  /** Emit idle heartbeats on the simulated clock this often; unset: none (a real-time publisher sends them). */
  heartbeatIntervalS?: number;
  /** Prefix of worker ids; a counter follows. Default DEFAULT_WORKER_ID_PREFIX ("sim-worker-"). */
  workerIdPrefix?: string;
  /** Most workers (running or starting). Default DEFAULT_MAX_WORKERS (64). */
  maxWorkers?: number;
  /** How `setWorkerCount` removes workers. Default `kill`. */
  scaleDown?: ScaleDownMode;
  /** Every finished iteration's FPM; when absent no FPM is built (faster: for runs that only need timings). */
  onForwardPass?: (ev: ForwardPassEvent) => void;
  onWorkerEvent?: (ev: WorkerEvent) => void;
  /** Called for every request that finishes. */
  onRequestFinished?: (r: FinishedRequest) => void;
}

class SimEngine {
  counter = 0;
  busy = false;
  lastEmitS = 0;
  lastWallTimeS = 0;
  plan: IterationPlan | null = null;
  inFlightWallS = 0;
  /** The end of the iteration in flight, bound once (no closure per iteration). */
  onIterationEnd: () => void = () => {};
  constructor(
    readonly worker: SimWorker,
    readonly dpRank: number,
    readonly scheduler: EngineScheduler,
    readonly cost: CostModel,
  ) {}
}

class SimWorker {
  ready = false;
  stopped = false;
  draining = false;
  engines: SimEngine[] = [];
  constructor(
    readonly workerId: string,
    readonly slot: number,
    readonly generation: number,
  ) {}
}

export interface EngineView {
  workerId: string;
  dpRank: number;
  slot: number;
  running: number;
  waiting: number;
  kvUsedTokens: number;
  lastWallTimeS: number;
}

export interface DeploymentTotals {
  arrivals: number;
  routed: number;
  rejected: number;
  rerouted: number;
  finished: number;
  forwardPasses: number;
  heartbeats: number;
  preemptions: number;
}

/** Most recent time-to-first-token samples kept for summaries. */
const TTFT_WINDOW = 4096;

export class SimulatedDeployment {
  readonly dpRanks: number;
  readonly clock = new EventQueue();
  readonly totals: DeploymentTotals = {
    arrivals: 0,
    routed: 0,
    rejected: 0,
    rerouted: 0,
    finished: 0,
    forwardPasses: 0,
    heartbeats: 0,
    preemptions: 0,
  };
  private readonly opts: SimulatedDeploymentOptions;
  private readonly workers: SimWorker[] = [];
  /** Workers removed from routing that still finish their requests (scale-down `drain`). */
  private readonly drainingWorkers: SimWorker[] = [];
  private readonly ttft: number[] = [];
  private pending: Arrival | null;
  private generation = 0;
  private requestIds = 0;
  private rr = 0;

  constructor(opts: SimulatedDeploymentOptions) {
    this.opts = opts;
    this.dpRanks = opts.dpRanks ?? 1;
    if (!Number.isInteger(this.dpRanks) || this.dpRanks < 1)
      throw new RangeError(`dpRanks must be an integer >= 1, got ${this.dpRanks}`);
    const initial = opts.workers ?? 1;
    if (!Number.isInteger(initial) || initial < 1)
      throw new RangeError(`workers must be an integer >= 1, got ${initial}`);
    if (initial > this.maxWorkers())
      throw new RangeError(`workers (${initial}) exceeds maxWorkers (${this.maxWorkers()})`);
    // Constructing a scheduler validates its options once, before any worker exists.
    new EngineScheduler(opts.scheduler);
    for (let i = 0; i < initial; i++) this.startWorker(0);
    this.pending = opts.arrivals.next();
    if (opts.heartbeatIntervalS !== undefined) {
      const every = opts.heartbeatIntervalS;
      if (!(every > 0)) throw new RangeError(`heartbeatIntervalS must be > 0, got ${every}`);
      const tick = () => {
        this.emitHeartbeats(every);
        this.clock.at(this.clock.nowS + every, tick);
      };
      this.clock.at(every, tick);
    }
  }

  get nowS(): number {
    return this.clock.nowS;
  }

  /** Runs the simulation up to `untilS` (simulated seconds). */
  advanceTo(untilS: number): void {
    for (;;) {
      const arrivalT = this.pending ? this.pending.atS : Infinity;
      const eventT = this.clock.peekTime();
      if (Math.min(arrivalT, eventT) > untilS) break;
      if (arrivalT < eventT) {
        const a = this.pending!;
        this.pending = this.opts.arrivals.next();
        this.clock.nowS = Math.max(this.clock.nowS, a.atS);
        this.totals.arrivals++;
        this.route(new SimRequest(this.requestIds++, a.atS, a.inputTokens, a.outputTokens, a.cachedTokens));
      } else {
        this.clock.runNext(untilS);
      }
    }
    if (untilS > this.clock.nowS) this.clock.nowS = untilS;
  }

  /** True when no arrival is left and every engine is idle. */
  drained(): boolean {
    return (
      this.pending === null &&
      this.drainingWorkers.length === 0 &&
      this.workers.every((w) => w.engines.every((e) => !e.busy && !e.scheduler.hasWork()))
    );
  }

  /** Workers draining (removed from routing, still finishing requests). */
  drainingWorkerCount(): number {
    return this.drainingWorkers.length;
  }

  /** Requests queued or running on every engine, draining workers included. */
  outstandingRequests(): number {
    let n = 0;
    for (const list of [this.workers, this.drainingWorkers])
      for (const w of list) for (const e of w.engines) n += e.scheduler.outstanding();
    return n;
  }

  /** Workers running or starting (draining ones not included). */
  workerCount(): number {
    return this.workers.length;
  }

  readyWorkerCount(): number {
    return this.workers.filter((w) => w.ready).length;
  }

  /** Ids of the workers running or starting. */
  workerIds(): string[] {
    return this.workers.map((w) => w.workerId);
  }

  maxWorkers(): number {
    return this.opts.maxWorkers ?? DEFAULT_MAX_WORKERS;
  }

  /**
   * Adds or removes workers until `n` are running or starting (clamped to 1..maxWorkers).
   * The newest are removed first (so workers still starting go before ready ones), the
   * way `scaleDown` says; a worker still starting has nothing to drain and is stopped.
   */
  setWorkerCount(n: number): void {
    const target = Math.max(1, Math.min(this.maxWorkers(), Math.floor(n)));
    while (this.workers.length < target) this.startWorker(this.opts.startupDelayS ?? 0);
    while (this.workers.length > target) this.removeNewestWorker();
  }

  engineViews(): EngineView[] {
    const out: EngineView[] = [];
    for (const w of this.workers) {
      if (!w.ready) continue;
      for (const e of w.engines) {
        out.push({
          workerId: w.workerId,
          dpRank: e.dpRank,
          slot: w.slot,
          running: e.scheduler.numRunning(),
          waiting: e.scheduler.numWaiting(),
          kvUsedTokens: e.scheduler.kvUsedTokens(),
          lastWallTimeS: e.lastWallTimeS,
        });
      }
    }
    return out;
  }

  /** Recent time-to-first-token samples, seconds (at most 4096). */
  recentTtftS(): readonly number[] {
    return this.ttft;
  }

  private startWorker(delayS: number): void {
    const used = new Set(this.workers.map((w) => w.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const gen = this.generation++;
    const worker = new SimWorker(`${this.opts.workerIdPrefix ?? DEFAULT_WORKER_ID_PREFIX}${gen}`, slot, gen);
    const seed = this.opts.seed ?? 1;
    for (let r = 0; r < this.dpRanks; r++) {
      const cost = new CostModel({ ...this.opts.cost, seed: seed * 7919 + gen * 131 + r + 1 });
      const scheduler = new EngineScheduler({
        fpmMetrics: this.opts.onForwardPass !== undefined,
        ...this.opts.scheduler,
      });
      const engine = new SimEngine(worker, r, scheduler, cost);
      const plan = () => engine.plan;
      engine.onIterationEnd = () => {
        const p = plan();
        if (p) this.finishIteration(engine, p, engine.inFlightWallS);
      };
      worker.engines.push(engine);
    }
    this.workers.push(worker);
    this.opts.onWorkerEvent?.({ kind: "starting", workerId: worker.workerId, slot, atS: this.clock.nowS });
    const ready = () => {
      if (worker.stopped) return;
      worker.ready = true;
      for (const e of worker.engines) e.lastEmitS = this.clock.nowS;
      this.opts.onWorkerEvent?.({ kind: "ready", workerId: worker.workerId, slot, atS: this.clock.nowS });
    };
    if (delayS > 0) this.clock.at(this.clock.nowS + delayS, ready);
    else ready();
  }

  private removeNewestWorker(): void {
    let newest = this.workers[0];
    for (const w of this.workers) if (w.generation > newest.generation) newest = w;
    this.workers.splice(this.workers.indexOf(newest), 1);
    const busy = newest.engines.some((e) => e.busy || e.scheduler.hasWork());
    if (this.opts.scaleDown === "drain" && newest.ready && busy) {
      newest.ready = false;
      newest.draining = true;
      this.drainingWorkers.push(newest);
      this.opts.onWorkerEvent?.({
        kind: "draining",
        workerId: newest.workerId,
        slot: newest.slot,
        atS: this.clock.nowS,
      });
      return;
    }
    newest.stopped = true;
    newest.ready = false;
    // Its requests start over elsewhere, as clients retrying against the remaining workers.
    for (const e of newest.engines) {
      for (const r of e.scheduler.drain()) {
        this.totals.rerouted++;
        const again = new SimRequest(this.requestIds++, r.arrivalS, r.promptTokens, r.outputTokens, r.cachedTokens);
        again.restarts = r.restarts + 1;
        this.route(again);
      }
    }
    this.opts.onWorkerEvent?.({ kind: "stopped", workerId: newest.workerId, slot: newest.slot, atS: this.clock.nowS });
  }

  /** Stops a draining worker once none of its engines has work left. */
  private finishDrainIfEmpty(worker: SimWorker): void {
    if (worker.engines.some((e) => e.busy || e.scheduler.hasWork())) return;
    worker.draining = false;
    worker.stopped = true;
    this.drainingWorkers.splice(this.drainingWorkers.indexOf(worker), 1);
    this.opts.onWorkerEvent?.({ kind: "stopped", workerId: worker.workerId, slot: worker.slot, atS: this.clock.nowS });
  }

  private route(req: SimRequest): void {
    let best: SimEngine | null = null;
    let bestLoad = Infinity;
    const all: SimEngine[] = [];
    for (const w of this.workers) if (w.ready) for (const e of w.engines) all.push(e);
    // Least outstanding requests; ties rotate so equal engines share the load.
    for (let k = 0; k < all.length; k++) {
      const e = all[(this.rr + k) % all.length];
      const load = e.scheduler.outstanding();
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    this.rr++;
    if (best?.scheduler.enqueue(req) !== "queued") {
      this.totals.rejected++;
      return;
    }
    this.totals.routed++;
    this.kick(best);
  }

  private kick(engine: SimEngine): void {
    if (engine.busy || !engine.scheduler.hasWork() || engine.worker.stopped) return;
    const plan = engine.scheduler.schedule();
    if (plan.requests.length === 0) {
      engine.scheduler.complete(plan);
      return;
    }
    engine.busy = true;
    engine.plan = plan;
    const s = plan.scheduled;
    const wall = engine.cost.wallTime(s.sumPrefillTokens, s.sumDecodeKvTokens, s.numDecodeRequests);
    engine.inFlightWallS = wall;
    this.clock.at(this.clock.nowS + wall, engine.onIterationEnd);
  }

  private finishIteration(engine: SimEngine, plan: IterationPlan, wallTimeS: number): void {
    if (engine.worker.stopped) return; // the worker was removed mid-iteration
    engine.busy = false;
    engine.plan = null;
    const outcome = engine.scheduler.complete(plan);
    const now = this.clock.nowS;
    for (const r of outcome.firstTokens) {
      if (r.preemptions > 0 && !Number.isNaN(r.firstTokenAtS)) continue;
      r.firstTokenAtS = now;
      if (this.ttft.length >= TTFT_WINDOW) this.ttft.shift();
      this.ttft.push(now - r.arrivalS);
    }
    this.totals.finished += outcome.finished.length;
    const done = this.opts.onRequestFinished;
    if (done)
      for (const r of outcome.finished)
        done({
          arrivalS: r.arrivalS,
          firstTokenS: r.firstTokenAtS,
          finishS: now,
          inputTokens: r.promptTokens,
          outputTokens: r.outputTokens,
          restarts: r.restarts,
          preemptions: r.preemptions,
          workerId: engine.worker.workerId,
        });
    this.totals.preemptions += plan.preempted;
    this.totals.forwardPasses++;
    engine.lastWallTimeS = wallTimeS;
    this.emit(engine, wallTimeS, plan.scheduled, plan.queued);
    this.kick(engine);
    if (engine.worker.draining) this.finishDrainIfEmpty(engine.worker);
  }

  private emit(
    engine: SimEngine,
    wallTimeS: number,
    scheduled: ForwardPassMetrics["scheduledRequests"],
    queued: ForwardPassMetrics["queuedRequests"],
  ): void {
    engine.lastEmitS = this.clock.nowS;
    const publish = this.opts.onForwardPass;
    if (!publish) {
      engine.counter++;
      return;
    }
    const fpm: ForwardPassMetrics = {
      version: FPM_VERSION,
      workerId: engine.worker.workerId,
      dpRank: engine.dpRank,
      counterId: engine.counter++,
      wallTimeS,
      scheduledRequests: scheduled,
      queuedRequests: queued,
    };
    publish({
      workerId: engine.worker.workerId,
      dpRank: engine.dpRank,
      slot: engine.worker.slot,
      atS: this.clock.nowS,
      fpm,
    });
  }

  private emitHeartbeats(everyS: number): void {
    for (const w of this.workers) {
      if (!w.ready) continue;
      for (const e of w.engines) {
        if (e.busy || this.clock.nowS - e.lastEmitS < everyS - 1e-9) continue;
        this.totals.heartbeats++;
        this.emit(e, 0, emptyScheduled(), emptyQueued());
      }
    }
  }
}
