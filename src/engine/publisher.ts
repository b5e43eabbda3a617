/**
 * `FpmPublisher`: the TypeScript twin of an engine's FPM publisher thread, one per dp_rank.
 * It binds a ZMQ PUB socket, stamps each payload with the next seq (also its `counter_id`),
 * sends the three frames of docs/design/wire-format.md section 3, and sends an idle heartbeat when nothing
 * was published for the heartbeat interval.
 *
 * ```ts
 * const pub = new FpmPublisher({ endpoint: "tcp://127.0.0.1:20380", workerId: "w1", dpRank: 0 });
 * await pub.bind();
 * pub.publish({ wallTimeS: 0.012, scheduledRequests: { ...emptyScheduled(), numDecodeRequests: 8 } });
 * await pub.close();
 * ```
 */
import * as zmq from "zeromq";
import { encodeFpm } from "../codec/fpm-encode.js";
import {
  defaultForwardPassMetrics,
  emptyQueued,
  emptyScheduled,
  type ForwardPassMetrics,
} from "../schema/forward-pass-metrics.js";
import { ConfigError } from "../util/errors.js";
import { checkZmqEndpoint } from "./endpoints.js";
import { EMPTY_TOPIC, encodeSeqFrame } from "./frames.js";
import { heartbeatIntervalMs } from "./heartbeat-interval.js";

/** Messages waiting to be handed to ZMQ at most, by default. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 10_000;
/** ZMQ send high-water mark (messages per subscriber), by default. */
export const DEFAULT_SEND_HIGH_WATER_MARK = 10_000;
/** How long `bind()` retries a port still held by a socket that is closing. */
const BIND_RETRY_MS = 1000;

export interface FpmPublisherOptions {
  /** Where to bind: `tcp://127.0.0.1:{port}` (vLLM style) or `ipc://{path}.{rank}` (SGLang style). Required. */
  endpoint: string;
  /** Stamped into every payload's `worker_id`. Default `""`. */
  workerId?: string;
  /** Stamped into every payload's `dp_rank`. Default 0. */
  dpRank?: number;
  /** Messages waiting to be handed to ZMQ; beyond it `publish` drops and counts. Default DEFAULT_MAX_QUEUED_MESSAGES (10,000). */
  maxQueuedMessages?: number;
  /** Idle heartbeat interval. Default: env DYN_FPM_HEARTBEAT_INTERVAL_MS, else 1000 (valid 1..300000). */
  heartbeatIntervalMs?: number;
  /** Send idle heartbeats at all. Default true. */
  heartbeats?: boolean;
  /** ZMQ send high-water mark (messages per subscriber). Default DEFAULT_SEND_HIGH_WATER_MARK (10,000). */
  sendHighWaterMark?: number;
  /** Environment to read DYN_FPM_HEARTBEAT_INTERVAL_MS from. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What a publisher has done since it was created. */
export interface FpmPublisherStats {
  /** Messages handed to ZMQ (heartbeats included). */
  sent: number;
  /** Idle heartbeats among `sent`. */
  heartbeats: number;
  /** Messages dropped because the send queue was full (each leaves a seq gap, as in the engines). */
  dropped: number;
  /** Messages waiting in the send queue. */
  queued: number;
  /** The seq the next message gets. */
  nextSeq: number;
}

/** Fields a caller may set; the publisher fills `version`, `workerId`, `dpRank` and `counterId`. */
export type FpmFields = Partial<Omit<ForwardPassMetrics, "scheduledRequests" | "queuedRequests">> & {
  scheduledRequests?: Partial<ForwardPassMetrics["scheduledRequests"]>;
  queuedRequests?: Partial<ForwardPassMetrics["queuedRequests"]>;
};

interface QueuedMessage {
  seq: number;
  payload: Uint8Array;
}

export class FpmPublisher {
  readonly endpoint: string;
  readonly workerId: string;
  readonly dpRank: number;
  readonly heartbeatIntervalMs: number;
  private readonly maxQueued: number;
  private readonly socket: zmq.Publisher;
  private readonly queue: QueuedMessage[] = [];
  private queueHead = 0;
  private pumping = false;
  private nextSeq = 0;
  private lastActivityMs = Date.now();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counts = { sent: 0, heartbeats: 0, dropped: 0 };

