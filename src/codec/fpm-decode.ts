/**
 * decodeFpm: msgpack bytes -> ForwardPassMetrics, with the reference decoder's semantics
 * (docs/design/wire-format.md section 2) plus this project's physical checks. Never throws.
 *
 * Order of verdicts follows msgspec: the first malformed byte (`decode`) or type mismatch
 * (`schema`) in stream order wins; only a fully decoded message is checked for its version,
 * and only a version-1 message for `invalid_value`.
 */
import {
  type FieldSpec,
  type ForwardPassMetrics,
  type QueuedRequestMetrics,
  type ScheduledRequestMetrics,
  FPM_FIELDS,
  FPM_VERSION,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
  defaultForwardPassMetrics,
} from "../schema/forward-pass-metrics.js";
import { decodeCanonicalFpm } from "./canonical-fast-path.js";
import { matchKey } from "./match-key.js";
import { encodedKey } from "./msgpack-writer.js";
import { CodecFailure, MsgpackCursor } from "./msgpack-cursor.js";
import type { DecodeResult } from "./result.js";

const encoder = new TextEncoder();

interface KeyTable {
  fields: readonly FieldSpec<string>[];
  keys: Uint8Array[];
  /** Each key with its msgpack str header, as an encoder writes it. */
  encoded: Uint8Array[];
  /** Error-detail path of each field, built once rather than per message. */
  paths: string[];
}

function keyTable(fields: readonly FieldSpec<string>[], parent: string): KeyTable {
  return {
    fields,
    keys: fields.map((f) => encoder.encode(f.wire)),
    encoded: fields.map((f) => encodedKey(f.wire)),
    paths: fields.map((f) => `${parent}.${f.wire}`),
  };
}

const TOP = keyTable(FPM_FIELDS, "$");
const SCHEDULED = keyTable(SCHEDULED_FIELDS, "$.scheduled_requests");
const QUEUED = keyTable(QUEUED_FIELDS, "$.queued_requests");

/** Reads any msgpack int as a double, without judging it (`c.exact` tells whether it is exact). */
function readAnyInt(c: MsgpackCursor, tag: number, path: string): number {
  c.exact = true;
  if (tag <= 0x7f) return tag;
  if (tag >= 0xe0) return tag - 0x100;
  switch (tag) {
    case 0xcc:
      return c.byte();
    case 0xcd:
      return c.u16();
    case 0xce:
      return c.u32();
    case 0xcf:
      return c.u64Number();
    case 0xd0:
      return (c.byte() << 24) >> 24;
    case 0xd1:
      return (c.u16() << 16) >> 16;
    case 0xd2:
      return c.u32() | 0;
    case 0xd3:
      return c.i64Number();
  }
  return c.mismatch(tag, path, "int");
}

/** An int field: counts, ranks and ids must be exact and not negative. */
function readInt(c: MsgpackCursor, path: string): number {
  const tag = c.byte();
  if (tag <= 0x7f) return tag; // the common case: a small count
  const v = readAnyInt(c, tag, path);
  if (c.invalid === null) {
    if (!c.exact) c.invalid = `${path} = ${v} exceeds 2^53-1 and cannot be held exactly`;
    else if (v < 0) c.invalid = `${path} = ${v} is negative`;
  }
  return v;
}

/** A float field: an int is accepted too; negative, NaN and infinite values are invalid. */
function readFloat(c: MsgpackCursor, path: string): number {
  const tag = c.byte();
  let v: number;
  if (tag === 0xcb) v = c.f64();
  else if (tag === 0xca) v = c.f32();
  else if (tag <= 0x7f) return tag;
  else if (tag === 0xc1 || (tag > 0x7f && tag < 0xcc) || (tag > 0xd3 && tag < 0xe0))
    return c.mismatch(tag, path, "float");
  else v = readAnyInt(c, tag, path); // an int where a float is expected; its exactness does not matter here
  if (c.invalid === null && !(v >= 0 && v !== Infinity))
    c.invalid = `${path} = ${v} is ${Number.isNaN(v) ? "NaN" : v < 0 ? "negative" : "infinite"}`;
  return v;
}

function readStr(c: MsgpackCursor, path: string): string {
  const tag = c.byte();
  const len = c.strLength(tag);
  if (len < 0) c.mismatch(tag, path, "str");
  return c.strBody(len);
}

/** Reads a map header for a nested struct at `path`. */
function readMapHeader(c: MsgpackCursor, path: string): number {
  const tag = c.byte();
  const n = c.mapLength(tag);
  if (n < 0) c.mismatch(tag, path, "map");
  return n;
}

/** Reads one key; returns the field index, or -1 for an unknown key (its value must then be skipped). */
function readKey(c: MsgpackCursor, table: KeyTable, hint: number, path: string): number {
  const buf = c.buf,
    p = c.pos;
  // Fast path: the key expected at this position, as a fixstr, byte for byte (encoders write schema order).
  const expected = table.encoded[hint];
  if (expected !== undefined && p + expected.length <= c.end) {
    let j = 0;
    while (j < expected.length && buf[p + j] === expected[j]) j++;
    if (j === expected.length) {
      c.pos = p + j;
      return hint;
    }
  }
  const tag = c.byte();
  const len = tag >= 0xa0 && tag <= 0xbf ? tag & 0x1f : c.strLength(tag);
  if (len < 0) c.mismatch(tag, `${path} map key`, "str");
  c.need(len);
  const start = c.pos;
  c.pos += len;
  return matchKey(buf, start, len, table.keys, hint);
}

