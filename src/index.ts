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
export { decodeEnvelope, decodeEnvelopeView, encodeEnvelope, type EventEnvelopeView } from "./codec/envelope.js";

// Event plane (NATS subjects and connection)
export * from "./eventplane/subject.js";
export {
  addNatsCliOptions,
  connectNats,
  natsOptionsFromFlags,
  redactUrl,
  describeNatsAuth,
  EventPlaneConnection,
  NATS_ENV,
  DEFAULT_NATS_SERVER,
} from "./eventplane/connection.js";
export type {
  NatsConnectionOptions,
  NatsCliFlags,
  NatsConnectionState,
  NatsStatusEvent,
} from "./eventplane/connection.js";

// Event planes (NATS or ZMQ) and Dynamo's discovery
export { EVENT_PLANES, selectEventPlane, logEventPlane } from "./eventplane/plane-selection.js";
export type { EventPlaneKind, EventPlaneChoice } from "./eventplane/plane-selection.js";
export type { EnvelopeSource, EnvelopeSink, FrameIds, SourceDropReason } from "./eventplane/plane.js";
export { NatsEnvelopeSource } from "./eventplane/nats-plane.js";
export { ZmqEnvelopeSource, ZMQ_SOURCE_DEFAULTS } from "./eventplane/zmq-plane.js";
export type { ZmqEnvelopeSourceOptions, ZmqPublisherView } from "./eventplane/zmq-plane.js";
export { checkZmqFrames, encodeZmqFrames, ZMQ_FRAME_REASONS } from "./eventplane/zmq-frames.js";
export type { ZmqFrameReason } from "./eventplane/zmq-frames.js";
export { openEnvelopeSource } from "./eventplane/open-source.js";
export { discoveryFromEnv, openDiscovery, DEFAULT_ETCD_ENDPOINTS } from "./discovery/selection.js";
export type { DiscoveryConfig } from "./discovery/selection.js";
export type { DiscoveryStore, DiscoveryEvent, DiscoveryBackend } from "./discovery/store.js";
export { FileDiscoveryStore } from "./discovery/file-store.js";
export { EtcdDiscoveryStore } from "./discovery/etcd-store.js";
export { ModelCardWatch } from "./discovery/model-card-watch.js";
export { parseEventChannel, eventChannelJson, parseModelCard } from "./discovery/records.js";
export type { EventChannelRecord, ModelCard } from "./discovery/records.js";

