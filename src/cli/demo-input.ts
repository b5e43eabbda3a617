/**
 * The one place `fpm demo` reads what other processes print, each through its documented
 * structured form, into demo events: the planner's decision records (one JSON object per
 * stdout line, read by planner/decision-record.ts), the simulator's `--events` lines
 * (simulate-events.ts) and a relay's /metrics (prometheus-text.ts). Anything else (a log
 * line, a malformed object) is ignored.
 */
import { parseDecisionRecord } from "../planner/decision-record.js";
import { type PrometheusSample, sumByLabel, sumSamples } from "../util/prometheus-text.js";
import type { DemoEvent, RelayCounts } from "./demo-state.js";
import { parseSimulateEvent } from "./simulate-events.js";

/** A planner stdout line as an event (`decision`), at `atS` seconds into the demo; null when it is no decision record. */
export function plannerLineEvent(line: string, atS: number): Extract<DemoEvent, { type: "decision" }> | null {
  if (!line.startsWith("{")) return null;
  const r = parseDecisionRecord(line);
  return r.ok ? { type: "decision", atS, record: r.value } : null;
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
