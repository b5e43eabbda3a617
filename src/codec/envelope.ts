/**
 * The event-plane envelope (docs/design/wire-format.md section 4.3): encode in Dynamo's key order,
 * decode with u64 fields kept exact as bigint. Never throws on decode.
 */
import { ENVELOPE_FIELDS, type EventEnvelope, U64_MAX } from "../schema/envelope.js";
import { CodecFailure, MsgpackCursor } from "./msgpack-cursor.js";
import { MsgpackWriter, encodedKey } from "./msgpack-writer.js";
import { matchKey } from "./match-key.js";
import { decodeCanonicalEnvelope } from "./canonical-fast-path.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { DecodeResult, EnvelopeRejectReason } from "./result.js";

const KEYS = ENVELOPE_FIELDS.map((f) => encodedKey(f.wire));
/** The keys' UTF-8 bytes without their msgpack header, for matching. */
const KEYS_RAW = ENVELOPE_FIELDS.map((f) => new TextEncoder().encode(f.wire));
const KEY_STRINGS = ENVELOPE_FIELDS.map((f) => f.wire as string);
const writer = new MsgpackWriter(1024);

/** Encodes an envelope; `payload` is copied in unchanged. */
export function encodeEnvelope(env: EventEnvelope): Uint8Array {
  if (env.publisherId < 0n || env.publisherId > U64_MAX) throw new RangeError("publisherId must be a u64");
  const w = writer.reset();
  w.mapHeader(5);
  w.raw(KEYS[0]);
  w.uint64(env.publisherId);
  w.raw(KEYS[1]);
  w.uint64(env.sequence);
  w.raw(KEYS[2]);
  w.uint64(env.publishedAtMs);
  w.raw(KEYS[3]);
  w.str(env.topic);
  w.raw(KEYS[4]);
  w.bin(env.payload);
  return w.finish();
}

/** A u64 as a number when it is at most 2^53-1 (nearly always), else as an exact bigint. */
function readU64(c: MsgpackCursor, path: string): number | bigint {
  const tag = c.byte();
  if (tag <= 0x7f) return tag;
  switch (tag) {
    case 0xcc:
      return c.byte();
    case 0xcd:
      return c.u16();
    case 0xce:
      return c.u32();
    case 0xcf: {
      const at = c.pos;
      const v = c.u64Number();
      if (c.exact) return v;
      c.pos = at;
      return c.u64BigInt();
    }
  }
  const negative = tag >= 0xe0 || (tag >= 0xd0 && tag <= 0xd3);
  if (negative) return c.fail("schema", `${path}: expected u64, got a negative int`);
  return c.mismatch(tag, path, "u64");
}

const cursor = new MsgpackCursor();

/**
 * An envelope as the hot path reads it: u64 fields are numbers when they fit 2^53-1 and
 * exact bigints otherwise, and one object can be reused from message to message.
 */
export interface EventEnvelopeView {
  publisherId: number | bigint;
  sequence: number | bigint;
  publishedAtMs: number | bigint;
  topic: string;
  /** A view into the decoded bytes (no copy). */
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Decodes an envelope into `into` (or a new object), with the same verdicts as
 * `decodeEnvelope`. For loops that handle many envelopes and rarely see ids above 2^53.
 */
export function decodeEnvelopeView(
  bytes: Uint8Array,
  into?: EventEnvelopeView,
): DecodeResult<EventEnvelopeView, EnvelopeRejectReason> {
  const fast = decodeCanonicalEnvelope(bytes);
  if (fast !== null) {
    const v: EventEnvelopeView = into ?? { publisherId: 0, sequence: 0, publishedAtMs: 0, topic: "", payload: EMPTY };
    v.publisherId = fast.publisherId;
    v.sequence = fast.sequence;
    v.publishedAtMs = fast.publishedAtMs;
    v.topic = FPM_TOPIC;
    v.payload = fast.payload;
    return { ok: true, value: v };
  }
  return decodeEnvelopeGeneral(bytes, into);
}

/** The general envelope decoder: any key order, unknown keys, every verdict. Exported for the fast path's agreement test. */
export function decodeEnvelopeGeneral(
  bytes: Uint8Array,
  into?: EventEnvelopeView,
): DecodeResult<EventEnvelopeView, EnvelopeRejectReason> {
  const c = cursor.reset(bytes);
  let seen = 0;
  const v: EventEnvelopeView = into ?? { publisherId: 0, sequence: 0, publishedAtMs: 0, topic: "", payload: EMPTY };
  try {
    const tag = c.byte();
    const n = c.mapLength(tag);
    if (n < 0) c.mismatch(tag, "$", "map");
    for (let k = 0; k < n; k++) {
      const kt = c.byte();
      const len = kt >= 0xa0 && kt <= 0xbf ? kt & 0x1f : c.strLength(kt);
      if (len < 0) c.mismatch(kt, "$ map key", "str");
      c.need(len);
      const at = c.pos;
      c.pos += len;
      const i = matchKey(bytes, at, len, KEYS_RAW, k);
      switch (i) {
        case 0:
          v.publisherId = readU64(c, "$.publisher_id");
          break;
        case 1:
          v.sequence = readU64(c, "$.sequence");
          break;
        case 2:
          v.publishedAtMs = readU64(c, "$.published_at");
          break;
        case 3: {
          const t = c.byte();
          const l = c.strLength(t);
          if (l < 0) c.mismatch(t, "$.topic", "str");
          v.topic = c.strBody(l);
          break;
        }
        case 4: {
          const t = c.byte();
          const l = c.binLength(t);
          if (l < 0) c.mismatch(t, "$.payload", "bin");
          c.need(l);
          v.payload = bytes.subarray(c.pos, c.pos + l);
          c.pos += l;
          break;
        }
        default:
          c.skipValue();
      }
      if (i >= 0) seen |= 1 << i;
    }
    if (c.pos !== c.end)
      return {
        ok: false,
        reason: "decode",
        detail: `${c.end - c.pos} trailing byte(s) after the envelope at byte ${c.pos}`,
      };
  } catch (e) {
    if (e instanceof CodecFailure) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "decode", detail: `unexpected decoder error: ${String(e)}` };
  }
  if (seen !== 0b11111) {
    const missing = KEY_STRINGS.filter((_, i) => (seen & (1 << i)) === 0);
    return { ok: false, reason: "schema", detail: `$: missing ${missing.join(", ")}` };
  }
  return { ok: true, value: v };
}

/**
 * Decodes an envelope, with exact bigint u64 fields. The returned `payload` is a view into
 * `bytes` (no copy): copy it if `bytes` will be reused. Missing keys are a schema error;
 * unknown keys are skipped.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodeResult<EventEnvelope, EnvelopeRejectReason> {
  const r = decodeEnvelopeView(bytes);
  if (!r.ok) return r;
  const v = r.value;
  return {
    ok: true,
    value: {
      publisherId: BigInt(v.publisherId),
      sequence: BigInt(v.sequence),
      publishedAtMs: BigInt(v.publishedAtMs),
      topic: v.topic,
      payload: v.payload,
    },
  };
}
