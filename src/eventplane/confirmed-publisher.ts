/**
 * Core NATS publishing with confirmed delivery and a byte bound: what a publisher hands to
 * the nats.js client counts as delivered only once the server has confirmed it, and the
 * bytes it holds, confirmed or not, never exceed `maxBytes` (docs/design/hostile-input.md).
 * Each message carries the caller's integer `tag` (the relay: which dp_rank), handed back
 * when it is confirmed or dropped.
 *
 * Why: nats.js v3 writes publishes to its socket without a limit, so a server that stops
 * reading (SIGSTOP, a hung host) keeps the TCP connection up while the client's buffer
 * grows; and at every reconnect attempt the client discards what it had not written.
 * So items are handed to the client only while fewer than `maxBytes / 2` are unconfirmed;
 * a flush round-trip (PING/PONG: the server has processed everything before it) confirms
 * them. One round-trip is on its way whenever something is unconfirmed (the next starts
 * when it returns); `confirmIntervalMs` is only a guard for one that could not start. What the client held when the
 * connection dropped is published again after the reconnect (the server may already have
 * had some: subscribers drop those copies by `(publisher_id, sequence)`). Items wait in
 * order while NATS is down or the window is full; when a new one does not fit, the oldest
 * waiting ones are dropped (`nats_unavailable`): a planner wants the freshest load.
 */
import type { Logger } from "../util/log.js";
import { ByteQueue } from "./byte-queue.js";
import type { EventPlaneConnection } from "./connection.js";
import { type TaggedBytes, UnconfirmedRing } from "./unconfirmed-ring.js";

/**
 * Why an item left without the server's confirmation:
 * - `nats_unavailable`: it waited for NATS and the bound needed its room (oldest first), or
 *   the publisher stopped before NATS took it; the server never saw it;
 * - `publish_error`: the client refused it (for example over the server's max_payload);
 * - `unconfirmed`: handed to the client but not confirmed when the publisher stopped; the
 *   server may or may not have it.
 */
export const DELIVERY_DROP_REASONS = ["nats_unavailable", "publish_error", "unconfirmed"] as const;
export type DeliveryDropReason = (typeof DELIVERY_DROP_REASONS)[number];

export const CONFIRMED_PUBLISHER_DEFAULTS = {
  confirmIntervalMs: 100,
  confirmTimeoutMs: 3000,
} as const;

/** Items per write to the client at most; a longer burst is written in several batches. */
const MAX_BATCH = 64;

export interface ConfirmedPublisherOptions {
  connection: EventPlaneConnection;
  subject: string;
  /** Bound on the bytes held: waiting, unconfirmed and to be sent again. */
  maxBytes: number;
  /** How often a round-trip that could not start is tried again. Default 100 ms. */
  confirmIntervalMs?: number;
  /** A round-trip unanswered this long makes `confirmOverdue` true (unhealthy). Default 3000 ms. */
  confirmTimeoutMs?: number;
  /** The server confirmed a message with this tag. */
  onConfirmed: (tag: number) => void;
  /** A message with this tag left unconfirmed, for `reason`. */
  onDropped: (tag: number, reason: DeliveryDropReason) => void;
  /** A message was handed to the client for the first time; `receivedAt` is what `publish` got. */
  onHandedOver?: (tag: number, receivedAt: number) => void;
  logger: Logger;
}

/** A message waiting to be handed to the client (NATS down, or the window full). */
interface WaitingMessage extends TaggedBytes {
  receivedAt: number;
}

/** A flush round-trip on its way: it confirms the first `mark` messages ever handed over. */
interface Confirmation {
  mark: number;
  sentAtMs: number;
  epoch: number;
}

