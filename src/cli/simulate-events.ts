/**
 * The contract of `fpm simulate --events`: one JSON object per stdout line, each with `time`
 * (ISO 8601) and `event`. `fpm simulate` writes them through these types and `fpm demo`
 * reads them back through `parseSimulateEvent`, so neither side guesses at the other's
 * fields. Keys are snake_case, as in the logs.
 */
import { parseJsonObjectLine } from "./io.js";

export const SIMULATE_EVENT_KINDS = [
  "worker_starting",
  "worker_ready",
  "worker_draining",
  "worker_stopped",
  "scale",
  "status",
  "summary",
] as const;
export type SimulateEventKind = (typeof SIMULATE_EVENT_KINDS)[number];

/** A worker slot changed state: starting (its engines bind), ready (it takes requests), draining (no new requests), stopped. */
export interface SimulateWorkerEvent {
  event: "worker_starting" | "worker_ready" | "worker_draining" | "worker_stopped";
  worker_id: string;
  slot: number;
  simulated_s: number;
  /** The ZMQ endpoints its engines bind, one per dp rank. */
  endpoints: string[];
}

/** `--follow-planner` changed the worker count. */
export interface SimulateScaleEvent {
  event: "scale";
  from: number;
  to: number;
  reason: string;
}

/** Totals of the run so far. */
export interface SimulateStatus {
  simulated_s: number;
  workers: number;
  ready_workers: number;
  arrivals: number;
  finished: number;
  rejected: number;
  preemptions: number;
  forward_passes: number;
  /** FPM messages the engines published, and those their publishers dropped (queue full). */
  published: number;
  dropped: number;
  /** Requests waiting and running over every engine, now. */
  waiting: number;
  running: number;
}

/** `status` every `--status-interval`; `summary` once, at the end. */
export interface SimulateStatusEvent extends SimulateStatus {
  event: "status" | "summary";
}

/** Any line `fpm simulate --events` prints, without its `time`. */
export type SimulateEventBody = SimulateWorkerEvent | SimulateScaleEvent | SimulateStatusEvent;
export type SimulateEvent = SimulateEventBody & { time: string };

const STATUS_FIELDS = [
  "simulated_s",
  "workers",
  "ready_workers",
  "arrivals",
  "finished",
  "rejected",
  "preemptions",
  "forward_passes",
  "published",
  "dropped",
  "waiting",
  "running",
] as const satisfies readonly (keyof SimulateStatus)[];

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function wellFormed(o: Record<string, unknown>): boolean {
  switch (o.event) {
    case "worker_starting":
    case "worker_ready":
    case "worker_draining":
    case "worker_stopped":
      return (
        typeof o.worker_id === "string" &&
        Number.isInteger(o.slot) &&
        isNumber(o.simulated_s) &&
        Array.isArray(o.endpoints) &&
        o.endpoints.every((e) => typeof e === "string")
      );
    case "scale":
      return isNumber(o.from) && isNumber(o.to) && typeof o.reason === "string";
    case "status":
    case "summary":
      return STATUS_FIELDS.every((k) => isNumber(o[k]));
    default:
      return false;
  }
}

/** Reads one stdout line of `fpm simulate --events`; null for anything else (log text, a malformed object). */
export function parseSimulateEvent(line: string): SimulateEvent | null {
  const rec = parseJsonObjectLine(line);
  return rec && typeof rec.time === "string" && wellFormed(rec) ? (rec as unknown as SimulateEvent) : null;
}
