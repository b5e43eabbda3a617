/**
 * fpm: the public surface, one export per line. Everything a library user needs is here,
 * with every type its signatures use; a module not listed is internal, and command-line
 * glue (flag parsing, commander) stays in src/cli. test/api/public-api.txt records this
 * list: a change to it is a change to the API (see CONTRIBUTING.md, "The public API").
 */

// Schema: the FPM payload and the event envelope
export { FPM_VERSION } from "./schema/forward-pass-metrics.js";
export { FPM_TOPIC } from "./schema/forward-pass-metrics.js";
export { SCHEDULED_FIELDS } from "./schema/forward-pass-metrics.js";
export { QUEUED_FIELDS } from "./schema/forward-pass-metrics.js";
export { FPM_FIELDS } from "./schema/forward-pass-metrics.js";
export { emptyScheduled } from "./schema/forward-pass-metrics.js";
export { emptyQueued } from "./schema/forward-pass-metrics.js";
export { defaultForwardPassMetrics } from "./schema/forward-pass-metrics.js";
export { cloneFpm } from "./schema/forward-pass-metrics.js";
export { copyFpmInto } from "./schema/forward-pass-metrics.js";
export { isHeartbeat } from "./schema/forward-pass-metrics.js";
export { toWireObject } from "./schema/forward-pass-metrics.js";
export type { ForwardPassMetrics } from "./schema/forward-pass-metrics.js";
export type { ScheduledRequestMetrics } from "./schema/forward-pass-metrics.js";
export type { QueuedRequestMetrics } from "./schema/forward-pass-metrics.js";
export type { FieldSpec } from "./schema/forward-pass-metrics.js";
export type { FieldKind } from "./schema/forward-pass-metrics.js";
export { ENVELOPE_FIELDS } from "./schema/envelope.js";
export { U64_MAX } from "./schema/envelope.js";
export { MAX_SAFE_PUBLISHER_ID } from "./schema/envelope.js";
export type { EventEnvelope } from "./schema/envelope.js";
export { ForwardPassMetricsJson } from "./schema/zod.js";
export { fpmFromJson } from "./schema/zod.js";

// Codec: msgpack bytes <-> FPM and envelopes, rejections as reasons
export { decodeFpm } from "./codec/fpm-decode.js";
export { encodeFpm } from "./codec/fpm-encode.js";
export { decodeEnvelope } from "./codec/envelope.js";
export { decodeEnvelopeView } from "./codec/envelope.js";
export { encodeEnvelope } from "./codec/envelope.js";
export type { EventEnvelopeView } from "./codec/envelope.js";
export { FPM_REJECT_REASONS } from "./codec/result.js";
export type { DecodeResult } from "./codec/result.js";
export type { FpmRejectReason } from "./codec/result.js";
export type { EnvelopeRejectReason } from "./codec/result.js";

// Errors, logging and the package version
export { ConfigError } from "./util/errors.js";
export { UsageError } from "./util/errors.js";
export { NatsConnectError } from "./util/errors.js";
export { LifecycleError } from "./util/errors.js";
export { FpmEncodeError } from "./util/errors.js";
export { errors } from "./util/errors.js";
export { Logger } from "./util/log.js";
export type { LoggerOptions } from "./util/log.js";
export type { LogLevel } from "./util/log.js";
export type { LogFields } from "./util/log.js";
export { PACKAGE_VERSION } from "./util/version.js";

// Event plane: NATS subjects and the connection
export { DEFAULT_NAMESPACE } from "./eventplane/subject.js";
export { DEFAULT_COMPONENT } from "./eventplane/subject.js";
export { DEFAULT_ENDPOINT } from "./eventplane/subject.js";
export { encodeSubjectSegment } from "./eventplane/subject.js";
export { resolveFpmScope } from "./eventplane/subject.js";
export { fpmSubject } from "./eventplane/subject.js";
export { fpmSubscriptionSubject } from "./eventplane/subject.js";
export { fpmSubscriptionSubjects } from "./eventplane/subject.js";
export type { FpmSubjectScope } from "./eventplane/subject.js";
export type { FpmSubscriptionScope } from "./eventplane/subject.js";
export { connectNats } from "./eventplane/connection.js";
export { natsOptionsFromEnv } from "./eventplane/connection.js";
export { redactUrl } from "./eventplane/connection.js";
export { describeNatsAuth } from "./eventplane/connection.js";
export { EventPlaneConnection } from "./eventplane/connection.js";
export { NATS_ENV } from "./eventplane/connection.js";
export { DEFAULT_NATS_SERVER } from "./eventplane/connection.js";
export type { NatsConnectionOptions } from "./eventplane/connection.js";
export type { NatsConnectionState } from "./eventplane/connection.js";
export type { NatsStatusEvent } from "./eventplane/connection.js";

