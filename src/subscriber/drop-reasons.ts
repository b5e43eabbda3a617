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
  | "engine_limit";

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
];