export class ConfirmedPublisher {
  readonly maxBytes: number;
  /** Unconfirmed bytes handed to the client at most. */
  readonly windowBytes: number;
  readonly confirmTimeoutMs: number;
  /** Messages handed to the client again after a reconnect. */
  resent = 0;
  private readonly conn: EventPlaneConnection;
  private readonly subject: string;
  private readonly opts: ConfirmedPublisherOptions;
  private readonly logger: Logger;
  /** Not yet handed over; the oldest are dropped when the bound needs room. */
  private readonly waiting = new ByteQueue<WaitingMessage>();
  /** Handed over before a disconnect, not confirmed: sent again first, never dropped for room. */
  private readonly resend = new ByteQueue<WaitingMessage>();
  /** Handed over on the current connection, not yet confirmed, oldest first. */
  private readonly unconfirmed = new UnconfirmedRing();
  /** The current burst, in parallel arrays (reused: no object per message). */
  private readonly batchBytes: Uint8Array[] = [];
  private readonly batchTags: number[] = [];
  private readonly batchAt: number[] = [];
  private handedOver = 0;
  private confirmedCount = 0;
  /** Bumped at every disconnect: round-trips of an earlier connection confirm nothing. */
  private epoch = 0;
  private confirmation: Confirmation | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(opts: ConfirmedPublisherOptions) {
    this.opts = opts;
    this.conn = opts.connection;
    this.subject = opts.subject;
    this.logger = opts.logger;
    this.maxBytes = opts.maxBytes;
    this.windowBytes = Math.max(1, Math.floor(opts.maxBytes / 2));
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? CONFIRMED_PUBLISHER_DEFAULTS.confirmTimeoutMs;
    this.timer = setInterval(() => {
      if (this.unconfirmed.length > 0) this.confirm();
    }, opts.confirmIntervalMs ?? CONFIRMED_PUBLISHER_DEFAULTS.confirmIntervalMs);
    this.timer.unref();
    this.unsubscribe = this.conn.onStatus((e) => {
      if (e.state === "connected") this.pump();
      else this.connectionLost();
    });
  }

  /** Bytes held: waiting, to be sent again, and handed over unconfirmed. */
  get bufferedBytes(): number {
    return this.waiting.bytes + this.resend.bytes + this.unconfirmed.bytes;
  }

  get bufferedMessages(): number {
    return this.waiting.length + this.resend.length + this.unconfirmed.length;
  }

  /** Bytes handed to the client on this connection and not yet confirmed. */
  get unconfirmedBytes(): number {
    return this.unconfirmed.bytes;
  }

  /** How long the round-trip on its way has waited (0: none). */
  confirmWaitMs(nowMs = Date.now()): number {
    return this.confirmation ? nowMs - this.confirmation.sentAtMs : 0;
  }

  /** True when the server has left a round-trip unanswered for longer than `confirmTimeoutMs`. */
  confirmOverdue(nowMs = Date.now()): boolean {
    return this.confirmWaitMs(nowMs) > this.confirmTimeoutMs;
  }

  /**
   * Publishes `bytes` under `tag` (or keeps it until NATS can take it). Never throws.
   * Messages of one burst go to the client together, so it writes its socket once per
   * batch, not once per message. `bytes` must not change afterwards.
   */
  publish(bytes: Uint8Array, tag: number, receivedAt: number): void {
    const n = this.batchBytes.length;
    if (n > 0 || this.canHandOver(bytes.length)) {
      this.batchBytes.push(bytes);
      this.batchTags.push(tag);
      this.batchAt.push(receivedAt);
      // The caller flushes when its burst ends; the timer only guards against a batch left behind.
      if (n === 0) setImmediate(this.flushBatch);
      else if (n + 1 >= MAX_BATCH) this.flushBatch();
      return;
    }
    this.hold({ bytes, tag, receivedAt });
  }

