/** Why the subscriber dropped a message; each reason has a counter. */
export type SubscriberDropReason =
  /** The NATS message is not a well-formed msgpack envelope. */
  | "envelope_decode"
  /** Well-formed, but not an envelope (missing keys, wrong types). */
  | "envelope_schema"
  /** The envelope's `topic` is not `forward-pass-metrics`. */
  | "wrong_topic"
  /** The FPM payload is not well-formed msgpack. */
  | "payload_decode"
  /** The payload has the wrong shape. */
  | "payload_schema"
  /** The payload's version is not 1. */
  | "payload_unsupported_version"
  /** The payload decodes but makes no physical sense (negative, NaN, infinite). */
  | "payload_invalid_value"
  /** Seen before: same `(publisher_id, sequence)`, or the engine's last `counter_id` again. */
  | "duplicate"
  /** Older than what was already accepted (lower sequence, or lower `counter_id` from another publisher). */
  | "out_of_order"
  /** A new engine while `maxEngines` are tracked. */
  | "engine_limit"
  /** ZMQ plane: not exactly 4 frames. */
  | "frame_count"
  /** ZMQ plane: the topic frame is not `forward-pass-metrics`. */
  | "frame_topic"
  /** ZMQ plane: the publisher id or sequence frame is not 8 bytes. */
  | "frame_ids"
  /** ZMQ plane: the last frame is shorter than its header, or the header version is not 1. */
  | "frame_header"
  /** ZMQ plane: the header's length differs from the bytes that follow. */
  | "frame_length"
  /** ZMQ plane: the id or sequence frame differs from the envelope's `publisher_id` / `sequence`. */
  | "frame_id_mismatch"
  /** ZMQ plane: from a publisher with no discovery record (it left, or never registered). */
  | "unknown_publisher";

export const SUBSCRIBER_DROP_REASONS: readonly SubscriberDropReason[] = [
  "envelope_decode",
  "envelope_schema",
  "wrong_topic",
  "payload_decode",
  "payload_schema",
  "payload_unsupported_version",
  "payload_invalid_value",
  "duplicate",
  "out_of_order",
  "engine_limit",
  "frame_count",
  "frame_topic",
  "frame_ids",
  "frame_header",
  "frame_length",
  "frame_id_mismatch",
  "unknown_publisher",
];
