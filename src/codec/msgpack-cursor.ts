/**
 * A strict, allocation-light msgpack reader over one buffer. It throws only `CodecFailure`
 * objects (no stack capture, cheap), which the public decoders turn into results; it never
 * lets a RangeError or TypeError escape.
 */

export class CodecFailure {
  constructor(
    readonly reason: "decode" | "schema",
    readonly detail: string,
  ) {}
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const TWO32 = 4294967296;

/** A bounded cache of decoded short ASCII strings, shared by every cursor (JS is single-threaded). */
const MAX_CACHED_STR = 64;
const STR_CACHE_SLOTS = 1024;
const strCacheBytes: (Uint8Array | undefined)[] = new Array(STR_CACHE_SLOTS).fill(undefined);
const strCacheValues: string[] = new Array(STR_CACHE_SLOTS).fill("");

/**
 * The cursor is reset onto each new buffer instead of being allocated per message, and reads
 * multi-byte numbers with byte arithmetic rather than a DataView: the decoders' hot path
 * allocates nothing but the decoded value.
 */
export class MsgpackCursor {
  buf: Uint8Array;
  pos = 0;
  end = 0;
  /** Set by u64Number/i64Number: whether the last 64-bit integer fits a double exactly. */
  exact = true;
  /** The first value that decoded but makes no physical sense; reported only if nothing worse is found. */
  invalid: string | null = null;

  constructor(buf: Uint8Array = new Uint8Array(0)) {
    this.buf = buf;
    this.end = buf.length;
  }

  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.invalid = null;
    return this;
  }

  fail(reason: "decode" | "schema", detail: string): never {
    throw new CodecFailure(reason, detail);
  }

  /** Fails for a value of the wrong type at `path`: reserved byte 0xc1 is malformed (decode), anything else a type mismatch (schema). */
  mismatch(tag: number, path: string, expected: string): never {
    if (tag === 0xc1) return this.fail("decode", `reserved msgpack byte 0xc1 at byte ${this.pos - 1}`);
    return this.fail("schema", `${path}: expected ${expected}, got ${msgpackTypeName(tag)}`);
  }

  need(n: number): void {
    if (this.pos + n > this.end)
      this.fail("decode", `truncated at byte ${this.pos}: need ${n} more, have ${this.end - this.pos}`);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail("decode", `truncated at byte ${this.pos}: input ended`);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const b = this.buf,
      p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }

  private u32At(p: number): number {
    const b = this.buf;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  u32(): number {
    this.need(4);
    const v = this.u32At(this.pos);
    this.pos += 4;
    return v;
  }

  /** A uint64 as a double; `exact` says whether it is at most 2^53-1 (else the double is rounded). */
  u64Number(): number {
    this.need(8);
    const hi = this.u32At(this.pos),
      lo = this.u32At(this.pos + 4);
    this.pos += 8;
    this.exact = hi < 0x200000;
    return hi * TWO32 + lo;
  }

  /** An int64 as a double; `exact` says whether it lies within +-(2^53-1). */
  i64Number(): number {
    this.need(8);
    const hi = this.u32At(this.pos) | 0,
      lo = this.u32At(this.pos + 4);
    this.pos += 8;
    this.exact = hi < 0x200000 && (hi > -0x200000 || (hi === -0x200000 && lo > 0));
    return hi * TWO32 + lo;
  }

  u64BigInt(): bigint {
    this.need(8);
    const hi = this.u32At(this.pos),
      lo = this.u32At(this.pos + 4);
    this.pos += 8;
    return hi < 0x200000 ? BigInt(hi * TWO32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  f32(): number {
    this.need(4);
    const b = this.buf,
      p = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < 4; i++) f32Bytes[i] = b[p + 3 - i];
    else for (let i = 0; i < 4; i++) f32Bytes[i] = b[p + i];
    this.pos = p + 4;
    return f32[0];
  }

  f64(): number {
    this.need(8);
    const b = this.buf,
      p = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + 7 - i];
    else for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + i];
    this.pos = p + 8;
    return f64[0];
  }

  /** Reads a str body of `len` bytes at the cursor as UTF-8 (invalid UTF-8 is a decode failure). */
  strBody(len: number): string {
    this.need(len);
    const b = this.buf,
      start = this.pos,
      stop = start + len;
    this.pos = stop;
    // Short ASCII strings (worker ids, topics) repeat from message to message: look them up
    // in a small direct-mapped cache by a hash of their bytes instead of building them again.
    if (len <= MAX_CACHED_STR) {
      let h = len,
        ascii = true;
      for (let i = start; i < stop; i++) {
        const ch = b[i];
        if (ch > 0x7f) {
          ascii = false;
          break;
        }
        h = Math.imul(h ^ ch, 0x01000193);
      }
      if (ascii) {
        const slot = (h >>> 0) & (STR_CACHE_SLOTS - 1);
        const cached = strCacheBytes[slot];
        if (cached !== undefined && cached.length === len) {
          let j = 0;
          while (j < len && cached[j] === b[start + j]) j++;
          if (j === len) return strCacheValues[slot];
        }
        const value = String.fromCharCode.apply(null, b.subarray(start, stop) as unknown as number[]);
        strCacheBytes[slot] = b.slice(start, stop);
        strCacheValues[slot] = value;
        return value;
      }
    }
    try {
      return utf8.decode(b.subarray(start, stop));
    } catch {
      return this.fail("decode", `invalid UTF-8 in string at byte ${start}`);
    }
  }

