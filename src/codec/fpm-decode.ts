/**
 * decodeFpm: msgpack bytes -> ForwardPassMetrics, with the reference decoder's semantics
 * (WIRE.md section 2) plus this project's physical checks. Never throws.
 *
 * Order of verdicts follows msgspec: the first malformed byte (`decode`) or type mismatch
 * (`schema`) in stream order wins; only a fully decoded message is checked for its version,
 * and only a version-1 message for `invalid_value`.
 */
import {
  type FieldSpec,
  type ForwardPassMetrics,
  FPM_FIELDS,
  FPM_VERSION,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
  emptyQueued,
  emptyScheduled,
} from "../schema/forward-pass-metrics.js";
import { CodecFailure, MsgpackCursor } from "./msgpack-cursor.js";
import type { DecodeResult } from "./result.js";

const encoder = new TextEncoder();

interface KeyTable {
  fields: readonly FieldSpec<string>[];
  keys: Uint8Array[];
  /** Error-detail path of each field, built once rather than per message. */
  paths: string[];
}

function keyTable(fields: readonly FieldSpec<string>[], parent: string): KeyTable {
  return { fields, keys: fields.map((f) => encoder.encode(f.wire)), paths: fields.map((f) => `${parent}.${f.wire}`) };
}

const TOP = keyTable(FPM_FIELDS, "$");
const SCHEDULED = keyTable(SCHEDULED_FIELDS, "$.scheduled_requests");
const QUEUED = keyTable(QUEUED_FIELDS, "$.queued_requests");

/** Per-decode state: the first invalid value seen, reported only if nothing worse is found. */
interface DecodeState {
  invalid: string | null;
}

/** Index of the field whose key is `len` bytes at `start`, or -1. Tries `hint` (the in-order guess) first. */
function findField(buf: Uint8Array, start: number, len: number, table: KeyTable, hint: number): number {
  const keys = table.keys;
  const n = keys.length;
  for (let k = 0; k < n; k++) {
    const i = (hint + k) % n;
    const key = keys[i];
    if (key.length !== len) continue;
    let j = 0;
    while (j < len && buf[start + j] === key[j]) j++;
    if (j === len) return i;
  }
  return -1;
}

function readInt(c: MsgpackCursor, path: string, st: DecodeState): number {
  const tag = c.byte();
  if (tag <= 0x7f) return tag;
  if (tag >= 0xe0) return noteInvalid(st, path, tag - 0x100);
  switch (tag) {
    case 0xcc: return c.byte();
    case 0xcd: return c.u16();
    case 0xce: return c.u32();
    case 0xcf: {
      const { value, safe } = c.u64Number();
      if (!safe && st.invalid === null) st.invalid = `${path} = ${value} exceeds 2^53-1 and cannot be held exactly`;
      return value;
    }
    case 0xd0: return noteInvalid(st, path, (c.byte() << 24) >> 24);
    case 0xd1: return noteInvalid(st, path, (c.u16() << 16) >> 16);
    case 0xd2: return noteInvalid(st, path, c.u32() | 0);
    case 0xd3: {
      const { value, safe } = c.i64Number();
      if (!safe && st.invalid === null) st.invalid = `${path} = ${value} is outside the exact integer range`;
      return noteInvalid(st, path, value);
    }
  }
  return c.mismatch(tag, path, "int");
}

function noteInvalid(st: DecodeState, path: string, value: number): number {
  if (value < 0 && st.invalid === null) st.invalid = `${path} = ${value} is negative`;
  return value;
}

function readFloat(c: MsgpackCursor, path: string, st: DecodeState): number {
  const tag = c.byte();
  let v: number;
  if (tag === 0xcb) v = c.f64();
  else if (tag === 0xca) v = c.f32();
  else if (tag <= 0x7f) return tag;
  else if (tag >= 0xe0) v = tag - 0x100;
  else if (tag >= 0xcc && tag <= 0xd3) {
    c.pos--;
    // An int is accepted where a float is expected; range problems are float problems here.
    const scratch: DecodeState = { invalid: null };
    v = readInt(c, path, scratch);
  } else {
    return c.mismatch(tag, path, "float");
  }
  if (st.invalid === null && !(v >= 0 && v !== Infinity)) st.invalid = `${path} = ${v} is ${Number.isNaN(v) ? "NaN" : v < 0 ? "negative" : "infinite"}`;
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
  const tag = c.byte();
  const len = c.strLength(tag);
  if (len < 0) c.mismatch(tag, `${path} map key`, "str");
  c.need(len);
  const start = c.pos;
  c.pos += len;
  return findField(c.buf, start, len, table, hint);
}

function readNested<T extends object>(c: MsgpackCursor, table: KeyTable, target: T, path: string, st: DecodeState): void {
  const n = readMapHeader(c, path);
  const out = target as Record<string, number>;
  for (let k = 0; k < n; k++) {
    const i = readKey(c, table, k, path);
    if (i < 0) {
      c.skipValue();
      continue;
    }
    const f = table.fields[i];
    out[f.name] = f.kind === "int" ? readInt(c, table.paths[i], st) : readFloat(c, table.paths[i], st);
  }
}

/** Decodes and validates one FPM payload. Never throws. */
export function decodeFpm(bytes: Uint8Array): DecodeResult<ForwardPassMetrics> {
  const c = new MsgpackCursor(bytes);
  const st: DecodeState = { invalid: null };
  const fpm: ForwardPassMetrics = {
    version: FPM_VERSION,
    workerId: "",
    dpRank: 0,
    counterId: 0,
    wallTimeS: 0,
    scheduledRequests: emptyScheduled(),
    queuedRequests: emptyQueued(),
  };
  try {
    const n = readMapHeader(c, "$");
    for (let k = 0; k < n; k++) {
      const i = readKey(c, TOP, k, "$");
      switch (i) {
        case 0: fpm.version = readVersion(c); break;
        case 1: fpm.workerId = readStr(c, "$.worker_id"); break;
        case 2: fpm.dpRank = readInt(c, "$.dp_rank", st); break;
        case 3: fpm.counterId = readInt(c, "$.counter_id", st); break;
        case 4: fpm.wallTimeS = readFloat(c, "$.wall_time", st); break;
        case 5: readNested(c, SCHEDULED, fpm.scheduledRequests, TOP.paths[5], st); break;
        case 6: readNested(c, QUEUED, fpm.queuedRequests, TOP.paths[6], st); break;
        default: c.skipValue();
      }
    }
    if (c.pos !== c.end) return { ok: false, reason: "decode", detail: `${c.end - c.pos} trailing byte(s) after the message at byte ${c.pos}` };
  } catch (e) {
    if (e instanceof CodecFailure) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "decode", detail: `unexpected decoder error: ${String(e)}` };
  }
  if (fpm.version !== FPM_VERSION) return { ok: false, reason: "unsupported_version", detail: `version ${fpm.version} is not supported (expected ${FPM_VERSION})` };
  if (st.invalid !== null) return { ok: false, reason: "invalid_value", detail: st.invalid };
  return { ok: true, value: fpm };
}

/** The version is any int; only its value decides (unsupported_version), never its sign. */
function readVersion(c: MsgpackCursor): number {
  const scratch: DecodeState = { invalid: null };
  return readInt(c, "$.version", scratch);
}
