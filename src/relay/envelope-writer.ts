/**
 * The relay's envelope writer: the same bytes as the codec's `encodeEnvelope` (a test
 * checks it across every integer width), built in one allocation from parts that are fixed
 * per dp_rank, with no BigInt per message. The payload is copied in unchanged.
 */
import { MsgpackWriter } from "../codec/msgpack-writer.js";
import { ENVELOPE_FIELDS } from "../schema/envelope.js";

function parts(build: (w: MsgpackWriter) => void): Uint8Array {
  const w = new MsgpackWriter(128);
  build(w);
  return w.finish();
}

/** Bytes of the smallest msgpack form of a non-negative safe integer (as `MsgpackWriter.int`). */
function uintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < 0x100000000 ? 5 : 9;
}

function writeUint(out: Uint8Array, at: number, v: number): number {
  if (v < 0x80) {
    out[at] = v;
    return at + 1;
  }
  if (v < 0x100) {
    out[at] = 0xcc;
    out[at + 1] = v;
    return at + 2;
  }
  if (v < 0x10000) {
    out[at] = 0xcd;
    out[at + 1] = v >>> 8;
    out[at + 2] = v & 0xff;
    return at + 3;
  }
  if (v < 0x100000000) {
    out[at] = 0xce;
    out[at + 1] = v >>> 24;
    out[at + 2] = (v >>> 16) & 0xff;
    out[at + 3] = (v >>> 8) & 0xff;
    out[at + 4] = v & 0xff;
    return at + 5;
  }
  out[at] = 0xcf;
  const hi = Math.floor(v / 0x100000000);
  const lo = v >>> 0;
  out[at + 1] = hi >>> 24;
  out[at + 2] = (hi >>> 16) & 0xff;
  out[at + 3] = (hi >>> 8) & 0xff;
  out[at + 4] = hi & 0xff;
  out[at + 5] = lo >>> 24;
  out[at + 6] = (lo >>> 16) & 0xff;
  out[at + 7] = (lo >>> 8) & 0xff;
  out[at + 8] = lo & 0xff;
  return at + 9;
}

export class RankEnvelopeWriter {
  /** Map header, `publisher_id` and its value, the `sequence` key. */
  private readonly head: Uint8Array;
  /** The `published_at` key. */
  private readonly mid: Uint8Array;
  /** The `topic` key and value, the `payload` key. */
  private readonly tail: Uint8Array;

  constructor(publisherId: bigint, topic: string) {
    const [pid, seq, at, top, pay] = ENVELOPE_FIELDS.map((f) => f.wire);
    this.head = parts((w) => {
      w.mapHeader(5);
      w.str(pid);
      w.uint64(publisherId);
      w.str(seq);
    });
    this.mid = parts((w) => w.str(at));
    this.tail = parts((w) => {
      w.str(top);
      w.str(topic);
      w.str(pay);
    });
  }

  /** The envelope; `sequence` and `publishedAtMs` must be safe non-negative integers. */
  write(sequence: number, publishedAtMs: number, payload: Uint8Array): Uint8Array {
    const n = payload.length;
    const binHeader = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    const size =
      this.head.length +
      uintSize(sequence) +
      this.mid.length +
      uintSize(publishedAtMs) +
      this.tail.length +
      binHeader +
      n;
    // Every byte is written below; allocUnsafe takes small buffers from Node's pool (no malloc each).
    const out = Buffer.allocUnsafe(size);
    out.set(this.head, 0);
    let at = writeUint(out, this.head.length, sequence);
    out.set(this.mid, at);
    at = writeUint(out, at + this.mid.length, publishedAtMs);
    out.set(this.tail, at);
    at += this.tail.length;
    if (binHeader === 2) {
      out[at++] = 0xc4;
      out[at++] = n;
    } else if (binHeader === 3) {
      out[at++] = 0xc5;
      out[at++] = n >>> 8;
      out[at++] = n & 0xff;
    } else {
      out[at++] = 0xc6;
      out[at++] = n >>> 24;
      out[at++] = (n >>> 16) & 0xff;
      out[at++] = (n >>> 8) & 0xff;
      out[at++] = n & 0xff;
    }
    out.set(payload, at);
    return out;
  }
}