  /** Hands the current batch to the client; what cannot go now waits. */
  readonly flushBatch = (): void => {
    const n = this.batchBytes.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const bytes = this.batchBytes[i];
      if (this.canHandOver(bytes.length)) {
        if (this.handOver(bytes, this.batchTags[i])) this.opts.onHandedOver?.(this.batchTags[i], this.batchAt[i]);
      } else this.hold({ bytes, tag: this.batchTags[i], receivedAt: this.batchAt[i] });
    }
    this.batchBytes.length = 0;
    this.batchTags.length = 0;
    this.batchAt.length = 0;
    this.confirm();
  };

  /** Nothing waits before it, NATS is up and the unconfirmed window has room. */
  private canHandOver(size: number): boolean {
    return (
      this.waiting.length === 0 &&
      this.resend.length === 0 &&
      this.conn.connected &&
      (this.unconfirmed.length === 0 || this.unconfirmed.bytes + size <= this.windowBytes)
    );
  }

  private handOver(bytes: Uint8Array, tag: number): boolean {
    try {
      this.conn.nc.publish(this.subject, bytes);
    } catch (err) {
      this.opts.onDropped(tag, "publish_error");
      this.logger.limited("publish-error", "warn", "NATS refused a message", {
        bytes: bytes.length,
        error: (err as Error).message,
      });
      return false;
    }
    this.unconfirmed.push(bytes, tag);
    this.handedOver++;
    return true;
  }

  /** Keeps `m` waiting, dropping the oldest waiting ones while the bound needs room. */
  private hold(m: WaitingMessage): void {
    const size = m.bytes.length;
    while (this.bufferedBytes + size > this.maxBytes && this.waiting.length > 0)
      this.dropWaiting(this.waiting.shift()!);
    if (this.bufferedBytes + size > this.maxBytes) this.dropWaiting(m);
    else this.waiting.push(m);
    this.pump();
  }

  private dropWaiting(m: WaitingMessage): void {
    this.opts.onDropped(m.tag, "nats_unavailable");
    this.logger.limited(
      "nats-unavailable",
      "warn",
      "NATS is not taking messages and the buffer is full: dropping the oldest",
      { max_buffered_bytes: this.maxBytes, unconfirmed_bytes: this.unconfirmed.bytes },
    );
  }

  /** Hands over what was sent before a disconnect, then what waits, while the window has room. */
  private pump(): void {
    if (!this.conn.connected || this.stopped) return;
    const before = this.handedOver;
    for (;;) {
      const again = this.resend.length > 0;
      const next = again ? this.resend.peek() : this.waiting.peek();
      if (next === undefined) break;
      if (this.unconfirmed.length > 0 && this.unconfirmed.bytes + next.bytes.length > this.windowBytes) break;
      (again ? this.resend : this.waiting).shift();
      if (!this.handOver(next.bytes, next.tag)) continue;
      if (again) this.resent++;
      else this.opts.onHandedOver?.(next.tag, next.receivedAt);
    }
    if (this.handedOver > before) this.confirm();
  }

  /** Starts a flush round-trip for everything handed over so far, unless one is on its way. */
  private confirm(): void {
    if (this.confirmation || !this.conn.connected || this.unconfirmed.length === 0) return;
    const c: Confirmation = { mark: this.handedOver, sentAtMs: Date.now(), epoch: this.epoch };
    this.confirmation = c;
    let flushed: Promise<void>;
    try {
      flushed = this.conn.nc.flush();
    } catch {
      this.confirmation = null;
      return;
    }
    flushed.then(
      () => this.confirmed(c),
      () => {
        // Rejected at a disconnect (the client drops its round-trips with its buffer) or close.
        if (this.confirmation === c) this.confirmation = null;
      },
    );
  }

  private confirmed(c: Confirmation): void {
    if (this.confirmation === c) this.confirmation = null;
    if (c.epoch !== this.epoch) return;
    while (this.confirmedCount < c.mark && this.unconfirmed.length > 0) {
      this.confirmedCount++;
      this.opts.onConfirmed(this.unconfirmed.shiftTag());
    }
    this.confirmedCount = c.mark;
    this.pump();
    // Keep one round-trip on its way while anything is unconfirmed: messages then live for
    // a round-trip, not an interval.
    this.confirm();
  }

  /** The connection dropped: what it did not confirm is sent again after the reconnect. */
  private connectionLost(): void {
    this.epoch++;
    this.confirmation = null;
    this.confirmedCount = this.handedOver;
    if (this.unconfirmed.length === 0) return;
    // Oldest first: what this connection held, then what an earlier one left to send again.
    const later = this.resend.clear();
    for (const m of this.unconfirmed.drain()) this.resend.push({ ...m, receivedAt: 0 });
    for (const m of later) this.resend.push(m);
  }

  /**
   * Hands over what it can, waits up to `timeoutMs` for the server to confirm it, then
   * drops what is left (`nats_unavailable` if the server never saw it, else `unconfirmed`).
   * Returns how many were dropped.
   */
  async stop(timeoutMs: number): Promise<number> {
    this.flushBatch();
    this.pump();
    const deadline = Date.now() + timeoutMs;
    while (this.unconfirmed.length > 0 && this.conn.connected && Date.now() < deadline) {
      this.confirm();
      await new Promise((r) => setTimeout(r, 5));
      this.pump();
    }
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
    let dropped = 0;
    for (const m of this.waiting.clear()) {
      this.opts.onDropped(m.tag, "nats_unavailable");
      dropped++;
    }
    for (const m of [...this.resend.clear(), ...this.unconfirmed.drain()]) {
      this.opts.onDropped(m.tag, "unconfirmed");
      dropped++;
    }
    if (dropped > 0) this.logger.warn("stopping before NATS confirmed every message", { dropped });
    return dropped;
  }
}
