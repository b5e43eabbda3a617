/**
 * A paced engine stand-in for the ops tests and the soak: an `FpmPublisher` that sends
 * forward passes at a steady rate with a known cost model (wall time linear in prefill
 * and decode KV tokens), can be restarted (seq back to 0, as a real engine restart) and
 * can inject malformed payloads. Everything it sent is in `sent`.
 */
import { FpmPublisher } from "../../src/engine/publisher.js";

export interface SyntheticEngineOptions {
  endpoint: string;
  workerId: string;
  dpRank?: number;
  /** Forward passes per second. Default 50. */
  rateHz?: number;
  /** Wall time = a + b * prefill tokens + c * decode KV tokens (seconds). A negative b makes an unfittable model. */
  cost?: { a: number; b: number; c: number };
  /** Send queue of the publisher (default 10,000). */
  maxQueuedMessages?: number;
  /** Idle heartbeats (default true). */
  heartbeats?: boolean;
  /**
   * Awaited after each bind, before the first message: ZMQ PUB discards what it sends
   * before a subscriber has connected, and no relay can count that, so an accounting
   * test waits here until the relay reports the engine connected.
   */
  untilSubscribed?: () => Promise<void>;
}

/** What one engine instance (between restarts) handed out, from its publisher's stats. */
export interface EngineTotals {
  /** Messages handed to ZMQ (valid, malformed and heartbeats). */
  sent: number;
  /** Malformed payloads among `sent`. */
  malformed: number;
  /** Messages the publisher dropped itself (each leaves a seq gap the relay counts as lost). */
  publisherDropped: number;
}

export class SyntheticEngine {
  private pub: FpmPublisher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private step = 0;
  private malformed = 0;
  /** Totals of earlier incarnations (before restarts). */
  private past: EngineTotals = { sent: 0, malformed: 0, publisherDropped: 0 };
  restarts = 0;

  constructor(readonly opts: SyntheticEngineOptions) {}

  async start(): Promise<this> {
    this.pub = await new FpmPublisher({
      endpoint: this.opts.endpoint,
      workerId: this.opts.workerId,
      dpRank: this.opts.dpRank ?? 0,
      heartbeats: this.opts.heartbeats ?? true,
      maxQueuedMessages: this.opts.maxQueuedMessages,
    }).bind();
    if (this.opts.untilSubscribed) await this.opts.untilSubscribed();
    const periodMs = 1000 / (this.opts.rateHz ?? 50);
    // Several messages per timer tick when the rate is above what a 10 ms timer can pace.
    const perTick = Math.max(1, Math.round(10 / periodMs));
    this.timer = setInterval(
      () => {
        for (let i = 0; i < perTick; i++) this.sendOne();
      },
      Math.max(10, periodMs),
    );
    return this;
  }

  private sendOne(): void {
    const cost = this.opts.cost ?? { a: 0.004, b: 0.00002, c: 0.0000005 };
    this.step++;
    // Loads that spread over the range, so a regression has something to fit.
    const prefill = 64 + ((this.step * 37) % 1900);
    const decodeRequests = 1 + ((this.step * 7) % 32);
    const decodeKv = decodeRequests * (200 + ((this.step * 53) % 800));
    const queued = (this.step * 11) % 3000;
    this.pub?.publish({
      wallTimeS: Math.max(1e-4, cost.a + cost.b * prefill + cost.c * decodeKv),
      scheduledRequests: {
        numPrefillRequests: 1,
        sumPrefillTokens: prefill,
        numDecodeRequests: decodeRequests,
        sumDecodeKvTokens: decodeKv,
      },
      queuedRequests: {
        numPrefillRequests: queued > 0 ? 1 : 0,
        sumPrefillTokens: queued,
        sumDecodeKvTokens: queued * 2,
      },
    });
  }

  /** Sends `n` payloads that are not msgpack FPM (the relay must drop each as `decode`). */
  sendMalformed(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.pub?.publishRaw(Uint8Array.from([0xc1, i & 0xff, 0x00]))) this.malformed++;
    }
  }

  /** Publishes `n` messages at once; with a small send queue most are dropped by the publisher (seq gaps). */
  burst(n: number): void {
    for (let i = 0; i < n; i++) this.sendOne();
  }

  get totals(): EngineTotals {
    const s = this.pub?.stats ?? { sent: 0, dropped: 0 };
    return {
      sent: this.past.sent + s.sent,
      malformed: this.past.malformed + this.malformed,
      publisherDropped: this.past.publisherDropped + s.dropped,
    };
  }

  /** Stops sending and closes the socket (the relay sees a disconnect). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const pub = this.pub;
    if (!pub) return;
    await pub.close();
    const s = pub.stats;
    this.past = {
      sent: this.past.sent + s.sent,
      malformed: this.past.malformed + this.malformed,
      publisherDropped: this.past.publisherDropped + s.dropped,
    };
    this.malformed = 0;
    this.pub = null;
  }

  /** Stops, waits `downMs`, and starts a new incarnation on the same endpoint (seq from 0). */
  async restart(downMs = 200): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.restarts++;
    await this.start();
  }
}
