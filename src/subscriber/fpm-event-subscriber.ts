/**
 * `FpmEventSubscriber`: turns the FPM stream on the event plane into trustworthy per-engine
 * state. It reads the FPM of a namespace (one or more components, or all), over NATS (the
 * subjects of both scopes) or ZMQ (an `EnvelopeSource` that follows discovery), checks each
 * envelope and decodes its payload, and drops with a counted reason what is malformed,
 * duplicated or older than what it has. FPM with `worker_id` `""` (vLLM before Dynamo sets
 * the id) is tracked and counted as unattributed; it belongs to no worker.
 *
 * Two ways to read, usable together: `recv` (an async iterator over accepted messages,
 * bounded, overflow counted) and tracking (the latest FPM per engine, `snapshot()`).
 * Beyond the reference subscriber: de-duplication by `counter_id` and by
 * `(publisher_id, sequence)`, loss counted from sequence gaps, expiry of engines silent
 * for `staleAfterMs`, `removeWorker()` for an external discovery source, and bounds on
 * the engines and publishers tracked. Hostile input costs no more than itself
 * (docs/design/hostile-input.md): a forged or corrupted `sequence` or `counter_id` is
 * judged by the message after it (`SequenceFollower`), and new engines and publishers stay
 * on probation, so a flood of strangers cannot push out the ones that keep reporting.
 *
 * ```ts
 * const sub = new FpmEventSubscriber({ connection: nc, namespace: "dynamo", recv: true });
 * sub.start();
 * for await (const m of sub) console.log(m.fpm.workerId, m.fpm.wallTimeS);
 * ```
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { type EventEnvelopeView, decodeEnvelopeView } from "../codec/envelope.js";
import { decodeFpm } from "../codec/fpm-decode.js";
import type { EnvelopeSink, EnvelopeSource, FrameIds } from "../eventplane/plane.js";
import { componentOfSubject, fpmSubscriptionSubjects } from "../eventplane/subject.js";
import { FPM_TOPIC, type ForwardPassMetrics, cloneFpm, copyFpmInto } from "../schema/forward-pass-metrics.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import {
  emptyResetCounts,
  SEQUENCE_MAX_JUMP,
  SequenceFollower,
  type SequenceResetReason,
} from "../util/sequence-follower.js";
import { BoundedQueue } from "./bounded-queue.js";
import { type ComponentEngines, type EngineEntry, EngineTable } from "./engine-table.js";
import { defaultForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { SUBSCRIBER_DROP_REASONS, type SubscriberDropReason } from "./drop-reasons.js";
import { type PublisherKey, PublisherTable } from "./publisher-table.js";
import type { EngineEvent, TrackedEngine } from "./tracked-engine.js";

/** One accepted message, as `recv` yields it. */
export interface FpmMessage {
  subject: string;
  /** Component from the subject (percent-decoded). */
  component: string;
  publisherId: bigint;
  sequence: bigint;
  publishedAtMs: bigint;
  fpm: ForwardPassMetrics;
}

/** An engine silent this long (ms) is expired, by default. */
export const DEFAULT_STALE_AFTER_MS = 5000;
/** Engines tracked at most, by default. */
export const DEFAULT_MAX_ENGINES = 10_000;
/** Capacity of the `recv` queue, by default. */
export const DEFAULT_RECV_QUEUE_SIZE = 10_000;