// The nested structs are read with one case per field (named property writes, which V8
// keeps monomorphic) rather than a loop writing `obj[name]`.

function readScheduled(c: MsgpackCursor, s: ScheduledRequestMetrics): void {
  const n = readMapHeader(c, TOP.paths[5]);
  const p = SCHEDULED.paths;
  for (let k = 0; k < n; k++) {
    switch (readKey(c, SCHEDULED, k, TOP.paths[5])) {
      case 0:
        s.numPrefillRequests = readInt(c, p[0]);
        break;
      case 1:
        s.sumPrefillTokens = readInt(c, p[1]);
        break;
      case 2:
        s.varPrefillLength = readFloat(c, p[2]);
        break;
      case 3:
        s.sumPrefillKvTokens = readInt(c, p[3]);
        break;
      case 4:
        s.numDecodeRequests = readInt(c, p[4]);
        break;
      case 5:
        s.sumDecodeKvTokens = readInt(c, p[5]);
        break;
      case 6:
        s.varDecodeKvTokens = readFloat(c, p[6]);
        break;
      default:
        c.skipValue();
    }
  }
}

function readQueued(c: MsgpackCursor, q: QueuedRequestMetrics): void {
  const n = readMapHeader(c, TOP.paths[6]);
  const p = QUEUED.paths;
  for (let k = 0; k < n; k++) {
    switch (readKey(c, QUEUED, k, TOP.paths[6])) {
      case 0:
        q.numPrefillRequests = readInt(c, p[0]);
        break;
      case 1:
        q.sumPrefillTokens = readInt(c, p[1]);
        break;
      case 2:
        q.varPrefillLength = readFloat(c, p[2]);
        break;
      case 3:
        q.numDecodeRequests = readInt(c, p[3]);
        break;
      case 4:
        q.sumDecodeKvTokens = readInt(c, p[4]);
        break;
      case 5:
        q.varDecodeKvTokens = readFloat(c, p[5]);
        break;
      default:
        c.skipValue();
    }
  }
}

const cursor = new MsgpackCursor();

/**
 * Decodes and validates one FPM payload. Never throws.
 *
 * With `into`, the message is decoded into that object (it may be overwritten even when the
 * payload is rejected) instead of a new one: for hot loops that keep one object per engine.
 */
export function decodeFpm(bytes: Uint8Array, into?: ForwardPassMetrics): DecodeResult<ForwardPassMetrics> {
  const fast = decodeCanonicalFpm(bytes, into);
  if (fast !== null) return { ok: true, value: fast };
  return decodeFpmGeneral(bytes, into);
}

/** The general decoder: any key order, defaults, unknown keys, every verdict. Exported for the fast path's agreement test. */
export function decodeFpmGeneral(bytes: Uint8Array, into?: ForwardPassMetrics): DecodeResult<ForwardPassMetrics> {
  const c = cursor.reset(bytes);
  const fpm = into ? resetFpm(into) : defaultForwardPassMetrics();
  try {
    const n = readMapHeader(c, "$");
    for (let k = 0; k < n; k++) {
      const i = readKey(c, TOP, k, "$");
      switch (i) {
        case 0:
          fpm.version = readVersion(c);
          break;
        case 1:
          fpm.workerId = readStr(c, "$.worker_id");
          break;
        case 2:
          fpm.dpRank = readInt(c, "$.dp_rank");
          break;
        case 3:
          fpm.counterId = readInt(c, "$.counter_id");
          break;
        case 4:
          fpm.wallTimeS = readFloat(c, "$.wall_time");
          break;
        case 5:
          readScheduled(c, fpm.scheduledRequests);
          break;
        case 6:
          readQueued(c, fpm.queuedRequests);
          break;
        default:
          c.skipValue();
      }
    }
    if (c.pos !== c.end)
      return {
        ok: false,
        reason: "decode",
        detail: `${c.end - c.pos} trailing byte(s) after the message at byte ${c.pos}`,
      };
  } catch (e) {
    if (e instanceof CodecFailure) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "decode", detail: `unexpected decoder error: ${String(e)}` };
  }
  if (fpm.version !== FPM_VERSION)
    return {
      ok: false,
      reason: "unsupported_version",
      detail: `version ${fpm.version} is not supported (expected ${FPM_VERSION})`,
    };
  if (c.invalid !== null) return { ok: false, reason: "invalid_value", detail: c.invalid };
  return { ok: true, value: fpm };
}

/** The version is any int; only its value decides (unsupported_version), never its sign. */
function readVersion(c: MsgpackCursor): number {
  return readAnyInt(c, c.byte(), "$.version");
}

function resetFpm(f: ForwardPassMetrics): ForwardPassMetrics {
  f.version = FPM_VERSION;
  f.workerId = "";
  f.dpRank = 0;
  f.counterId = 0;
  f.wallTimeS = 0;
  const s = f.scheduledRequests,
    q = f.queuedRequests;
  s.numPrefillRequests =
    s.sumPrefillTokens =
    s.varPrefillLength =
    s.sumPrefillKvTokens =
    s.numDecodeRequests =
    s.sumDecodeKvTokens =
    s.varDecodeKvTokens =
      0;
  q.numPrefillRequests =
    q.sumPrefillTokens =
    q.varPrefillLength =
    q.numDecodeRequests =
    q.sumDecodeKvTokens =
    q.varDecodeKvTokens =
      0;
  return f;
}
