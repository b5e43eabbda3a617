/**
 * The three ZMQ frames of one FPM message (docs/design/wire-format.md section 3):
 * `[b"" (empty topic), seq as u64 big-endian, payload]`.
 */

export const FPM_FRAME_COUNT = 3;
export const EMPTY_TOPIC: Uint8Array = new Uint8Array(0);

/** Encodes a sequence number (0..2^53-1) as the 8-byte big-endian frame. */
export function encodeSeqFrame(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 0);
  b.writeUInt32BE(seq >>> 0, 4);
  return b;
}

/**
 * Reads the seq frame; a frame that is not exactly 8 bytes gives -1. Values above 2^53
 * lose precision as a number, which only matters for counting gaps, never for forwarding.
 */
export function decodeSeqFrame(frame: Uint8Array): number {
  if (frame.length !== 8) return -1;
  const hi = ((frame[0] << 24) >>> 0) + (frame[1] << 16) + (frame[2] << 8) + frame[3];
  const lo = ((frame[4] << 24) >>> 0) + (frame[5] << 16) + (frame[6] << 8) + frame[7];
  return hi * 0x1_0000_0000 + lo;
}
