/**
 * A msgpack writer that produces what msgspec produces: smallest integer forms, float64
 * for every float, str8 for 32..255-byte strings. It grows its buffer geometrically and
 * is reused between messages; `finish()` returns a copy of the written bytes.
 */

const encoder = new TextEncoder();

export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialSize = 512) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A copy of the bytes written since the last reset. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** The bytes written since the last reset, without a copy: valid until the writer is used again. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  mapHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xde;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  /** An integer in its smallest msgpack form. `value` must be a safe integer. */
  int(value: number): void {
    this.ensure(9);
    const b = this.buf;
    if (value >= 0) {
      if (value < 0x80) b[this.pos++] = value;
      else if (value < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = value;
      } else if (value < 0x10000) {
        b[this.pos++] = 0xcd;
        this.view.setUint16(this.pos, value);
        this.pos += 2;
      } else if (value < 0x100000000) {
        b[this.pos++] = 0xce;
        this.view.setUint32(this.pos, value);
        this.pos += 4;
      } else {
        b[this.pos++] = 0xcf;
        this.view.setUint32(this.pos, Math.floor(value / 0x100000000));
        this.view.setUint32(this.pos + 4, value >>> 0);
        this.pos += 8;
      }
    } else if (value >= -32) b[this.pos++] = value & 0xff;
    else if (value >= -0x80) {
      b[this.pos++] = 0xd0;
      this.view.setInt8(this.pos++, value);
    } else if (value >= -0x8000) {
      b[this.pos++] = 0xd1;
      this.view.setInt16(this.pos, value);
      this.pos += 2;
    } else if (value >= -0x80000000) {
      b[this.pos++] = 0xd2;
      this.view.setInt32(this.pos, value);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, BigInt(value));
      this.pos += 8;
    }
  }

  /** An unsigned 64-bit integer in its smallest msgpack form. */
  uint64(value: bigint): void {
    if (value <= 0xffffffffn) {
      this.int(Number(value));
      return;
    }
    this.ensure(9);
    this.buf[this.pos++] = 0xcf;
    this.view.setBigUint64(this.pos, value);
    this.pos += 8;
  }

  float64(value: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  str(value: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place.
    this.ensure(5 + value.length * 3);
    const headerAt = this.pos;
    const bodyAt = headerAt + (value.length < 11 ? 1 : value.length < 86 ? 2 : value.length < 21846 ? 3 : 5);
    const { written } = encoder.encodeInto(value, this.buf.subarray(bodyAt));
    const headerLen = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    const body = headerAt + headerLen;
    if (body !== bodyAt) this.buf.copyWithin(body, bodyAt, bodyAt + written);
    const b = this.buf;
    if (headerLen === 1) b[headerAt] = 0xa0 | written;
    else if (headerLen === 2) {
      b[headerAt] = 0xd9;
      b[headerAt + 1] = written;
    } else if (headerLen === 3) {
      b[headerAt] = 0xda;
      this.view.setUint16(headerAt + 1, written);
    } else {
      b[headerAt] = 0xdb;
      this.view.setUint32(headerAt + 1, written);
    }
    this.pos = body + written;
  }

  bin(value: Uint8Array): void {
    const n = value.length;
    this.ensure(5 + n);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.buf.set(value, this.pos);
    this.pos += n;
  }
}

/** The msgpack bytes of a str key, precomputed once (keys never change). */
export function encodedKey(key: string): Uint8Array {
  const w = new MsgpackWriter(64);
  w.str(key);
  return w.finish();
}