  constructor(opts: FpmPublisherOptions) {
    checkZmqEndpoint(opts.endpoint, "FpmPublisher endpoint");
    this.endpoint = opts.endpoint;
    this.workerId = opts.workerId ?? "";
    this.dpRank = opts.dpRank ?? 0;
    this.maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 1)
      throw new ConfigError(`maxQueuedMessages must be a positive integer, got ${this.maxQueued}`);
    this.heartbeatIntervalMs = heartbeatIntervalMs(opts.heartbeatIntervalMs, opts.env);
    this.socket = new zmq.Publisher({
      sendHighWaterMark: opts.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK,
      linger: 500,
    });
    if (opts.heartbeats ?? true) this.startHeartbeats();
  }

  /** Binds the PUB socket; a bind failure (port in use, bad path) is a `ConfigError`. */
  async bind(): Promise<this> {
    // ZMQ releases a closed socket's port on its I/O thread, after close() has returned: a
    // port still "in use" is retried for a moment, so an engine restarted in the same process
    // (or right after its predecessor exited) can take its port back.
    const deadline = Date.now() + BIND_RETRY_MS;
    for (;;) {
      try {
        await this.socket.bind(this.endpoint);
        return this;
      } catch (err) {
        const inUse = (err as { code?: string }).code === "EADDRINUSE";
        if (!inUse || Date.now() >= deadline)
          throw new ConfigError(`cannot bind FPM publisher to ${this.endpoint}: ${(err as Error).message}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /**
   * Publishes one forward pass: missing fields take their defaults, `workerId`/`dpRank`
   * come from the options unless given, `counterId` is always the seq. Returns false when
   * the message was dropped (queue full or closed); the seq is consumed either way.
   */
  publish(fields: FpmFields = {}): boolean {
    const fpm: ForwardPassMetrics = {
      ...defaultForwardPassMetrics(),
      ...fields,
      workerId: fields.workerId ?? this.workerId,
      dpRank: fields.dpRank ?? this.dpRank,
      scheduledRequests: { ...emptyScheduled(), ...fields.scheduledRequests },
      queuedRequests: { ...emptyQueued(), ...fields.queuedRequests },
      counterId: this.nextSeq,
    };
    return this.enqueue(encodeFpm(fpm));
  }

  /**
   * Sends `payload` as it is, under the next seq: for tests and benchmarks that need
   * exact bytes (golden vectors, malformed payloads). No `counter_id` is stamped.
   */
  publishRaw(payload: Uint8Array): boolean {
    return this.enqueue(payload);
  }

  /** Sends an idle heartbeat now (`wall_time` 0.0, nothing scheduled or queued). */
  heartbeat(): boolean {
    const ok = this.publish({ wallTimeS: 0 });
    if (ok) this.counts.heartbeats++;
    return ok;
  }

  get stats(): FpmPublisherStats {
    return { ...this.counts, queued: this.queue.length - this.queueHead, nextSeq: this.nextSeq };
  }

  private enqueue(payload: Uint8Array): boolean {
    const seq = this.nextSeq++;
    this.lastActivityMs = Date.now();
    if (this.closed || this.queue.length - this.queueHead >= this.maxQueued) {
      this.counts.dropped++;
      return false;
    }
    this.queue.push({ seq, payload });
    if (!this.pumping) void this.pump();
    return true;
  }

  /** Hands queued messages to ZMQ in order; one send in flight at a time, as zeromq.js requires. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queueHead < this.queue.length) {
        const m = this.queue[this.queueHead];
        this.queue[this.queueHead++] = undefined as unknown as QueuedMessage;
        if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
          this.queue.splice(0, this.queueHead);
          this.queueHead = 0;
        }
        try {
          await this.socket.send([EMPTY_TOPIC, encodeSeqFrame(m.seq), m.payload]);
          this.counts.sent++;
        } catch {
          // A closed socket or a send error loses this message, like the engine's non-blocking send.
          this.counts.dropped++;
          if (this.socket.closed) break;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private startHeartbeats(): void {
    // Check at a fraction of the interval so an idle heartbeat is at most ~25% late.
    const tick = Math.max(1, Math.floor(this.heartbeatIntervalMs / 4));
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastActivityMs >= this.heartbeatIntervalMs) this.heartbeat();
    }, tick);
    this.heartbeatTimer.unref();
  }

  /** Waits (up to `timeoutMs`) for the queue to drain, then closes the socket. Safe to call twice. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.pumping || this.queueHead < this.queue.length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    this.counts.dropped += this.queue.length - this.queueHead;
    this.queue.length = 0;
    this.queueHead = 0;
    this.socket.close();
  }
}
