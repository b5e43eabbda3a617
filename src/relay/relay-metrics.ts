/**
 * The relay's Prometheus metrics, prefix `fpm_relay_`, in their own registry. The hot path
 * bumps plain numbers in a `RelayRankCounters` per dp_rank; prom-client reads them only
 * when `/metrics` is scraped, so a message costs no label lookups.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { DELIVERY_DROP_REASONS } from "../eventplane/confirmed-publisher.js";
import { emptyResetCounts, SEQUENCE_RESET_REASONS, type SequenceResetReason } from "../util/sequence-follower.js";

/**
 * Why the relay dropped a message:
 * - `frame_count`: not exactly 3 ZMQ frames.
 * - `oversize`: payload over `--max-payload-bytes`.
 * - `seq_frame`: the seq frame is not 8 bytes.
 * - `decode`, `schema`, `unsupported_version`, `invalid_value`: the codec rejected the payload.
 * - `nats_unavailable`, `publish_error`, `unconfirmed`: NATS did not confirm it (see
 *   `DELIVERY_DROP_REASONS`: buffer full while NATS could not take it, refused by the
 *   client, or not confirmed when the relay stopped). On the ZMQ plane `publish_error` is a
 *   send the PUB socket refused.
 * - `zmq_queue_full`: ZMQ plane: the rank's send queue (one send in flight per socket) was
 *   full, or still held the message at shutdown.
 */
export const RELAY_DROP_REASONS = [
  "frame_count",
  "oversize",
  "seq_frame",
  "decode",
  "schema",
  "unsupported_version",
  "invalid_value",
  ...DELIVERY_DROP_REASONS,
  "zmq_queue_full",
] as const;
export type RelayDropReason = (typeof RELAY_DROP_REASONS)[number];

/** Plain counters of one dp_rank, bumped on the hot path. */
export class RelayRankCounters {
  received = 0;
  forwarded = 0;
  lost = 0;
  engineRestarts = 0;
  counterIdMismatches = 0;
  receiveErrors = 0;
  /** Seq resets that were neither a loss nor an engine restart (see `SequenceTracker`). */
  readonly seqResets: Record<SequenceResetReason, number> = emptyResetCounts();
  /** -1 until the first seq is seen. */
  lastSeq = -1;
  engineConnected = 0;
  /** ZMQ plane: subscribers connected to this rank's PUB now. */
  zmqSubscribers = 0;
  readonly dropped: Record<RelayDropReason, number> = Object.fromEntries(
    RELAY_DROP_REASONS.map((r) => [r, 0]),
  ) as Record<RelayDropReason, number>;

  constructor(readonly dpRank: number) {}

  droppedTotal(): number {
    let n = 0;
    for (const r of RELAY_DROP_REASONS) n += this.dropped[r];
    return n;
  }
}

/** Latency buckets, seconds: 10 us .. 1 s, dense around the 1 ms target. */
export const RELAY_LATENCY_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
];

/** What the relay's NATS side reports, read when `/metrics` is scraped. */
export interface RelayNatsReadings {
  readonly connected: boolean;
  readonly reconnects: number;
  /** Envelope bytes held for NATS: waiting, or published and not yet confirmed. */
  readonly bufferedBytes: number;
  readonly bufferedMessages: number;
  /** Of those, bytes published on the current connection and awaiting confirmation. */
  readonly unconfirmedBytes: number;
  /** Envelopes published again after a reconnect. */
  readonly resent: number;
  /** How long the confirmation on its way has waited, ms (0: none). */
  confirmWaitMs(): number;
}