export interface FpmEventSubscriberOptions {
  /** A connected NATS client (for example `EventPlaneConnection.nc`). `start()` needs it or `source`; `ingest()` works without. */
  connection?: NatsConnection;
  /** The event plane to read instead of NATS subscriptions on `connection` (for example a `ZmqEnvelopeSource`). */
  source?: EnvelopeSource;
  /** Namespace. Default: env DYN_NAMESPACE, else `dynamo`. */
  namespace?: string;
  /** Components to follow; empty or absent: every component (wildcard). */
  components?: string[];
  /** Exact subjects to subscribe instead of the ones derived from namespace and components. */
  subjects?: string[];
  /** Turn on the `recv` iterator. Default false (tracking only). */
  recv?: boolean;
  /** Capacity of the `recv` queue; the oldest is dropped and counted beyond it. Default DEFAULT_RECV_QUEUE_SIZE (10,000). */
  recvQueueSize?: number;
  /** An engine silent this long (ms) is expired and reported; 0 never expires. Default DEFAULT_STALE_AFTER_MS (5000). */
  staleAfterMs?: number;
  /** How often expiry is checked (ms). Default min(1000, staleAfterMs / 2). */
  expiryCheckIntervalMs?: number;
  /**
   * Engines tracked at most. When full, a new engine takes the place of one still on
   * probation (fewest messages, then oldest; counted `evicted`); when every engine has left
   * probation, the new one is refused (`engine_limit`). Default DEFAULT_MAX_ENGINES (10,000).
   */
  maxEngines?: number;
  /**
   * Publishers (relays) whose sequence is followed at most; beyond it one on probation, else
   * the one followed longest, is forgotten. Default 2 x maxEngines.
   */
  maxPublishers?: number;
  /** Called synchronously for every accepted message. */
  onMessage?: (m: FpmMessage) => void;
  /** Like `onMessage` but with only the component and the FPM, allocation-free (the planner's default-mode feed). */
  onAccepted?: (component: string, fpm: ForwardPassMetrics) => void;
  /** Default: a `subscriber` logger from DYN_LOG. */
  logger?: Logger;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** Environment for DYN_NAMESPACE. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface FpmEventSubscriberStats {
  /** NATS messages handed to the subscriber. */
  received: number;
  accepted: number;
  dropped: Record<SubscriberDropReason, number>;
  /** Messages missing from sequence gaps of a publisher (a gap counts once the envelope after it confirms it). */
  lost: number;
  /** Accepted messages whose `worker_id` is `""` (no worker yet). */
  unattributed: number;
  /** Breaks of a publisher's envelope `sequence` that were neither a gap nor in order, by reason. */
  sequenceResets: Record<SequenceResetReason, number>;
  /** Breaks of an engine's `counter_id` that were neither a gap nor an engine restart, by reason. */
  counterResets: Record<SequenceResetReason, number>;
  /** `recv` items dropped because the queue was full. */
  recvOverflow: number;
  /** Engines tracked now. */
  engines: number;
  expired: number;
  removed: number;
  /** Engines on probation evicted to make room for a new engine. */
  evicted: number;
  restarts: number;
  /** Publishers followed now, and those forgotten to make room for new ones. */
  publishers: number;
  publishersEvicted: number;
}

export class FpmEventSubscriber implements AsyncIterable<FpmMessage> {
  readonly subjects: string[];
  readonly staleAfterMs: number;
  readonly maxEngines: number;
  private readonly maxPublishers: number;
  private readonly nc?: NatsConnection;
  private readonly queue: BoundedQueue<FpmMessage> | null;
  private readonly engines = new EngineTable();
  private readonly publishers: PublisherTable;
  private readonly componentBySubject = new Map<string, ComponentEngines>();
  private lastSubject = "";
  /** The fast path decodes into this one object; accepted values are then copied where they live. */
  private readonly scratch: ForwardPassMetrics = defaultForwardPassMetrics();
  private readonly envelopeScratch: EventEnvelopeView = {
    publisherId: 0,
    sequence: 0,
    publishedAtMs: 0,
    topic: "",
    payload: new Uint8Array(0),
  };
  private lastComponent: ComponentEngines | null = null;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly subs: Subscription[] = [];
  private readonly onMessage?: (m: FpmMessage) => void;
  private readonly onAccepted?: (component: string, fpm: ForwardPassMetrics) => void;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly expiryEveryMs: number;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly counts = {
    received: 0,
    accepted: 0,
    lost: 0,
    unattributed: 0,
    expired: 0,
    removed: 0,
    evicted: 0,
    restarts: 0,
  };
  private readonly sequenceResets = emptyResetCounts();
  private readonly counterResets = emptyResetCounts();
  private readonly source?: EnvelopeSource;
  private sourceReady: Promise<void> = Promise.resolve();
  private readonly sink: EnvelopeSink = {
    envelope: (subject, data, ids) => {
      this.ingest(subject, data, ids);
    },
    dropped: (reason, detail) => {
      this.counts.received++;
      this.drop(reason, "", detail);
    },
  };
  private readonly drops = Object.fromEntries(SUBSCRIBER_DROP_REASONS.map((r) => [r, 0])) as Record<
    SubscriberDropReason,
    number
  >;

