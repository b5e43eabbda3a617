/**
 * The codec's first stage: straight-line decoding of envelopes and FPM payloads laid out
 * exactly as the reference encoders write them (msgspec: every key, in schema order,
 * smallest unsigned ints, float64 floats, ASCII worker ids). Anything else (another key
 * order, a missing or unknown key, a negative or huge int, an int where a float is, a
 * non-finite or negative float, non-ASCII text, a version other than 1, trailing bytes)
 * returns null and the general decoder (`fpm-decode.ts`, `envelope.ts`) gives the value or
 * the verdict. So this file decides nothing: it only skips work for the common case, and
 * test/codec/canonical-fast-path.test.ts checks it agrees with the general decoder on every
 * vector and on mutated input.
 */
import os from "node:os";
import {
  FPM_FIELDS,
  FPM_TOPIC,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
  type ForwardPassMetrics,
} from "../schema/forward-pass-metrics.js";
import { ENVELOPE_FIELDS } from "../schema/envelope.js";

/** The fixstr-encoded key, as bytes. */
function keyBytes(k: string): Uint8Array {
  const b = Buffer.from(k, "utf8");
  return Uint8Array.from([0xa0 | b.length, ...b]);
}

const TOP = FPM_FIELDS.map((f) => keyBytes(f.wire));
const SCHED = SCHEDULED_FIELDS.map((f) => keyBytes(f.wire));
const QUEUED = QUEUED_FIELDS.map((f) => keyBytes(f.wire));
const ENV = ENVELOPE_FIELDS.map((f) => keyBytes(f.wire));
const TOPIC = Buffer.from(FPM_TOPIC, "utf8");
const LITTLE_ENDIAN = os.endianness() === "LE";
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const TWO32 = 0x1_0000_0000;
/** Largest high word of a u64 that still fits in 2^53 - 1. */
const SAFE_HI = 0x1f_ffff;

/** A tiny cursor over one buffer; `bad` turns true at the first non-canonical byte. */
class Reader {
  pos = 0;
  bad = false;
  b: Uint8Array = new Uint8Array(0);

  /** Points the reader at `b` (one reader is reused: no allocation per message). */
  reset(b: Uint8Array): this {
    this.b = b;
    this.pos = 0;
    this.bad = false;
    return this;
  }

  key(k: Uint8Array): void {
    const b = this.b;
    const p = this.pos;
    if (p + k.length > b.length) {
      this.bad = true;
      return;
    }
    for (let i = 0; i < k.length; i++)
      if (b[p + i] !== k[i]) {
        this.bad = true;
        return;
      }
    this.pos = p + k.length;
  }

  /** Unsigned int up to 2^53 - 1; -1 (and bad) otherwise. */
  uint(): number {
    const b = this.b;
    const p = this.pos;
    if (p >= b.length) {
      this.bad = true;
      return -1;
    }
    const t = b[p];
    if (t <= 0x7f) {
      this.pos = p + 1;
      return t;
    }
    if (t === 0xcc && p + 2 <= b.length) {
      this.pos = p + 2;
      return b[p + 1];
    }
    if (t === 0xcd && p + 3 <= b.length) {
      this.pos = p + 3;
      return (b[p + 1] << 8) | b[p + 2];
    }
    if (t === 0xce && p + 5 <= b.length) {
      this.pos = p + 5;
      return this.u32(p + 1);
    }
    if (t === 0xcf && p + 9 <= b.length) {
      const hi = this.u32(p + 1);
      if (hi > SAFE_HI) {
        this.bad = true;
        return -1;
      }
      this.pos = p + 9;
      return hi * TWO32 + this.u32(p + 5);
    }
    this.bad = true;
    return -1;
  }

