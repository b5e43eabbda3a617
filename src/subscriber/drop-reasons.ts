/**
 * Why the subscriber dropped a message; each reason has a counter:
 * - `envelope_decode`: the NATS message is not a well-formed msgpack envelope;
 * - `envelope_schema`: well-formed, but not an envelope (missing keys, wrong types);
 * - `wrong_topic`: the envelope's `topic` is not `forward-pass-metrics`;
 * - `payload_decode`: the FPM payload is not well-formed msgpack;
 * - `payload_schema`: the payload has the wrong shape;
 * - `payload_unsupported_version`: the payload's version is not 1;
 * - `payload_invalid_value`: the payload decodes but makes no physical sense (negative, NaN, infinite);
 * - `duplicate`: seen before: a `sequence` at or below its publisher's last (within
 *   `SEQUENCE_MAX_JUMP`; a relay publishes again what NATS did not confirm), or the
 *   engine's last `counter_id` again;
 * - `out_of_order`: a lower `counter_id` from another publisher than the engine's last;
 * - `engine_limit`: a new engine while `maxEngines` are tracked and none is on probation;
 * - ZMQ plane (`ZMQ_FRAME_REASONS`, before the envelope is read): `frame_count` (not 4
 *   frames), `frame_topic` (topic frame not `forward-pass-metrics`), `frame_ids` (id or
 *   sequence frame not 8 bytes), `frame_header` (last frame shorter than its header, or
 *   version not 1), `frame_length` (header length differs from what follows);
 * - `frame_id_mismatch`: ZMQ plane: the id or sequence frame differs from the envelope's;
 * - `unknown_publisher`: ZMQ plane: from a publisher with no discovery record (it left, or never registered).
 */
export const SUBSCRIBER_DROP_REASONS = [
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
] as const;
export type SubscriberDropReason = (typeof SUBSCRIBER_DROP_REASONS)[number];
