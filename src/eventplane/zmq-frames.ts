/**
 * The four frames of one message on Dynamo's ZMQ event plane (docs/design/event-planes.md):
 * `[topic, publisher_id u64 BE, sequence u64 BE, 0x01 + u32 BE length + envelope]`. The
 * envelope is the same msgpack map as over NATS. `checkZmqFrames` is what a subscriber runs
 * on each message: frame count, topic, id/seq frame sizes, header version and length; that
 * the id and seq frames match the envelope is checked once the envelope is decoded.
 */
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";

export const ZMQ_FRAME_COUNT = 4;
export const ZMQ_FRAME_VERSION = 0x01;
/** Version byte + u32 length. */
export const ZMQ_HEADER_BYTES = 5;
const TOPIC_BYTES = Buffer.from(FPM_TOPIC, "utf8");

/**
 * Why a ZMQ message was dropped before its envelope was read:
 * - `frame_count`: not exactly 4 frames.
 * - `frame_topic`: the topic frame is not `forward-pass-metrics`.
 * - `frame_ids`: the publisher id or sequence frame is not 8 bytes.
 * - `frame_header`: the last frame is shorter than its header, or its version is not 1.
 * - `frame_length`: the header's length differs from the bytes that follow it.
 * (`frame_id_mismatch`, counted by the subscriber: id or seq frame differs from the envelope.)
 */
export const ZMQ_FRAME_REASONS = ["frame_count", "frame_topic", "frame_ids", "frame_header", "frame_length"] as const;
export type ZmqFrameReason = (typeof ZMQ_FRAME_REASONS)[number];

function u64Frame(v: bigint | number): Buffer {
  const b = Buffer.allocUnsafe(8);
  if (typeof v === "bigint") b.writeBigUInt64BE(v);
  else {
    b.writeUInt32BE(Math.floor(v / 0x1_0000_0000), 0);
    b.writeUInt32BE(v >>> 0, 4);
  }
  return b;
}

/**
 * A u64 frame as a number when it is at most 2^53-1 (nearly always), else the exact bigint:
 * the same rule as the envelope decoder, so the two compare with `===`.
 */
function readU64(f: Uint8Array): number | bigint {
  const hi = ((f[0] << 24) >>> 0) + (f[1] << 16) + (f[2] << 8) + f[3];
  const lo = ((f[4] << 24) >>> 0) + (f[5] << 16) + (f[6] << 8) + f[7];
  if (hi < 0x200000) return hi * 0x1_0000_0000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The key a publisher id has in maps and comparisons (see `readU64`). */
export function publisherKey(id: bigint): number | bigint {
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
}

/** The frames carrying `envelope`, as a Dynamo publisher sends them. */
export function encodeZmqFrames(publisherIdFrame: Buffer, sequence: number, envelope: Uint8Array): Buffer[] {
  const last = Buffer.allocUnsafe(ZMQ_HEADER_BYTES + envelope.length);
  last[0] = ZMQ_FRAME_VERSION;
  last.writeUInt32BE(envelope.length, 1);
  last.set(envelope, ZMQ_HEADER_BYTES);
  return [TOPIC_BYTES, publisherIdFrame, u64Frame(sequence), last];
}

/** The id frame of a publisher, made once per publisher. */
export function publisherIdFrame(publisherId: bigint): Buffer {
  return u64Frame(publisherId);
}

export type ZmqFrameCheck =
  | { ok: true; publisherId: number | bigint; sequence: number | bigint; envelope: Uint8Array }
  | { ok: false; reason: ZmqFrameReason; detail: string };

/** Checks the frames of one message; never throws. */
export function checkZmqFrames(frames: readonly Uint8Array[]): ZmqFrameCheck {
  if (frames.length !== ZMQ_FRAME_COUNT)
    return { ok: false, reason: "frame_count", detail: `${frames.length} frame(s), expected ${ZMQ_FRAME_COUNT}` };
  const [topic, id, seq, body] = frames;
  if (!TOPIC_BYTES.equals(topic))
    return {
      ok: false,
      reason: "frame_topic",
      detail: `topic ${JSON.stringify(Buffer.from(topic.subarray(0, 64)).toString("utf8"))}`,
    };
  if (id.length !== 8 || seq.length !== 8)
    return {
      ok: false,
      reason: "frame_ids",
      detail: `id frame ${id.length} byte(s), seq frame ${seq.length}, expected 8`,
    };
  if (body.length < ZMQ_HEADER_BYTES)
    return { ok: false, reason: "frame_header", detail: `last frame of ${body.length} byte(s) has no header` };
  if (body[0] !== ZMQ_FRAME_VERSION)
    return { ok: false, reason: "frame_header", detail: `header version ${body[0]}, expected ${ZMQ_FRAME_VERSION}` };
  const length = ((body[1] << 24) >>> 0) + (body[2] << 16) + (body[3] << 8) + body[4];
  if (length !== body.length - ZMQ_HEADER_BYTES)
    return {
      ok: false,
      reason: "frame_length",
      detail: `header says ${length} byte(s), ${body.length - ZMQ_HEADER_BYTES} follow`,
    };
  return { ok: true, publisherId: readU64(id), sequence: readU64(seq), envelope: body.subarray(ZMQ_HEADER_BYTES) };
}