  private u32(p: number): number {
    const b = this.b;
    return b[p] * 0x100_0000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /** A float64 that is finite and >= 0; NaN (and bad) otherwise. */
  float(): number {
    const b = this.b;
    const p = this.pos;
    if (p + 9 > b.length || b[p] !== 0xcb || !LITTLE_ENDIAN) {
      this.bad = true;
      return NaN;
    }
    for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + 8 - i];
    const v = f64[0];
    if (!(v >= 0 && v !== Infinity)) {
      this.bad = true;
      return NaN;
    }
    this.pos = p + 9;
    return v;
  }

  /** An ASCII str (fixstr or str8); "" (and bad) otherwise. Repeated values come from a small cache. */
  ascii(): string {
    const b = this.b;
    let p = this.pos;
    if (p >= b.length) {
      this.bad = true;
      return "";
    }
    const t = b[p];
    let len: number;
    if ((t & 0xe0) === 0xa0) {
      len = t & 0x1f;
      p += 1;
    } else if (t === 0xd9 && p + 2 <= b.length) {
      len = b[p + 1];
      p += 2;
    } else {
      this.bad = true;
      return "";
    }
    if (p + len > b.length) {
      this.bad = true;
      return "";
    }
    // FNV-1a over the bytes, checking they are ASCII on the way.
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) {
      const c = b[p + i];
      if (c >= 0x80) {
        this.bad = true;
        return "";
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.pos = p + len;
    const hit = asciiCache.get(h);
    if (hit !== undefined && hit.length === len) {
      let same = true;
      for (let i = 0; i < len; i++)
        if (hit.charCodeAt(i) !== b[p + i]) {
          same = false;
          break;
        }
      // The same worker id string object each time: later map lookups reuse its cached hash.
      if (same) return hit;
    }
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(b[p + i]);
    if (asciiCache.size >= ASCII_CACHE_MAX) asciiCache.clear();
    asciiCache.set(h, s);
    return s;
  }
}

/** Decoded worker ids by hash of their bytes (verified byte for byte on a hit); bounded. */
const asciiCache = new Map<number, string>();
const ASCII_CACHE_MAX = 16_384;

const reader = new Reader();

/**
 * The canonical FPM payload, or null (the general decoder then decides). With `into`,
 * the fields are written into that object (only when the whole payload is canonical) and
 * it is returned: the hot loop reuses one object instead of allocating three per message.
 */
export function decodeCanonicalFpm(bytes: Uint8Array, into?: ForwardPassMetrics): ForwardPassMetrics | null {
  const r = reader.reset(bytes);
  if (bytes[0] !== 0x87) return null;
  r.pos = 1;
  r.key(TOP[0]);
  if (r.uint() !== 1) return null;
  r.key(TOP[1]);
  const workerId = r.ascii();
  r.key(TOP[2]);
  const dpRank = r.uint();
  r.key(TOP[3]);
  const counterId = r.uint();
  r.key(TOP[4]);
  const wallTimeS = r.float();
  r.key(TOP[5]);
  if (r.bad || bytes[r.pos] !== 0x87) return null;
  r.pos++;
  r.key(SCHED[0]);
  const sNumPrefill = r.uint();
  r.key(SCHED[1]);
  const sPrefillTokens = r.uint();
  r.key(SCHED[2]);
  const sVarPrefill = r.float();
  r.key(SCHED[3]);
  const sPrefillKv = r.uint();
  r.key(SCHED[4]);
  const sNumDecode = r.uint();
  r.key(SCHED[5]);
  const sDecodeKv = r.uint();
  r.key(SCHED[6]);
  const sVarDecode = r.float();
  r.key(TOP[6]);
  if (r.bad || bytes[r.pos] !== 0x86) return null;
  r.pos++;
  r.key(QUEUED[0]);
  const qNumPrefill = r.uint();
  r.key(QUEUED[1]);
  const qPrefillTokens = r.uint();
  r.key(QUEUED[2]);
  const qVarPrefill = r.float();
  r.key(QUEUED[3]);
  const qNumDecode = r.uint();
  r.key(QUEUED[4]);
  const qDecodeKv = r.uint();
  r.key(QUEUED[5]);
  const qVarDecode = r.float();
  if (r.bad || r.pos !== bytes.length) return null;
  if (into) {
    into.version = 1;
    into.workerId = workerId;
    into.dpRank = dpRank;
    into.counterId = counterId;
    into.wallTimeS = wallTimeS;
    const sr = into.scheduledRequests,
      qr = into.queuedRequests;
    sr.numPrefillRequests = sNumPrefill;
    sr.sumPrefillTokens = sPrefillTokens;
    sr.varPrefillLength = sVarPrefill;
    sr.sumPrefillKvTokens = sPrefillKv;
    sr.numDecodeRequests = sNumDecode;
    sr.sumDecodeKvTokens = sDecodeKv;
    sr.varDecodeKvTokens = sVarDecode;
    qr.numPrefillRequests = qNumPrefill;
    qr.sumPrefillTokens = qPrefillTokens;
    qr.varPrefillLength = qVarPrefill;
    qr.numDecodeRequests = qNumDecode;
    qr.sumDecodeKvTokens = qDecodeKv;
    qr.varDecodeKvTokens = qVarDecode;
    return into;
  }
  return {
    version: 1,
    workerId,
    dpRank,
    counterId,
    wallTimeS,
    scheduledRequests: {
      numPrefillRequests: sNumPrefill,
      sumPrefillTokens: sPrefillTokens,
      varPrefillLength: sVarPrefill,
      sumPrefillKvTokens: sPrefillKv,
      numDecodeRequests: sNumDecode,
      sumDecodeKvTokens: sDecodeKv,
      varDecodeKvTokens: sVarDecode,
    },
    queuedRequests: {
      numPrefillRequests: qNumPrefill,
      sumPrefillTokens: qPrefillTokens,
      varPrefillLength: qVarPrefill,
      numDecodeRequests: qNumDecode,
      sumDecodeKvTokens: qDecodeKv,
      varDecodeKvTokens: qVarDecode,
    },
  };
}

/** A canonical FPM envelope's fields as numbers (all within 2^53 - 1); the payload is a view into the input. */
export interface CanonicalEnvelope {
  publisherId: number;
  sequence: number;
  publishedAtMs: number;
  payload: Uint8Array;
}

/**
 * The canonical envelope with topic `forward-pass-metrics`, or null (the general decoder then
 * decides: another layout, another topic, or an id above 2^53 - 1).
 */
export function decodeCanonicalEnvelope(bytes: Uint8Array): CanonicalEnvelope | null {
  const r = reader.reset(bytes);
  if (bytes[0] !== 0x85) return null;
  r.pos = 1;
  r.key(ENV[0]);
  const publisherId = r.uint();
  r.key(ENV[1]);
  const sequence = r.uint();
  r.key(ENV[2]);
  const publishedAt = r.uint();
  r.key(ENV[3]);
  if (r.bad || bytes[r.pos] !== (0xa0 | TOPIC.length)) return null;
  let p = r.pos + 1;
  if (p + TOPIC.length > bytes.length) return null;
  for (let i = 0; i < TOPIC.length; i++) if (bytes[p + i] !== TOPIC[i]) return null;
  r.pos = p + TOPIC.length;
  r.key(ENV[4]);
  if (r.bad) return null;
  p = r.pos;
  const t = bytes[p];
  let len: number;
  if (t === 0xc4 && p + 2 <= bytes.length) {
    len = bytes[p + 1];
    p += 2;
  } else if (t === 0xc5 && p + 3 <= bytes.length) {
    len = (bytes[p + 1] << 8) | bytes[p + 2];
    p += 3;
  } else return null;
  if (p + len !== bytes.length) return null;
  return { publisherId, sequence, publishedAtMs: publishedAt, payload: bytes.subarray(p, p + len) };
}
