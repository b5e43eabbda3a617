/**
 * fpm: the public surface. Everything a library user needs is exported here; files not
 * re-exported are internal.
 */

// Schema and codec
export * from "./schema/forward-pass-metrics.js";
export * from "./schema/envelope.js";
export { ForwardPassMetricsJson, fpmFromJson } from "./schema/zod.js";
export type { DecodeResult, FpmRejectReason, EnvelopeRejectReason } from "./codec/result.js";
export { FPM_REJECT_REASONS } from "./codec/result.js";
export { decodeFpm } from "./codec/fpm-decode.js";
export { encodeFpm, FpmEncodeError } from "./codec/fpm-encode.js";
export { decodeEnvelope, encodeEnvelope } from "./codec/envelope.js";

// Event plane (NATS subjects and connection)
export * from "./eventplane/subject.js";
export { addNatsCliOptions, connectNats, natsOptionsFromFlags, redactUrl, describeNatsAuth, EventPlaneConnection, NATS_ENV, DEFAULT_NATS_SERVER } from "./eventplane/connection.js";
export type { NatsConnectionOptions, NatsCliFlags, NatsConnectionState, NatsStatusEvent } from "./eventplane/connection.js";

// Engine side (ZMQ publisher, endpoints, frames)
export { FpmPublisher } from "./engine/publisher.js";
export type { FpmPublisherOptions, FpmPublisherStats, FpmFields } from "./engine/publisher.js";
export * from "./engine/endpoints.js";
export { encodeSeqFrame, decodeSeqFrame, FPM_FRAME_COUNT } from "./engine/frames.js";
export { heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./engine/heartbeat-interval.js";

// Relay (engine ZMQ -> NATS event plane)
export { FpmEventRelay } from "./relay/relay.js";
export type { FpmEventRelayOptions } from "./relay/options.js";
export { RELAY_DEFAULTS, relayOptionsFromFlags } from "./relay/options.js";
export { resolveRelayEndpoints } from "./relay/endpoints.js";
export type { RelayEndpointSpec } from "./relay/endpoints.js";
export { RelayMetrics, RELAY_DROP_REASONS } from "./metrics/relay-metrics.js";
export type { RelayDropReason } from "./metrics/relay-metrics.js";
