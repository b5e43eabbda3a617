/**
 * ForwardPassMetrics v1: the TypeScript view of `schemas/forward_pass_metrics.v1.schema.json`.
 *
 * The wire uses snake_case keys (msgspec field names); the TypeScript objects use the
 * `x-ts-name` of each field. The field tables below are the order-preserving bridge used
 * by the codec, and test/schema checks them against the JSON Schema so they cannot drift.
 */

export const FPM_VERSION = 1;
export const FPM_TOPIC = "forward-pass-metrics";

export type FieldKind = "int" | "float" | "str" | "scheduled" | "queued";

export interface FieldSpec<K extends string = string> {
  /** Key on the wire (msgpack str). */
  readonly wire: string;
  /** Property name on the TypeScript object. */
  readonly name: K;
  readonly kind: FieldKind;
}

export interface ScheduledRequestMetrics {
  numPrefillRequests: number;
  sumPrefillTokens: number;
  varPrefillLength: number;
  sumPrefillKvTokens: number;
  numDecodeRequests: number;
  sumDecodeKvTokens: number;
  varDecodeKvTokens: number;
}

export interface QueuedRequestMetrics {
  numPrefillRequests: number;
  sumPrefillTokens: number;
  varPrefillLength: number;
  numDecodeRequests: number;
  sumDecodeKvTokens: number;
  varDecodeKvTokens: number;
}

export interface ForwardPassMetrics {
  version: number;
  workerId: string;
  dpRank: number;
  counterId: number;
  /** Seconds this iteration took; 0 marks an idle heartbeat. */
  wallTimeS: number;
  scheduledRequests: ScheduledRequestMetrics;
  queuedRequests: QueuedRequestMetrics;
}

export const SCHEDULED_FIELDS: readonly FieldSpec<keyof ScheduledRequestMetrics>[] = [
  { wire: "num_prefill_requests", name: "numPrefillRequests", kind: "int" },
  { wire: "sum_prefill_tokens", name: "sumPrefillTokens", kind: "int" },
  { wire: "var_prefill_length", name: "varPrefillLength", kind: "float" },
  { wire: "sum_prefill_kv_tokens", name: "sumPrefillKvTokens", kind: "int" },
  { wire: "num_decode_requests", name: "numDecodeRequests", kind: "int" },
  { wire: "sum_decode_kv_tokens", name: "sumDecodeKvTokens", kind: "int" },
  { wire: "var_decode_kv_tokens", name: "varDecodeKvTokens", kind: "float" },
];

export const QUEUED_FIELDS: readonly FieldSpec<keyof QueuedRequestMetrics>[] = [
  { wire: "num_prefill_requests", name: "numPrefillRequests", kind: "int" },
  { wire: "sum_prefill_tokens", name: "sumPrefillTokens", kind: "int" },
  { wire: "var_prefill_length", name: "varPrefillLength", kind: "float" },
  { wire: "num_decode_requests", name: "numDecodeRequests", kind: "int" },
  { wire: "sum_decode_kv_tokens", name: "sumDecodeKvTokens", kind: "int" },
  { wire: "var_decode_kv_tokens", name: "varDecodeKvTokens", kind: "float" },
];

export const FPM_FIELDS: readonly FieldSpec<keyof ForwardPassMetrics>[] = [
  { wire: "version", name: "version", kind: "int" },
  { wire: "worker_id", name: "workerId", kind: "str" },
  { wire: "dp_rank", name: "dpRank", kind: "int" },
  { wire: "counter_id", name: "counterId", kind: "int" },
  { wire: "wall_time", name: "wallTimeS", kind: "float" },
  { wire: "scheduled_requests", name: "scheduledRequests", kind: "scheduled" },
  { wire: "queued_requests", name: "queuedRequests", kind: "queued" },
];

export function emptyScheduled(): ScheduledRequestMetrics {
  return {
    numPrefillRequests: 0,
    sumPrefillTokens: 0,
    varPrefillLength: 0,
    sumPrefillKvTokens: 0,
    numDecodeRequests: 0,
    sumDecodeKvTokens: 0,
    varDecodeKvTokens: 0,
  };
}

export function emptyQueued(): QueuedRequestMetrics {
  return {
    numPrefillRequests: 0,
    sumPrefillTokens: 0,
    varPrefillLength: 0,
    numDecodeRequests: 0,
    sumDecodeKvTokens: 0,
    varDecodeKvTokens: 0,
  };
}

/** A message with every field at its schema default (an unstamped, idle heartbeat of rank 0). */
export function defaultForwardPassMetrics(): ForwardPassMetrics {
  return {
    version: FPM_VERSION,
    workerId: "",
    dpRank: 0,
    counterId: 0,
    wallTimeS: 0,
    scheduledRequests: emptyScheduled(),
    queuedRequests: emptyQueued(),
  };
}

/** A fresh copy of `fpm` (nested objects too). */
export function cloneFpm(fpm: ForwardPassMetrics): ForwardPassMetrics {
  return { ...fpm, scheduledRequests: { ...fpm.scheduledRequests }, queuedRequests: { ...fpm.queuedRequests } };
}

/** Copies every field of `from` into `to` (nested objects included), in place: for hot loops that keep one object per engine. */
export function copyFpmInto(from: ForwardPassMetrics, to: ForwardPassMetrics): ForwardPassMetrics {
  to.version = from.version;
  to.workerId = from.workerId;
  to.dpRank = from.dpRank;
  to.counterId = from.counterId;
  to.wallTimeS = from.wallTimeS;
  // Field by field: several times faster than Object.assign on this hot path.
  const fs = from.scheduledRequests,
    ts = to.scheduledRequests;
  ts.numPrefillRequests = fs.numPrefillRequests;
  ts.sumPrefillTokens = fs.sumPrefillTokens;
  ts.varPrefillLength = fs.varPrefillLength;
  ts.sumPrefillKvTokens = fs.sumPrefillKvTokens;
  ts.numDecodeRequests = fs.numDecodeRequests;
  ts.sumDecodeKvTokens = fs.sumDecodeKvTokens;
  ts.varDecodeKvTokens = fs.varDecodeKvTokens;
  const fq = from.queuedRequests,
    tq = to.queuedRequests;
  tq.numPrefillRequests = fq.numPrefillRequests;
  tq.sumPrefillTokens = fq.sumPrefillTokens;
  tq.varPrefillLength = fq.varPrefillLength;
  tq.numDecodeRequests = fq.numDecodeRequests;
  tq.sumDecodeKvTokens = fq.sumDecodeKvTokens;
  tq.varDecodeKvTokens = fq.varDecodeKvTokens;
  return to;
}

/** True for an idle heartbeat: an iteration that did no work. */
export function isHeartbeat(fpm: ForwardPassMetrics): boolean {
  return fpm.wallTimeS === 0;
}

/** Converts to the wire's snake_case JSON shape (what msgspec's `to_builtins` gives). */
export function toWireObject(fpm: ForwardPassMetrics): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FPM_FIELDS) {
    if (f.kind === "scheduled") out[f.wire] = mapFields(fpm.scheduledRequests, SCHEDULED_FIELDS);
    else if (f.kind === "queued") out[f.wire] = mapFields(fpm.queuedRequests, QUEUED_FIELDS);
    else out[f.wire] = fpm[f.name];
  }
  return out;
}

function mapFields<T extends object>(value: T, fields: readonly FieldSpec<string>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.wire] = (value as Record<string, unknown>)[f.name];
  return out;
}