// Engine side: the ZMQ publisher, endpoints and frames
export { FpmPublisher } from "./engine/publisher.js";
export type { FpmPublisherOptions } from "./engine/publisher.js";
export type { FpmPublisherStats } from "./engine/publisher.js";
export type { FpmFields } from "./engine/publisher.js";
export { DEFAULT_FPM_BASE_PORT } from "./engine/endpoints.js";
export { MIN_FPM_PORT } from "./engine/endpoints.js";
export { MAX_FPM_PORT } from "./engine/endpoints.js";
export { MAX_IPC_PATH_BYTES } from "./engine/endpoints.js";
export { vllmEndpoint } from "./engine/endpoints.js";
export { sglangEndpoint } from "./engine/endpoints.js";
export { parseTcpEndpoint } from "./engine/endpoints.js";
export { checkZmqEndpoint } from "./engine/endpoints.js";
export { checkFpmPort } from "./engine/endpoints.js";
export type { FpmEndpoint } from "./engine/endpoints.js";
export { encodeSeqFrame } from "./engine/frames.js";
export { decodeSeqFrame } from "./engine/frames.js";
export { FPM_FRAME_COUNT } from "./engine/frames.js";
export { heartbeatIntervalMs } from "./engine/heartbeat-interval.js";
export { DEFAULT_HEARTBEAT_INTERVAL_MS } from "./engine/heartbeat-interval.js";

// Relay: engine ZMQ -> the event plane
export { FpmEventRelay } from "./relay/relay.js";
export { RELAY_DEFAULTS } from "./relay/options.js";
export type { FpmEventRelayOptions } from "./relay/options.js";
export { resolveRelayEndpoints } from "./relay/endpoints.js";
export type { RelayEndpointSpec } from "./relay/endpoints.js";
export { RelayMetrics } from "./metrics/relay-metrics.js";
export { RELAY_DROP_REASONS } from "./metrics/relay-metrics.js";
export type { RelayDropReason } from "./metrics/relay-metrics.js";
export type { RelayRankCounters } from "./metrics/relay-metrics.js";
export type { HealthReport } from "./metrics/http-server.js";

// Subscriber: the event plane -> per-engine state
export { FpmEventSubscriber } from "./subscriber/fpm-event-subscriber.js";
export { componentOfSubject } from "./subscriber/fpm-event-subscriber.js";
export type { FpmEventSubscriberOptions } from "./subscriber/fpm-event-subscriber.js";
export type { FpmEventSubscriberStats } from "./subscriber/fpm-event-subscriber.js";
export type { FpmMessage } from "./subscriber/fpm-event-subscriber.js";
export type { TrackedEngine } from "./subscriber/tracked-engine.js";
export type { EngineEvent } from "./subscriber/tracked-engine.js";
export { SUBSCRIBER_DROP_REASONS } from "./subscriber/drop-reasons.js";
export type { SubscriberDropReason } from "./subscriber/drop-reasons.js";

