/** What the subscriber keeps per engine `(component, worker_id, dp_rank)`. */
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";

export interface TrackedEngine {
  /** Component from the subject (percent-decoded). */
  component: string;
  workerId: string;
  dpRank: number;
  /** Latest accepted message. */
  fpm: ForwardPassMetrics;
  /** Local time (ms) of the latest accepted message. */
  lastSeenMs: number;
  /**
   * Publisher (relay) of the latest accepted message: a number when it fits in 2^53 - 1
   * (newer runtimes always), else the exact bigint (older runtimes used the full u64 range).
   */
  publisherId: number | bigint;
  /** Envelope sequence of the latest accepted message. */
  sequence: number;
  /** Accepted messages from this engine. */
  messages: number;
  /** Times its `counter_id` went back to a new epoch near 0, confirmed by the message after (an engine restart). */
  restarts: number;
}

/** Lifecycle of a tracked engine, reported to `onEngineEvent` listeners. */
export interface EngineEvent {
  /** `evicted`: an engine on probation made room for a new one in a full table. */
  type: "added" | "expired" | "removed" | "restarted" | "evicted";
  component: string;
  workerId: string;
  dpRank: number;
}
