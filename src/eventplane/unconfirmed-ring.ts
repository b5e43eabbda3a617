/**
 * What a publisher has handed to the NATS client and the server has not yet confirmed,
 * oldest first: each message's bytes copied into one ring buffer, with its length and a
 * caller's tag in typed arrays. No object per message outlives its turn: messages held for
 * a round-trip as objects survive V8's young-generation collections, which then grows the
 * young generation to its maximum (measured: +24 MiB RSS and a fifth less throughput).
 * The ring grows (doubling, copying what it holds) when a message does not fit.
 */

const INITIAL_BYTES = 64 * 1024;
const INITIAL_ENTRIES = 256;

/** One message taken out of the ring, with its own copy of the bytes. */
export interface TaggedBytes {
  bytes: Uint8Array;
  tag: number;
}

export class UnconfirmedRing {
  private buf = new Uint8Array(INITIAL_BYTES);
  private starts = new Int32Array(INITIAL_ENTRIES);
  private lens = new Int32Array(INITIAL_ENTRIES);
  private tags = new Int32Array(INITIAL_ENTRIES);
  /** Entry index of the oldest message, and how many are held. */
  private first = 0;
  private count = 0;
  /** Byte offset just after the newest message. */
  private writeAt = 0;
  private byteCount = 0;

  get length(): number {
    return this.count;
  }

  /** Bytes of the messages held. */
  get bytes(): number {
    return this.byteCount;
  }

  /** Copies `bytes` in as the newest message, with `tag` (an integer in the int32 range). */
  push(bytes: Uint8Array, tag: number): void {
    const n = bytes.length;
    if (this.count === this.starts.length) this.growEntries();
    let at = this.place(n);
    if (at < 0) {
      this.growBytes(n);
      at = this.place(n);
    }
    this.buf.set(bytes, at);
    const i = (this.first + this.count) % this.starts.length;
    this.starts[i] = at;
    this.lens[i] = n;
    this.tags[i] = tag;
    this.count++;
    this.writeAt = at + n;
    this.byteCount += n;
  }

  /** Removes the oldest message; returns its tag (-1 when empty). */
  shiftTag(): number {
    if (this.count === 0) return -1;
    const i = this.first;
    this.first = (i + 1) % this.starts.length;
    this.count--;
    this.byteCount -= this.lens[i];
    return this.tags[i];
  }

  /** Removes everything; returns copies, oldest first. */
  drain(): TaggedBytes[] {
    const out: TaggedBytes[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.first + k) % this.starts.length;
      out.push({ bytes: this.buf.slice(this.starts[i], this.starts[i] + this.lens[i]), tag: this.tags[i] });
    }
    this.first = 0;
    this.count = 0;
    this.writeAt = 0;
    this.byteCount = 0;
    return out;
  }

  /** Where `n` bytes fit without overwriting a held message, or -1. */
  private place(n: number): number {
    // Empty: start again at the front, so a quiet publisher touches only the first pages.
    if (this.count === 0) return n <= this.buf.length ? 0 : -1;
    const oldest = this.starts[this.first];
    if (this.writeAt > oldest || (this.writeAt === oldest && this.byteCount === 0)) {
      // Held bytes lie in [oldest, writeAt): room after them, else at the front.
      if (this.buf.length - this.writeAt >= n) return this.writeAt;
      return oldest >= n ? 0 : -1;
    }
    // Wrapped: held bytes are [oldest, end) and [0, writeAt).
    return oldest - this.writeAt >= n ? this.writeAt : -1;
  }

  private growBytes(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.byteCount + n) size *= 2;
    const next = new Uint8Array(size);
    let at = 0;
    for (let k = 0; k < this.count; k++) {
      const i = (this.first + k) % this.starts.length;
      next.set(this.buf.subarray(this.starts[i], this.starts[i] + this.lens[i]), at);
      this.starts[i] = at;
      at += this.lens[i];
    }
    this.buf = next;
    this.writeAt = at;
  }

  private growEntries(): void {
    const size = this.starts.length * 2;
    const order = (a: Int32Array) => {
      const next = new Int32Array(size);
      for (let k = 0; k < this.count; k++) next[k] = a[(this.first + k) % a.length];
      return next;
    };
    this.starts = order(this.starts);
    this.lens = order(this.lens);
    this.tags = order(this.tags);
    this.first = 0;
  }
}