  /** Length of a str whose tag was just read, or -1 when the tag is not a str. */
  strLength(tag: number): number {
    if (tag >= 0xa0 && tag <= 0xbf) return tag & 0x1f;
    if (tag === 0xd9) return this.byte();
    if (tag === 0xda) return this.u16();
    if (tag === 0xdb) return this.u32();
    return -1;
  }

  /** Entry count of a map whose tag was just read, or -1 when the tag is not a map. */
  mapLength(tag: number): number {
    if (tag >= 0x80 && tag <= 0x8f) return tag & 0x0f;
    if (tag === 0xde) return this.u16();
    if (tag === 0xdf) return this.u32();
    return -1;
  }

  /** Length of a bin whose tag was just read, or -1 when the tag is not a bin. */
  binLength(tag: number): number {
    if (tag === 0xc4) return this.byte();
    if (tag === 0xc5) return this.u16();
    if (tag === 0xc6) return this.u32();
    return -1;
  }

  /** Skips one complete value whose tag is at the cursor, validating its structure. */
  skipValue(): void {
    // Iterative: `pending` counts values still to skip, so deep nesting cannot overflow the stack.
    let pending = 1;
    while (pending > 0) {
      pending--;
      const tag = this.byte();
      if (tag <= 0x7f || tag >= 0xe0 || tag === 0xc0 || tag === 0xc2 || tag === 0xc3) continue;
      const str = this.strLength(tag);
      const n = str >= 0 ? str : this.binLength(tag);
      if (n >= 0) {
        this.skipBytes(n);
        continue;
      }
      let items = -1;
      if (tag >= 0x90 && tag <= 0x9f) items = tag & 0x0f;
      else if (tag === 0xdc) items = this.u16();
      else if (tag === 0xdd) items = this.u32();
      else {
        const m = this.mapLength(tag);
        if (m >= 0) items = m * 2;
      }
      if (items >= 0) {
        // Every item takes at least one byte: a count beyond what is left is truncated input.
        if (items > this.end - this.pos)
          this.fail("decode", `truncated at byte ${this.pos}: container of ${items} items`);
        pending += items;
        continue;
      }
      switch (tag) {
        case 0xcc:
        case 0xd0:
          this.skipBytes(1);
          break;
        case 0xcd:
        case 0xd1:
          this.skipBytes(2);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          this.skipBytes(4);
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          this.skipBytes(8);
          break;
        case 0xd4:
          this.skipBytes(2);
          break; // fixext 1: type + 1
        case 0xd5:
          this.skipBytes(3);
          break;
        case 0xd6:
          this.skipBytes(5);
          break;
        case 0xd7:
          this.skipBytes(9);
          break;
        case 0xd8:
          this.skipBytes(17);
          break;
        case 0xc7:
          this.skipBytes(this.byte() + 1);
          break;
        case 0xc8:
          this.skipBytes(this.u16() + 1);
          break;
        case 0xc9:
          this.skipBytes(this.u32() + 1);
          break;
        default:
          this.fail("decode", `reserved msgpack byte 0x${tag.toString(16)} at byte ${this.pos - 1}`);
      }
    }
  }

  skipBytes(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

/** A short name for a msgpack type tag, for error details. */
export function msgpackTypeName(tag: number): string {
  if (tag <= 0x7f || tag >= 0xe0 || (tag >= 0xcc && tag <= 0xd3)) return "int";
  if ((tag >= 0xa0 && tag <= 0xbf) || (tag >= 0xd9 && tag <= 0xdb)) return "str";
  if ((tag >= 0x80 && tag <= 0x8f) || tag === 0xde || tag === 0xdf) return "map";
  if ((tag >= 0x90 && tag <= 0x9f) || tag === 0xdc || tag === 0xdd) return "array";
  if (tag === 0xca || tag === 0xcb) return "float";
  if (tag === 0xc0) return "nil";
  if (tag === 0xc2 || tag === 0xc3) return "bool";
  if (tag >= 0xc4 && tag <= 0xc6) return "bin";
  if ((tag >= 0xc7 && tag <= 0xc9) || (tag >= 0xd4 && tag <= 0xd8)) return "ext";
  return "reserved";
}
