/** Builds ForwardPassMetrics for planner tests from the few fields a test cares about. */
import {
  defaultForwardPassMetrics,
  type ForwardPassMetrics,
  type QueuedRequestMetrics,
  type ScheduledRequestMetrics,
} from "../../src/schema/forward-pass-metrics.js";

export interface FpmFields {
  workerId?: string;
  dpRank?: number;
  counterId?: number;
  wallTimeS?: number;
  scheduled?: Partial<ScheduledRequestMetrics>;
  queued?: Partial<QueuedRequestMetrics>;
}

export function fpm(f: FpmFields = {}): ForwardPassMetrics {
  const d = defaultForwardPassMetrics();
  return {
    ...d,
    workerId: f.workerId ?? "w1",
    dpRank: f.dpRank ?? 0,
    counterId: f.counterId ?? 0,
    wallTimeS: f.wallTimeS ?? 0,
    scheduledRequests: { ...d.scheduledRequests, ...f.scheduled },
    queuedRequests: { ...d.queuedRequests, ...f.queued },
  };
}