  constructor(opts: FpmEventSubscriberOptions = {}) {
    this.nc = opts.connection;
    this.source = opts.source;
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.maxEngines = opts.maxEngines ?? DEFAULT_MAX_ENGINES;
    this.maxPublishers = opts.maxPublishers ?? 2 * this.maxEngines;
    this.publishers = new PublisherTable(this.maxPublishers);
    const queueSize = opts.recvQueueSize ?? DEFAULT_RECV_QUEUE_SIZE;
    for (const [name, v] of [
      ["staleAfterMs", this.staleAfterMs],
      ["maxEngines", this.maxEngines],
      ["recvQueueSize", queueSize],
    ] as const) {
      if (!Number.isFinite(v) || v < 0 || (name !== "staleAfterMs" && v < 1))
        throw new ConfigError(
          `FpmEventSubscriber ${name} must be ${name === "staleAfterMs" ? ">= 0" : ">= 1"}, got ${v}`,
        );
    }
    this.queue = opts.recv ? new BoundedQueue<FpmMessage>(queueSize) : null;
    this.onMessage = opts.onMessage;
    this.onAccepted = opts.onAccepted;
    this.logger = opts.logger ?? new Logger({ target: "fpm.subscriber" });
    this.now = opts.now ?? Date.now;
    this.expiryEveryMs = opts.expiryCheckIntervalMs ?? Math.max(10, Math.min(1000, this.staleAfterMs / 2));
    const comps = (opts.components ?? []).filter((c) => c !== "" && c !== "*");
    this.subjects =
      opts.subjects ??
      (comps.length === 0
        ? fpmSubscriptionSubjects({ namespace: opts.namespace }, opts.env)
        : comps.flatMap((component) => fpmSubscriptionSubjects({ namespace: opts.namespace, component }, opts.env)));
  }

  /** Subscribes (NATS, or starts the `source`) and starts the expiry timer; `ready()` resolves once listening. */
  start(): this {
    if (this.source) {
      this.sourceReady = this.source.start(this.sink);
      // Reported through ready(); without this a caller that never asks would crash the process.
      this.sourceReady.catch((err) =>
        this.logger.error("the event plane could not start", { error: (err as Error).message }),
      );
      this.startExpiry();
      return this;
    }
    if (!this.nc) throw new ConfigError("FpmEventSubscriber.start() needs options.connection or options.source");
    for (const subject of this.subjects) {
      this.subs.push(
        this.nc.subscribe(subject, {
          callback: (_err, msg) => {
            if (msg) this.ingest(msg.subject, msg.data);
          },
        }),
      );
    }
    this.startExpiry();
    return this;
  }

  /** Resolves once the source listens (rejects when it could not start, for example discovery unreachable). */
  ready(): Promise<void> {
    return this.sourceReady;
  }

  /** Starts only the expiry timer (when messages come through `ingest`). */
  startExpiry(): void {
    if (this.staleAfterMs > 0 && !this.expiryTimer) {
      this.expiryTimer = setInterval(() => this.expireStale(), this.expiryEveryMs);
      this.expiryTimer.unref();
    }
  }

