/**
 * Wraps payloads in Dynamo's event envelope (WIRE.md section 4), one publisher identity
 * per dp_rank, and publishes them on NATS; while NATS is unavailable, holds them in the
 * bounded `OutageBuffer` and publishes them in order once it is back.
 */
import crypto from "node:crypto";
import { performance } from "node:perf_hooks";
import type { EventPlaneConnection } from "../eventplane/connection.js";
import type { RelayMetrics, RelayRankCounters } from "../metrics/relay-metrics.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { Logger } from "../util/log.js";
import { RankEnvelopeWriter } from "./envelope-writer.js";
import { type BufferedEnvelope, OutageBuffer } from "./outage-buffer.js";

/**
 * Envelopes per NATS write at most; a longer burst is written in several batches. Small
 * enough that the first envelope of a burst waits for only a few others.
 */
const MAX_BATCH = 64;

/** A random publisher id in 0..2^53-1, as newer Dynamo runtimes draw them (JSON-safe). */
export function randomPublisherId(): bigint {
  return crypto.randomBytes(8).readBigUInt64BE() & ((1n << 53n) - 1n);
}

/** The envelope identity of one dp_rank: its `publisher_id` and next `sequence`. */
export class RankEnvelopeSource {
  /** Sequence of the next envelope; starts at 0, +1 per envelope made. */
  nextSequence = 0;
  private readonly writer: RankEnvelopeWriter;

  constructor(
    readonly dpRank: number,
    readonly publisherId: bigint,
    readonly counters: RelayRankCounters,
  ) {
    this.writer = new RankEnvelopeWriter(publisherId, FPM_TOPIC);
  }

  /** The envelope bytes for `payload` (copied in unchanged, never re-encoded). */
  envelope(payload: Uint8Array): Uint8Array {
    return this.writer.write(this.nextSequence++, Date.now(), payload);
  }
}

export interface EnvelopePublisherOptions {
  connection: EventPlaneConnection;
  /** The NATS subject (see `fpmSubject`). */
  subject: string;
  /** Bound of the outage buffer in envelope bytes. */
  maxBufferedBytes: number;
  metrics: RelayMetrics;
  logger: Logger;
}

export class EnvelopePublisher {
  private readonly buffer: OutageBuffer;
  private readonly conn: EventPlaneConnection;
  private readonly subject: string;
  private readonly metrics: RelayMetrics;
  private readonly logger: Logger;
  private readonly ranks = new Map<number, RankEnvelopeSource>();
  private batch: BufferedEnvelope[] = [];
  private readonly evict = (e: BufferedEnvelope) => {
    this.rankOf(e.dpRank).counters.dropped.nats_unavailable++;
    this.logger.limited(
      "nats-unavailable",
      "warn",
      "NATS unavailable and the outage buffer is full: dropping the oldest envelopes",
      {
        maxBufferedBytes: this.buffer.maxBytes,
      },
    );
  };
  private readonly unsubscribe: () => void;

  constructor(opts: EnvelopePublisherOptions) {
    this.conn = opts.connection;
    this.subject = opts.subject;
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.buffer = new OutageBuffer(opts.maxBufferedBytes);
    this.metrics.natsConnected = this.conn.connected ? 1 : 0;
    this.unsubscribe = this.conn.onStatus((e) => {
      this.metrics.natsConnected = e.state === "connected" ? 1 : 0;
      this.metrics.natsReconnects = this.conn.reconnects;
      if (e.state === "connected") this.drain();
    });
  }

  addRank(source: RankEnvelopeSource): void {
    this.ranks.set(source.dpRank, source);
  }

  private rankOf(dpRank: number): RankEnvelopeSource {
    return this.ranks.get(dpRank)!;
  }

  /** Envelope bytes held while NATS is unavailable. */
  get bufferedBytes(): number {
    return this.buffer.bytes;
  }

  /**
   * Wraps and publishes one payload (or holds it while NATS is unavailable). Never throws.
   * Envelopes received in one burst go out in one batch: the NATS client writes to its
   * socket once per batch instead of once per message, which is most of a message's cost.
   */
  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void {
    const bytes = source.envelope(payload);
    if (this.batch.length > 0 || (this.buffer.length === 0 && this.conn.writable)) {
      this.batch.push({ dpRank: source.dpRank, bytes, receivedAt });
      // The relay flushes when ZMQ runs dry; the timer only guards against a batch left behind.
      if (this.batch.length === 1) setImmediate(this.flushBatch);
      else if (this.batch.length >= MAX_BATCH) this.flushBatch();
      return;
    }
    this.hold({ dpRank: source.dpRank, bytes, receivedAt });
  }

  private hold(e: BufferedEnvelope): void {
    this.buffer.push(e, this.evict);
    this.metrics.bufferedBytes = this.buffer.bytes;
    this.metrics.bufferedMessages = this.buffer.length;
    if (this.conn.writable) this.drain();
  }

  /** Publishes the current batch in order; what NATS cannot take now goes to the outage buffer. */
  readonly flushBatch = (): void => {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    for (const e of batch) {
      if (this.buffer.length === 0 && this.conn.writable) this.send(e.dpRank, e.bytes, e.receivedAt);
      else this.hold(e);
    }
  };

  private send(dpRank: number, bytes: Uint8Array, receivedAt: number): boolean {
    const counters = this.rankOf(dpRank).counters;
    try {
      this.conn.nc.publish(this.subject, bytes);
    } catch (err) {
      counters.dropped.publish_error++;
      this.logger.limited("publish-error", "warn", "NATS refused an envelope", {
        dpRank,
        bytes: bytes.length,
        error: (err as Error).message,
      });
      return false;
    }
    counters.forwarded++;
    this.metrics.observeLatencySeconds((performance.now() - receivedAt) / 1000);
    return true;
  }

  /** Publishes what the outage buffer holds, oldest first, while NATS stays writable. */
  drain(): void {
    const held = this.buffer.length;
    while (this.buffer.length > 0 && this.conn.writable) {
      const e = this.buffer.shift()!;
      this.send(e.dpRank, e.bytes, e.receivedAt);
    }
    this.metrics.bufferedBytes = this.buffer.bytes;
    this.metrics.bufferedMessages = this.buffer.length;
    if (held > 0 && this.buffer.length === 0)
      this.logger.info("published the envelopes held during the NATS outage", { envelopes: held });
  }

  /** Counts whatever is still held as `nats_unavailable` (called at shutdown, after `flushBatch` and `drain`). */
  abandon(): number {
    const left = this.buffer.clear();
    for (const e of left) this.rankOf(e.dpRank).counters.dropped.nats_unavailable++;
    this.metrics.bufferedBytes = 0;
    this.metrics.bufferedMessages = 0;
    if (left.length > 0)
      this.logger.warn("stopping with NATS unavailable: envelopes not published", { envelopes: left.length });
    return left.length;
  }

  close(): void {
    this.unsubscribe();
  }
}
