/**
 * zod schemas for ForwardPassMetrics in its wire (snake_case JSON) shape: what `fpm decode`
 * prints and `fpm encode` reads. Defaults and int/float kinds mirror the JSON Schema in
 * `schemas/`; test/schema checks the two agree field by field.
 */
import { z } from "zod";
import type { ForwardPassMetrics } from "./forward-pass-metrics.js";

const count = () => z.int().min(0).default(0);
const variance = () => z.number().min(0).default(0);

export const ScheduledRequestMetricsJson = z.object({
  num_prefill_requests: count(),
  sum_prefill_tokens: count(),
  var_prefill_length: variance(),
  sum_prefill_kv_tokens: count(),
  num_decode_requests: count(),
  sum_decode_kv_tokens: count(),
  var_decode_kv_tokens: variance(),
});

export const QueuedRequestMetricsJson = z.object({
  num_prefill_requests: count(),
  sum_prefill_tokens: count(),
  var_prefill_length: variance(),
  num_decode_requests: count(),
  sum_decode_kv_tokens: count(),
  var_decode_kv_tokens: variance(),
});

export const ForwardPassMetricsJson = z.object({
  version: z.literal(1).default(1),
  worker_id: z.string().default(""),
  dp_rank: count(),
  counter_id: count(),
  wall_time: variance(),
  scheduled_requests: ScheduledRequestMetricsJson.default(() => ScheduledRequestMetricsJson.parse({})),
  queued_requests: QueuedRequestMetricsJson.default(() => QueuedRequestMetricsJson.parse({})),
});

export type ForwardPassMetricsJson = z.infer<typeof ForwardPassMetricsJson>;

/** Parses wire-shaped JSON (missing fields default) into a ForwardPassMetrics, or throws a ZodError. */
export function fpmFromJson(json: unknown): ForwardPassMetrics {
  const w = ForwardPassMetricsJson.parse(json);
  const s = w.scheduled_requests;
  const q = w.queued_requests;
  return {
    version: w.version,
    workerId: w.worker_id,
    dpRank: w.dp_rank,
    counterId: w.counter_id,
    wallTimeS: w.wall_time,
    scheduledRequests: {
      numPrefillRequests: s.num_prefill_requests,
      sumPrefillTokens: s.sum_prefill_tokens,
      varPrefillLength: s.var_prefill_length,
      sumPrefillKvTokens: s.sum_prefill_kv_tokens,
      numDecodeRequests: s.num_decode_requests,
      sumDecodeKvTokens: s.sum_decode_kv_tokens,
      varDecodeKvTokens: s.var_decode_kv_tokens,
    },
    queuedRequests: {
      numPrefillRequests: q.num_prefill_requests,
      sumPrefillTokens: q.sum_prefill_tokens,
      varPrefillLength: q.var_prefill_length,
      numDecodeRequests: q.num_decode_requests,
      sumDecodeKvTokens: q.sum_decode_kv_tokens,
      varDecodeKvTokens: q.var_decode_kv_tokens,
    },
  };
}