const NO_NATS: RelayNatsReadings = {
  connected: false,
  reconnects: 0,
  bufferedBytes: 0,
  bufferedMessages: 0,
  unconfirmedBytes: 0,
  resent: 0,
  confirmWaitMs: () => 0,
};

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly ranks = new Map<number, RelayRankCounters>();
  /** The NATS side, once the relay has connected. */
  nats: RelayNatsReadings = NO_NATS;
  private readonly latency: Histogram;

  get natsConnected(): number {
    return this.nats.connected ? 1 : 0;
  }

  get natsReconnects(): number {
    return this.nats.reconnects;
  }

  get bufferedBytes(): number {
    return this.nats.bufferedBytes;
  }

  get bufferedMessages(): number {
    return this.nats.bufferedMessages;
  }

  constructor() {
    const ranks = () => [...this.ranks.values()];
    const counterFrom = (name: string, help: string, read: (r: RelayRankCounters) => number) =>
      new Counter({
        name,
        help,
        labelNames: ["dp_rank"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const r of ranks()) this.inc({ dp_rank: String(r.dpRank) }, read(r));
        },
      });
    counterFrom("fpm_relay_received_total", "ZMQ messages received from the engine, per dp_rank", (r) => r.received);
    counterFrom(
      "fpm_relay_forwarded_total",
      "Messages published on the event plane, per dp_rank (NATS: confirmed by the server; ZMQ: handed to the PUB socket)",
      (r) => r.forwarded,
    );
    counterFrom(
      "fpm_relay_lost_total",
      "Messages the engine sent that never arrived (forward jumps of the seq frame)",
      (r) => r.lost,
    );
    counterFrom(
      "fpm_relay_engine_restarts_total",
      "Times the seq went back (to 0 or below the last seq): an engine restart, not a loss",
      (r) => r.engineRestarts,
    );
    counterFrom(
      "fpm_relay_counter_id_mismatch_total",
      "Valid payloads whose non-zero counter_id differs from the seq frame",
      (r) => r.counterIdMismatches,
    );
    counterFrom("fpm_relay_receive_errors_total", "ZMQ receive errors (retried with backoff)", (r) => r.receiveErrors);
    const reasonCounterFrom = <R extends string>(
      name: string,
      help: string,
      reasons: readonly R[],
      read: (r: RelayRankCounters) => Record<R, number>,
    ) =>
      new Counter({
        name,
        help,
        labelNames: ["dp_rank", "reason"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const r of ranks()) {
            const counts = read(r);
            for (const reason of reasons) this.inc({ dp_rank: String(r.dpRank), reason }, counts[reason]);
          }
        },
      });
    reasonCounterFrom(
      "fpm_relay_seq_resets_total",
      "Seq breaks that were neither a loss nor an engine restart, per dp_rank and reason (jump, back, reverted)",
      SEQUENCE_RESET_REASONS,
      (r) => r.seqResets,
    );
    reasonCounterFrom(
      "fpm_relay_dropped_total",
      "Messages dropped, per dp_rank and reason",
      RELAY_DROP_REASONS,
      (r) => r.dropped,
    );
    const gaugeFrom = (name: string, help: string, read: (r: RelayRankCounters) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ["dp_rank"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const r of ranks()) {
            const v = read(r);
            if (v !== null) this.set({ dp_rank: String(r.dpRank) }, v);
          }
        },
      });
    gaugeFrom("fpm_relay_last_seq", "Last seq frame seen per dp_rank", (r) => (r.lastSeq < 0 ? null : r.lastSeq));
    gaugeFrom(
      "fpm_relay_engine_connected",
      "1 while the ZMQ connection to the engine of this dp_rank is up",
      (r) => r.engineConnected,
    );
    gaugeFrom(
      "fpm_relay_zmq_subscribers",
      "ZMQ plane: subscribers connected to this dp_rank's PUB (ZMQ PUB sends nothing while there are none)",
      (r) => r.zmqSubscribers,
    );
    // Process-wide values, read when scraped.
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge("fpm_relay_nats_connected", "1 while the NATS connection is up", () => this.natsConnected);
    const metrics = this;
    new Counter({
      name: "fpm_relay_nats_reconnects_total",
      help: "NATS reconnections since start",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(metrics.natsReconnects);
      },
    });
    gauge(
      "fpm_relay_buffered_bytes",
      "Envelope bytes held for NATS, waiting or published and not yet confirmed (bounded by --max-buffered-bytes)",
      () => this.nats.bufferedBytes,
    );
    gauge(
      "fpm_relay_buffered_messages",
      "Envelopes held for NATS, waiting or published and not yet confirmed",
      () => this.nats.bufferedMessages,
    );
    gauge(
      "fpm_relay_unconfirmed_bytes",
      "Envelope bytes published on the current NATS connection and awaiting the server's confirmation",
      () => this.nats.unconfirmedBytes,
    );
    gauge(
      "fpm_relay_nats_confirm_wait_seconds",
      "How long the NATS server has left the confirmation on its way unanswered (0: none)",
      () => this.nats.confirmWaitMs() / 1000,
    );
    new Counter({
      name: "fpm_relay_resent_total",
      help: "Envelopes published again after a NATS reconnect because the server had not confirmed them",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(metrics.nats.resent);
      },
    });
    this.latency = new Histogram({
      name: "fpm_relay_forward_latency_seconds",
      help: "Time from ZMQ receive to handing the envelope to the event plane (the NATS client, or the ZMQ PUB socket)",
      buckets: RELAY_LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** The counters of a dp_rank (created on first use; the relay has a fixed set of ranks). */
  rank(dpRank: number): RelayRankCounters {
    let r = this.ranks.get(dpRank);
    if (!r) {
      r = new RelayRankCounters(dpRank);
      this.ranks.set(dpRank, r);
    }
    return r;
  }

  allRanks(): RelayRankCounters[] {
    return [...this.ranks.values()];
  }

  observeLatencySeconds(seconds: number): void {
    this.latency.observe(seconds);
  }
}
