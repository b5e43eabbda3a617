/**
 * The JSON records of Dynamo's discovery that fpm reads and writes (docs/design/event-planes.md):
 * EventChannel records (one per event publisher) and model deployment cards. Ids go up to
 * 2^64-1, beyond what a JS number holds, so they are read from the JSON text exactly and
 * kept as bigint (or as the decimal string that FPM's `worker_id` carries).
 */
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { DiscoveryScope } from "./keys.js";

/** How subscribers reach a publisher: its ZMQ endpoint, or (NATS plane) the subject prefix. */
export type EventChannelTransport = { kind: "Zmq"; endpoint: string } | { kind: "Nats"; subjectPrefix: string };

/**
 * One publisher's record. Only endpoint scope is written and read: it is what Dynamo 1.6.1
 * registers (component scope exists on the NATS plane only, for older runtimes).
 */
export interface EventChannelRecord {
  scope: Required<DiscoveryScope>;
  topic: string;
  /** The publisher id, equal to the envelopes' `publisher_id`. */
  instanceId: bigint;
  transport: EventChannelTransport;
}

/** The EventChannel record's JSON, compact and in Dynamo's key order. */
export function eventChannelJson(r: EventChannelRecord): string {
  const scope = {
    kind: "endpoint",
    endpoint: { namespace: r.scope.namespace, component: r.scope.component, name: r.scope.endpoint },
  };
  const transport =
    r.transport.kind === "Zmq"
      ? { kind: "Zmq", config: { endpoint: r.transport.endpoint } }
      : { kind: "Nats", config: { subject_prefix: r.transport.subjectPrefix } };
  // instance_id is spliced in as digits: JSON.stringify cannot write a u64 exactly.
  return JSON.stringify({ type: "EventChannel", scope, topic: r.topic, instance_id: 0, transport }).replace(
    '"instance_id":0',
    `"instance_id":${r.instanceId.toString()}`,
  );
}

/** The first `"instance_id":<digits>` in a record's text, exactly; null when absent. */
export function exactInstanceId(text: string): bigint | null {
  const m = /"instance_id"\s*:\s*(\d{1,20})\b/.exec(text);
  if (!m) return null;
  const v = BigInt(m[1]);
  return v < 1n << 64n ? v : null;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Why a record was not taken; the text says what was wrong. */
export type RecordResult<T> = { ok: true; value: T } | { ok: false; detail: string };

/** Parses an EventChannel record (any key order, unknown keys ignored). */
export function parseEventChannel(text: string): RecordResult<EventChannelRecord> {
  let v: Record<string, unknown> | undefined;
  try {
    v = obj(JSON.parse(text));
  } catch (err) {
    return { ok: false, detail: `not JSON: ${(err as Error).message}` };
  }
  if (v?.type !== "EventChannel") return { ok: false, detail: "not an EventChannel record" };
  const topic = str(v.topic);
  if (topic === undefined) return { ok: false, detail: "no topic" };
  const s = obj(v.scope);
  let scope: Required<DiscoveryScope> | undefined;
  if (s?.kind === "endpoint") {
    const e = obj(s.endpoint);
    const [namespace, component, endpoint] = [str(e?.namespace), str(e?.component), str(e?.name)];
    if (namespace !== undefined && component !== undefined && endpoint !== undefined)
      scope = { namespace, component, endpoint };
  }
  if (!scope) return { ok: false, detail: `scope ${JSON.stringify(s?.kind)} is not an endpoint scope` };
  const instanceId = exactInstanceId(text);
  if (instanceId === null) return { ok: false, detail: "no u64 instance_id" };
  const t = obj(v.transport);
  const config = obj(t?.config);
  let transport: EventChannelTransport | undefined;
  if (t?.kind === "Zmq" && str(config?.endpoint) !== undefined)
    transport = { kind: "Zmq", endpoint: str(config?.endpoint)! };
  else if (t?.kind === "Nats" && str(config?.subject_prefix) !== undefined)
    transport = { kind: "Nats", subjectPrefix: str(config?.subject_prefix)! };
  if (!transport) return { ok: false, detail: "transport is neither Zmq with an endpoint nor Nats" };
  return { ok: true, value: { scope, topic, instanceId, transport } };
}

/** True for an FPM record of `scope`'s namespace (and component, when `components` is not empty). */
export function isFpmChannelOf(r: EventChannelRecord, namespace: string, components: readonly string[]): boolean {
  return (
    r.topic === FPM_TOPIC &&
    r.scope.namespace === namespace &&
    (components.length === 0 || components.includes(r.scope.component))
  );
}

/** What the planner takes from a model card: the worker, and the engine's facts when given. */
export interface ModelCard {
  namespace: string;
  component: string;
  endpoint: string;
  /** Decimal instance id: the `worker_id` the worker's FPM carries. */
  workerId: string;
  displayName?: string;
  /** `worker_type`: `aggregated`, `prefill`, `decode`, ... */
  workerType?: string;
  maxNumBatchedTokens?: number;
  contextLength?: number;
  /** `total_kv_blocks` x `kv_cache_block_size`, when both are known. */
  maxKvTokens?: number;
  maxNumSeqs?: number;
  dataParallelSize?: number;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Parses a model card record (`{"type":"Model",...,"card_json":{...}}`). */
export function parseModelCard(text: string): RecordResult<ModelCard> {
  let v: Record<string, unknown> | undefined;
  try {
    v = obj(JSON.parse(text));
  } catch (err) {
    return { ok: false, detail: `not JSON: ${(err as Error).message}` };
  }
  if (v?.type !== "Model") return { ok: false, detail: "not a model card" };
  const [namespace, component, endpoint] = [str(v.namespace), str(v.component), str(v.endpoint)];
  if (namespace === undefined || component === undefined || endpoint === undefined)
    return { ok: false, detail: "no namespace/component/endpoint" };
  const instanceId = exactInstanceId(text);
  if (instanceId === null) return { ok: false, detail: "no u64 instance_id" };
  const card = obj(v.card_json) ?? {};
  const rc = obj(card.runtime_config) ?? {};
  const blocks = positiveInt(rc.total_kv_blocks);
  const blockSize = positiveInt(card.kv_cache_block_size);
  return {
    ok: true,
    value: {
      namespace,
      component,
      endpoint,
      workerId: instanceId.toString(),
      displayName: str(card.display_name),
      workerType: str(card.worker_type),
      maxNumBatchedTokens: positiveInt(rc.max_num_batched_tokens),
      contextLength: positiveInt(rc.context_length) ?? positiveInt(card.context_length),
      maxKvTokens: blocks !== undefined && blockSize !== undefined ? blocks * blockSize : undefined,
      maxNumSeqs: positiveInt(rc.max_num_seqs),
      dataParallelSize: positiveInt(rc.data_parallel_size),
    },
  };
}