// Engine side (ZMQ publisher, endpoints, frames)
export { FpmPublisher } from "./engine/publisher.js";
export type { FpmPublisherOptions, FpmPublisherStats, FpmFields } from "./engine/publisher.js";
export * from "./engine/endpoints.js";
export { encodeSeqFrame, decodeSeqFrame, FPM_FRAME_COUNT } from "./engine/frames.js";
export { heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./engine/heartbeat-interval.js";

// Relay (engine ZMQ -> event plane)
export { FpmEventRelay } from "./relay/relay.js";
export type { FpmEventRelayOptions } from "./relay/options.js";
export { RELAY_DEFAULTS, relayOptionsFromFlags } from "./relay/options.js";
export { resolveRelayEndpoints } from "./relay/endpoints.js";
export type { RelayEndpointSpec } from "./relay/endpoints.js";
export { RelayMetrics, RELAY_DROP_REASONS } from "./metrics/relay-metrics.js";
export type { RelayDropReason } from "./metrics/relay-metrics.js";

// Subscriber (event plane -> per-engine state)
export { FpmEventSubscriber } from "./subscriber/fpm-event-subscriber.js";
export type {
  FpmEventSubscriberOptions,
  FpmEventSubscriberStats,
  FpmMessage,
} from "./subscriber/fpm-event-subscriber.js";
export type { TrackedEngine, EngineEvent } from "./subscriber/tracked-engine.js";
export { SUBSCRIBER_DROP_REASONS } from "./subscriber/drop-reasons.js";
export type { SubscriberDropReason } from "./subscriber/drop-reasons.js";

// Planner (load-adjusting: models, decision rules, service, connectors)
export { FpmPlanner } from "./planner/fpm-planner.js";
export type { FpmPlannerOptions, PlannedComponent } from "./planner/fpm-planner.js";
export { ComponentPlanner, workerCountMatches } from "./planner/component-planner.js";
export type { ComponentPlannerOptions, EngineLatest, TickInput } from "./planner/component-planner.js";
export { DEFAULT_PLANNER_CONFIG, resolvePlannerConfig, checkComponentRequirements } from "./planner/planner-config.js";
export type { PlannerConfig, PlannerMode, OptimizationTarget } from "./planner/planner-config.js";
export { DECISION_REASONS } from "./planner/decision.js";
export type {
  PlannerDecision,
  DecisionReason,
  DecisionDirection,
  EngineEstimate,
  ModelSummary,
} from "./planner/decision.js";
export { PrefillModel } from "./planner/prefill-model.js";
export { DecodeModel } from "./planner/decode-model.js";
export { AggModel } from "./planner/agg-model.js";
export { RegressionModel, MIN_PREDICTION_S } from "./planner/regression-model.js";
export type { ModelKind, FitStatus, RegressionModelOptions } from "./planner/regression-model.js";
export { BucketedSampleStore } from "./planner/bucketed-samples.js";
export type { BucketedSampleStoreOptions, Sample } from "./planner/bucketed-samples.js";
export { fitOls } from "./planner/ols.js";
export type { OlsFit } from "./planner/ols.js";
export { MovingAverage } from "./planner/moving-average.js";
export {
  slaVerdict,
  thresholdVerdict,
  thresholdsFor,
  combineAggVerdicts,
  clampReplicas,
} from "./planner/decision-rules.js";
export { replayTrace } from "./planner/trace-replay.js";
export { VirtualConnector, plannerReplicasSubject } from "./planner/connectors/virtual-connector.js";
export type { VirtualConnectorOptions } from "./planner/connectors/virtual-connector.js";
export { CommandConnector } from "./planner/connectors/command-connector.js";
export type { CommandConnectorOptions } from "./planner/connectors/command-connector.js";
export type { ReplicaConnector, ComponentLiveness } from "./planner/connectors/replica-connector.js";
export { PlannerMetrics } from "./metrics/planner-metrics.js";

// Simulator (src/sim): engines without a GPU, load shapes, the recording format
export { SimulatedDeployment } from "./sim/deployment.js";
export type { SimulatedDeploymentOptions, ForwardPassEvent, WorkerEvent, EngineView } from "./sim/deployment.js";
export { EngineScheduler } from "./sim/engine-scheduler.js";
export type { EngineSchedulerOptions, IterationPlan } from "./sim/engine-scheduler.js";
export { CostModel } from "./sim/cost-model.js";
export type { CostModelOptions } from "./sim/cost-model.js";
export { RateArrivals, ListArrivals } from "./sim/arrivals.js";
export type { Arrival, ArrivalSource, RateArrivalsOptions, RequestLengths } from "./sim/arrivals.js";
export type { LoadShape } from "./sim/load-shape.js";
export { parseArrivalsNdjson } from "./sim/arrival-file.js";
export { SimulatedEngineFleet } from "./sim/engine-fleet.js";
export type { SimulatedEngineFleetOptions } from "./sim/engine-fleet.js";
export { RealtimeSimulation } from "./sim/realtime-runner.js";
export type { RealtimeSimulationOptions } from "./sim/realtime-runner.js";
export { PlannerFollower } from "./sim/planner-follower.js";
export type { PlannerFollowerOptions } from "./sim/planner-follower.js";
export { OfflinePlanner } from "./sim/offline-planner.js";
export type { OfflinePlannerOptions } from "./sim/offline-planner.js";
export { recordLine, parseRecordLine, readRecording } from "./sim/stream-recording.js";
export type { RecordedMessage } from "./sim/stream-recording.js";
