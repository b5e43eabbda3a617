/**
 * Wraps payloads in Dynamo's event envelope (docs/design/wire-format.md section 4.3), one publisher identity
 * per dp_rank, and publishes them through a `ConfirmedPublisher`: an envelope counts as
 * forwarded once the NATS server has confirmed it, and every one that leaves otherwise is
 * counted dropped under its reason on its dp_rank.
 */
import crypto from "node:crypto";
import { performance } from "node:perf_hooks";
import { ConfirmedPublisher } from "../eventplane/confirmed-publisher.js";
import type { EventPlaneConnection } from "../eventplane/connection.js";
import type { RelayMetrics, RelayNatsReadings, RelayRankCounters } from "./relay-metrics.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { Logger } from "../util/log.js";
import { RankEnvelopeWriter } from "./envelope-writer.js";

/** A random publisher id in 0..2^53-1, as newer Dynamo runtimes draw them (JSON-safe). */
export function randomPublisherId(): bigint {
  return crypto.randomBytes(8).readBigUInt64BE() & ((1n << 53n) - 1n);
}

/** The envelope identity of one dp_rank: its `publisher_id` and next `sequence`. */
export class RankEnvelopeSource {
  /** Sequence of the next envelope; starts at 0, +1 per envelope made. */
  nextSequence = 0;
  /** Its tag in the `EnvelopePublisher` (-1 until its first envelope). */
  tag = -1;
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
  /** Bound in envelope bytes on what the relay holds for NATS, confirmed or not. */
  maxBufferedBytes: number;
  /** A confirmation round-trip unanswered this long makes the relay unhealthy. */
  confirmTimeoutMs?: number;
  metrics: RelayMetrics;
  logger: Logger;
}

export class EnvelopePublisher implements RelayNatsReadings {
  private readonly nats: ConfirmedPublisher;
  /** Counters by tag: a message's tag is the index of its dp_rank's counters here. */
  private readonly counters: RelayRankCounters[] = [];
  private readonly conn: EventPlaneConnection;

  constructor(opts: EnvelopePublisherOptions) {
    const metrics = opts.metrics;
    const counters = this.counters;
    this.nats = new ConfirmedPublisher({
      connection: opts.connection,
      subject: opts.subject,
      maxBytes: opts.maxBufferedBytes,
      confirmTimeoutMs: opts.confirmTimeoutMs,
      logger: opts.logger,
      onConfirmed: (tag) => counters[tag].forwarded++,
      onDropped: (tag, reason) => counters[tag].dropped[reason]++,
      onHandedOver: (_tag, receivedAt) => metrics.observeLatencySeconds((performance.now() - receivedAt) / 1000),
    });
    this.conn = opts.connection;
    metrics.nats = this;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  get reconnects(): number {
    return this.conn.reconnects;
  }

  /** Envelope bytes held for NATS: waiting, or published and not yet confirmed. */
  get bufferedBytes(): number {
    return this.nats.bufferedBytes;
  }

  get bufferedMessages(): number {
    return this.nats.bufferedMessages;
  }

  get unconfirmedBytes(): number {
    return this.nats.unconfirmedBytes;
  }

  get resent(): number {
    return this.nats.resent;
  }

  confirmWaitMs(): number {
    return this.nats.confirmWaitMs();
  }

  /** True when the NATS server has left a confirmation unanswered too long. */
  confirmOverdue(): boolean {
    return this.nats.confirmOverdue();
  }

  /** Wraps and publishes one payload (or keeps it while NATS cannot take it). Never throws. */
  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void {
    if (source.tag < 0) {
      source.tag = this.counters.length;
      this.counters.push(source.counters);
    }
    this.nats.publish(source.envelope(payload), source.tag, receivedAt);
  }

  /** Hands the current burst to the NATS client (the relay calls it when ZMQ runs dry). */
  flushBatch(): void {
    this.nats.flushBatch();
  }

  /** Publishes what is held, waits up to `timeoutMs` for confirmation, counts what is left. */
  stop(timeoutMs: number): Promise<number> {
    return this.nats.stop(timeoutMs);
  }
}