// Planner: models, decision rules, the service and its connectors
export { FpmPlanner } from "./planner/fpm-planner.js";
export type { FpmPlannerOptions } from "./planner/fpm-planner.js";
export type { PlannedComponent } from "./planner/fpm-planner.js";
export { ComponentPlanner } from "./planner/component-planner.js";
export { workerCountMatches } from "./planner/component-planner.js";
export type { ComponentPlannerOptions } from "./planner/component-planner.js";
export type { EngineLatest } from "./planner/component-planner.js";
export type { TickInput } from "./planner/component-planner.js";
export { DEFAULT_PLANNER_CONFIG } from "./planner/planner-config.js";
export { resolvePlannerConfig } from "./planner/planner-config.js";
export { checkComponentRequirements } from "./planner/planner-config.js";
export type { PlannerConfig } from "./planner/planner-config.js";
export type { PlannerMode } from "./planner/planner-config.js";
export type { OptimizationTarget } from "./planner/planner-config.js";
export type { ParityRules } from "./planner/planner-config.js";
export type { DeploymentMode } from "./planner/planner-config.js";
export { OPTIMIZATION_TARGETS } from "./planner/planner-config.js";
export { PLANNER_MODES } from "./planner/planner-config.js";
export { PARITY_RULES } from "./planner/planner-config.js";
export { DEPLOYMENT_MODES } from "./planner/planner-config.js";
export { DECISION_REASONS } from "./planner/decision.js";
export { DECISION_RULES } from "./planner/decision.js";
export type { PlannerDecision } from "./planner/decision.js";
export type { DecisionReason } from "./planner/decision.js";
export type { DecisionRule } from "./planner/decision.js";
export type { DecisionDirection } from "./planner/decision.js";
export type { EngineEstimate } from "./planner/decision.js";
export type { ModelSummary } from "./planner/decision.js";
export { PrefillModel } from "./planner/prefill-model.js";
export { DecodeModel } from "./planner/decode-model.js";
export { AggModel } from "./planner/agg-model.js";
export { RegressionModel } from "./planner/regression-model.js";
export { MIN_PREDICTION_S } from "./planner/regression-model.js";
export type { ModelKind } from "./planner/regression-model.js";
export type { FitStatus } from "./planner/regression-model.js";
export type { RegressionModelOptions } from "./planner/regression-model.js";
export { BucketedSampleStore } from "./planner/bucketed-samples.js";
export type { BucketedSampleStoreOptions } from "./planner/bucketed-samples.js";
export type { Sample } from "./planner/bucketed-samples.js";
export { fitOls } from "./planner/ols.js";
export type { OlsFit } from "./planner/ols.js";
export { MovingAverage } from "./planner/moving-average.js";
export { slaVerdict } from "./planner/decision-rules.js";
export { thresholdVerdict } from "./planner/decision-rules.js";
export { thresholdsFor } from "./planner/decision-rules.js";
export { combineAggVerdicts } from "./planner/decision-rules.js";
export { clampReplicas } from "./planner/decision-rules.js";
export type { RuleVerdict } from "./planner/decision-rules.js";
export type { Thresholds } from "./planner/decision-rules.js";
export type { EnginePerfEstimate } from "./planner/parity/perf-estimate.js";
export type { EnginePerfEstimateOptions } from "./planner/parity/perf-estimate.js";
export type { PrefillQuery } from "./planner/parity/perf-estimate.js";
export type { DecodeQuery } from "./planner/parity/perf-estimate.js";
export { replayTrace } from "./planner/trace-replay.js";
export { VirtualConnector } from "./planner/connectors/virtual-connector.js";
export { plannerReplicasSubject } from "./planner/connectors/virtual-connector.js";
export type { VirtualConnectorOptions } from "./planner/connectors/virtual-connector.js";
export { CommandConnector } from "./planner/connectors/command-connector.js";
export type { CommandConnectorOptions } from "./planner/connectors/command-connector.js";
export type { CommandRun } from "./planner/connectors/command-connector.js";
export type { ReplicaConnector } from "./planner/connectors/replica-connector.js";
export type { ComponentLiveness } from "./planner/connectors/replica-connector.js";
export { PlannerMetrics } from "./metrics/planner-metrics.js";

// Simulator: engines without a GPU, load shapes, the recording format
export { SimulatedDeployment } from "./sim/deployment.js";
export type { SimulatedDeploymentOptions } from "./sim/deployment.js";
export type { ForwardPassEvent } from "./sim/deployment.js";
export type { WorkerEvent } from "./sim/deployment.js";
export type { WorkerEventKind } from "./sim/deployment.js";
export type { EngineView } from "./sim/deployment.js";
export type { DeploymentTotals } from "./sim/deployment.js";
export type { EventQueue } from "./sim/event-queue.js";
export { EngineScheduler } from "./sim/engine-scheduler.js";
export type { EngineSchedulerOptions } from "./sim/engine-scheduler.js";
export type { IterationPlan } from "./sim/engine-scheduler.js";
export type { IterationOutcome } from "./sim/engine-scheduler.js";
export type { EnqueueResult } from "./sim/engine-scheduler.js";
export type { ScheduledEntry } from "./sim/engine-scheduler.js";
export type { SimRequest } from "./sim/sim-request.js";
export { CostModel } from "./sim/cost-model.js";
export type { CostModelOptions } from "./sim/cost-model.js";
export { RateArrivals } from "./sim/arrivals.js";
export { ListArrivals } from "./sim/arrivals.js";
export type { Arrival } from "./sim/arrivals.js";
export type { ArrivalSource } from "./sim/arrivals.js";
export type { RateArrivalsOptions } from "./sim/arrivals.js";
export type { RequestLengths } from "./sim/arrivals.js";
export type { LoadShape } from "./sim/load-shape.js";
export { parseArrivalsNdjson } from "./sim/arrival-file.js";
export type { ParsedArrivals } from "./sim/arrival-file.js";
export type { LineProblem } from "./sim/arrival-file.js";
export { SimulatedEngineFleet } from "./sim/engine-fleet.js";
export type { SimulatedEngineFleetOptions } from "./sim/engine-fleet.js";
export { RealtimeSimulation } from "./sim/realtime-runner.js";
export type { RealtimeSimulationOptions } from "./sim/realtime-runner.js";
export { PlannerFollower } from "./sim/planner-follower.js";
export type { PlannerFollowerOptions } from "./sim/planner-follower.js";
export { OfflinePlanner } from "./sim/offline-planner.js";
export type { OfflinePlannerOptions } from "./sim/offline-planner.js";
export { recordLine } from "./sim/stream-recording.js";
export { parseRecordLine } from "./sim/stream-recording.js";
export { readRecording } from "./sim/stream-recording.js";
export type { RecordedMessage } from "./sim/stream-recording.js";
