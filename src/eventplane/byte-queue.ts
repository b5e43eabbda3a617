/**
 * A FIFO of byte-carrying items that keeps their total size: the confirmed publisher's
 * queues of messages waiting to be handed over (new ones, and ones to send again). It evicts nothing itself; the caller decides
 * what leaves when a bound is reached.
 */

/** Anything carrying the bytes to publish. */
export interface ByteItem {
  bytes: Uint8Array;
}

export class ByteQueue<T extends ByteItem> {
  private items: T[] = [];
  private head = 0;
  private byteCount = 0;

  get bytes(): number {
    return this.byteCount;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    this.byteCount += item.bytes.length;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as unknown as T;
    this.byteCount -= item.bytes.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      // Drop the consumed front now and then, so a long-lived queue does not grow.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes everything; returns what was held, oldest first. */
  clear(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.byteCount = 0;
    return out;
  }
}