  /** Unsubscribes, stops the timer and ends `recv`. Tracked state stays readable. */
  async stop(): Promise<void> {
    await this.source?.stop();
    for (const s of this.subs.splice(0)) {
      try {
        s.unsubscribe();
      } catch {
        /* connection already closed */
      }
    }
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    this.queue?.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<FpmMessage> {
    if (!this.queue) throw new ConfigError("recv is off: construct FpmEventSubscriber with { recv: true }");
    return this.queue[Symbol.asyncIterator]();
  }

  /** Listens to engine lifecycle events; returns a function that removes the listener. */
  onEngineEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Handles one envelope (what the plane's callback calls; tests and benchmarks may call it
   * directly). `ids`: the ZMQ id and sequence frames, which must match the envelope. Never
   * throws; returns the drop reason or null when accepted.
   */
  ingest(subject: string, data: Uint8Array, ids?: FrameIds): SubscriberDropReason | null {
    this.counts.received++;
    const env = decodeEnvelopeView(data, this.envelopeScratch);
    if (!env.ok) return this.drop(env.reason === "decode" ? "envelope_decode" : "envelope_schema", subject, env.detail);
    const v = env.value;
    if (ids && (v.publisherId !== ids.publisherId || v.sequence !== ids.sequence))
      return this.drop(
        "frame_id_mismatch",
        subject,
        `frames say publisher ${ids.publisherId} sequence ${ids.sequence}, the envelope ${v.publisherId} ${v.sequence}`,
      );
    if (v.topic !== FPM_TOPIC)
      return this.drop("wrong_topic", subject, `topic ${JSON.stringify(v.topic.slice(0, 64))}`);
    const pubKey: PublisherKey = v.publisherId;
    // A number: 2^53 envelopes never happen, and a forged larger one is only a break.
    const seq = Number(v.sequence);
    const publishedAt = v.publishedAtMs;
    const payloadBytes = v.payload;
    const now = this.now();
    // Per publisher: the envelope sequence must advance; gaps are lost messages.
    let pub = this.publishers.get(pubKey);
    if (pub !== undefined) {
      const f = pub.sequences;
      const step = f.observe(seq, SEQUENCE_MAX_JUMP);
      // At or below the last one: a copy (a relay publishes again what NATS did not confirm).
      if (step === "repeat" || step === "behind")
        return this.drop("duplicate", subject, `publisher ${pubKey} sequence ${seq} at or below ${f.last}`);
      // The envelope arrived in sequence: whatever happens to its payload, it was not lost.
      if (f.settled === "gap") this.counts.lost += f.settledLost;
      else if (f.settled !== "none") this.sequenceResets[f.settled]++;
      this.publishers.seen(pub, now);
    } else {
      pub = this.publishers.add(pubKey, now);
      pub.sequences.observe(seq, SEQUENCE_MAX_JUMP);
    }
    // Decoded into one reused object; it is copied only once the message is accepted.
    const payload = decodeFpm(payloadBytes, this.scratch);
    if (!payload.ok) return this.drop(`payload_${payload.reason}`, subject, payload.detail);
    let fpm = payload.value;
    const comp = this.componentOf(subject);
    const t = comp.workers.get(fpm.workerId)?.get(fpm.dpRank);
    if (t !== undefined) {
      const f = t.counterIds;
      const counterId = fpm.counterId;
      // 0 is "unstamped" (older engines): never a duplicate; after stamped values, a restart.
      if (counterId !== 0 || f.last > 0) {
        // Through the same relay a lower counter_id is a restart; through another, an older copy.
        const step = f.observe(counterId, t.publisherId === pubKey ? 0 : SEQUENCE_MAX_JUMP);
        if (step === "repeat")
          return this.drop("duplicate", subject, `engine ${fpm.workerId}/${fpm.dpRank} counter_id ${counterId} again`);
        if (step === "behind")
          return this.drop(
            "out_of_order",
            subject,
            `engine ${fpm.workerId}/${fpm.dpRank} counter_id ${counterId} after ${f.last}`,
          );
        if (f.settled !== "none") this.counterSettled(t, f);
      }
      // Without recv consumers nobody else holds the engine's FPM object: update it in place.
      if (this.queue || this.onMessage) t.fpm = cloneFpm(fpm);
      else copyFpmInto(fpm, t.fpm);
      fpm = t.fpm;
      t.lastSeenMs = now;
      t.publisherId = pubKey;
      t.sequence = seq;
      t.messages++;
      this.engines.seen(t);
    } else {
      if (this.engines.size >= this.maxEngines && !this.makeRoom(subject))
        return this.drop("engine_limit", subject, `${this.maxEngines} engines tracked, none on probation`);
      fpm = cloneFpm(fpm);
      const counterIds = new SequenceFollower();
      counterIds.observe(fpm.counterId, 0);
      this.engines.add(comp, {
        component: comp.component,
        workerId: fpm.workerId,
        dpRank: fpm.dpRank,
        fpm,
        lastSeenMs: now,
        publisherId: pubKey,
        sequence: seq,
        messages: 1,
        restarts: 0,
        counterIds,
      });
      this.emit({ type: "added", component: comp.component, workerId: fpm.workerId, dpRank: fpm.dpRank });
    }
    this.counts.accepted++;
    if (fpm.workerId === "") this.counts.unattributed++;
    this.onAccepted?.(comp.component, fpm);
    if (this.queue || this.onMessage) {
      const m: FpmMessage = {
        subject,
        component: comp.component,
        publisherId: BigInt(pubKey),
        sequence: BigInt(seq),
        publishedAtMs: BigInt(publishedAt),
        fpm,
      };
      this.queue?.push(m);
      this.onMessage?.(m);
    }
    return null;
  }

  /** What a settled break of an engine's counter_id was: a restart (a new epoch near 0) or a reset. */
  private counterSettled(t: EngineEntry, f: SequenceFollower): void {
    if (f.settled === "gap") return;
    if (f.settled === "back" && f.settledAt <= SEQUENCE_MAX_JUMP) {
      t.restarts++;
      this.counts.restarts++;
      this.emit({ type: "restarted", component: t.component, workerId: t.workerId, dpRank: t.dpRank });
      return;
    }
    this.counterResets[f.settled as SequenceResetReason]++;
  }

  /** Evicts an engine on probation for a newcomer; false when every engine has left probation. */
  private makeRoom(subject: string): boolean {
    const t = this.engines.evictForNewcomer();
    if (!t) return false;
    this.counts.evicted++;
    this.logger.limited("engine-evicted", "warn", "engine table full: evicted an engine on probation", {
      subject,
      worker_id: t.workerId.slice(0, 64),
      dp_rank: t.dpRank,
      messages: t.messages,
      max_engines: this.maxEngines,
    });
    this.emit({ type: "evicted", component: t.component, workerId: t.workerId, dpRank: t.dpRank });
    return true;
  }

  /** True when the engine has sent enough messages to leave probation. */
  established(t: TrackedEngine): boolean {
    return this.engines.promoted(t);
  }

  /**
   * Latest FPM of every tracked engine (optionally of one component). The entries are live:
   * they (and, without recv consumers, their `fpm` objects) are updated in place as messages
   * arrive, so copy what must stay fixed.
   */
  snapshot(component?: string): TrackedEngine[] {
    return this.engines.list(component);
  }

  /** Tracked engine of `(component, workerId, dpRank)`, if any. */
  get(component: string, workerId: string, dpRank: number): TrackedEngine | undefined {
    return this.engines.get(component, workerId, dpRank);
  }

  /** Forgets every rank of a worker (discovery says it is gone); returns how many engines were removed. */
  removeWorker(workerId: string, component?: string): number {
    let n = 0;
    for (const t of this.engines.list(component)) {
      if (t.workerId === workerId) {
        this.engines.delete(t);
        n++;
        this.counts.removed++;
        this.emit({ type: "removed", component: t.component, workerId: t.workerId, dpRank: t.dpRank });
      }
    }
    return n;
  }

  /** Expires engines (and forgets publishers) silent longer than `staleAfterMs`; returns how many engines. Called by the timer. */
  expireStale(nowMs = this.now()): number {
    if (this.staleAfterMs <= 0) return 0;
    this.publishers.expire(nowMs, this.staleAfterMs);
    let n = 0;
    for (const t of this.engines.list()) {
      if (nowMs - t.lastSeenMs > this.staleAfterMs) {
        this.engines.delete(t);
        n++;
        this.counts.expired++;
        this.logger.info("engine expired (silent)", {
          component: t.component,
          worker_id: t.workerId,
          dp_rank: t.dpRank,
          silent_ms: nowMs - t.lastSeenMs,
        });
        this.emit({ type: "expired", component: t.component, workerId: t.workerId, dpRank: t.dpRank });
      }
    }
    return n;
  }

  stats(): FpmEventSubscriberStats {
    return {
      ...this.counts,
      dropped: { ...this.drops },
      sequenceResets: { ...this.sequenceResets },
      counterResets: { ...this.counterResets },
      recvOverflow: this.queue?.overflowed ?? 0,
      engines: this.engines.size,
      publishers: this.publishers.size,
      publishersEvicted: this.publishers.evicted,
    };
  }

  private componentOf(subject: string): ComponentEngines {
    // Most messages come on the subject of the one before: compare before hashing.
    if (subject === this.lastSubject && this.lastComponent) return this.lastComponent;
    let c = this.componentBySubject.get(subject);
    if (c === undefined) {
      c = this.engines.component(componentOfSubject(subject));
      if (this.componentBySubject.size >= 4096) this.componentBySubject.clear();
      this.componentBySubject.set(subject, c);
    }
    this.lastSubject = subject;
    this.lastComponent = c;
    return c;
  }

  private drop(reason: SubscriberDropReason, subject: string, detail: string): SubscriberDropReason {
    this.drops[reason]++;
    this.logger.limited(
      `drop-${reason}`,
      reason === "duplicate" || reason === "out_of_order" ? "debug" : "warn",
      "FPM message dropped",
      { reason, subject, detail },
    );
    return reason;
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.limited("engine-event-listener", "error", "engine event listener failed", { error: String(err) });
      }
    }
  }
}
