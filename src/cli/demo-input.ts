/**
 * The one place `fpm demo` reads what other processes print, each through its documented
 * structured form, into demo events: the planner's decision records (one JSON object per
 * stdout line), the simulator's `--events` lines (simulate-events.ts) and a relay's
 * /metrics (prometheus-text.ts). Anything else (a log line, a malformed object) is ignored.
 */
import { type PrometheusSample, sumByLabel, sumSamples } from "../util/prometheus-text.js";
import type { DemoDecisionRecord, DemoEvent, RelayCounts } from "./demo-state.js";
import { parseJsonObjectLine } from "./io.js";
import { parseSimulateEvent } from "./simulate-events.js";

const DIRECTIONS = ["up", "down", "hold"];

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isOptionalNumber = (v: unknown) => v === undefined || (typeof v === "number" && Number.isFinite(v));

function isEngineEstimate(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.workerId === "string" && isCount(e.dpRank) && isOptionalNumber(e.ttftMs) && isOptionalNumber(e.itlMs);
}

/** The fields of a planner decision record the demo needs, or null when `line` is not one. */
export function parseDecisionRecord(line: string): DemoDecisionRecord | null {
  const d = parseJsonObjectLine(line);
  if (!d) return null;
  const engines = d.engines ?? [];
  if (!isCount(d.replicas) || !isCount(d.desired) || typeof d.reason !== "string") return null;
  if (!DIRECTIONS.includes(d.direction as string) || !Array.isArray(engines) || !engines.every(isEngineEstimate))
    return null;
  return { ...(d as unknown as DemoDecisionRecord), engines: engines as DemoDecisionRecord["engines"] };
}

/** A planner stdout line as an event (`decision`), at `atS` seconds into the demo. */
export function plannerLineEvent(line: string, atS: number): Extract<DemoEvent, { type: "decision" }> | null {
  const record = parseDecisionRecord(line);
  return record ? { type: "decision", atS, record } : null;
}

/** A simulator stdout line as an event. */
export function simulatorLineEvent(line: string): Extract<DemoEvent, { type: "simulator" }> | null {
  const event = parseSimulateEvent(line);
  return event ? { type: "simulator", event } : null;
}

/** A relay's counters from its /metrics samples. */
export function relayCountsFrom(samples: readonly PrometheusSample[]): RelayCounts {
  return {
    forwarded: sumSamples(samples, "fpm_relay_forwarded_total"),
    lost: sumSamples(samples, "fpm_relay_lost_total"),
    dropped: sumByLabel(samples, "fpm_relay_dropped_total", "reason"),
  };
}
