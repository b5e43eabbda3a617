/**
 * Envelopes held while NATS is unavailable, bounded in bytes: when a new one does not fit,
 * the oldest are evicted (the freshest load data is what a planner needs). The relay keeps
 * this itself because the nats.js v3 client discards what it buffered at every dial attempt.
 */

export interface BufferedEnvelope {
  dpRank: number;
  bytes: Uint8Array;
  /** performance.now() at ZMQ receive, for the latency histogram. */
  receivedAt: number;
}

export class OutageBuffer {
  private items: BufferedEnvelope[] = [];
  private head = 0;
  private byteCount = 0;

  /** `maxBytes`: the bound on the envelope bytes held (`--max-buffered-bytes`). */
  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.byteCount;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Adds `e`, evicting the oldest until it fits; calls `onEvict` for each envelope that
   * leaves unpublished (including `e` itself when it alone exceeds the bound).
   */
  push(e: BufferedEnvelope, onEvict: (e: BufferedEnvelope) => void): void {
    if (e.bytes.length > this.maxBytes) {
      onEvict(e);
      return;
    }
    while (this.byteCount + e.bytes.length > this.maxBytes) {
      const old = this.shift();
      if (!old) break;
      onEvict(old);
    }
    this.items.push(e);
    this.byteCount += e.bytes.length;
  }

  /** Removes and returns the oldest envelope. */
  shift(): BufferedEnvelope | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head];
    this.items[this.head++] = undefined as unknown as BufferedEnvelope;
    this.byteCount -= e.bytes.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  /** Removes everything; returns what was held. */
  clear(): BufferedEnvelope[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.byteCount = 0;
    return out;
  }
}
