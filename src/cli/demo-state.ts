/**
 * What `fpm demo` knows about the pipeline it runs, as one immutable state changed only by
 * typed events through `applyDemoEvent`: the clock, the engines' latest FPM (from the
 * library's subscriber), the planner's decision records, the simulator's `--events` lines
 * and the relays' counters. Pure functions, so every transition is tested without a
 * process; the orchestrator (demo-run.ts) turns what it observes into events.
 */
import type { DecisionDirection, EngineEstimate, PredictedFigures } from "../planner/decision.js";
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import type { SimulateEvent, SimulateStatus } from "./simulate-events.js";

/** The run as the flags set it. */
export interface DemoSettings {
  durationS: number;
  workers: number;
  dpRanks: number;
  maxWorkers: number;
  baseRate: number;
  stepRate: number;
  stepAt: number;
  stepUntil: number;
  intervalS: number;
  ttftMs: number;
  itlMs: number;
  startupDelayS: number;
  seed: number;
}

/**
 * The fields of a planner decision record (PlannerDecision) the demo reads. `reason` is any
 * string: a newer planner may give reasons this build does not know.
 */
export interface DemoDecisionRecord {
  replicas: number;
  desired: number;
  direction: DecisionDirection;
  reason: string;
  engines: EngineEstimate[];
  /** The rule that decided, and the default policy's figures (planner-default-policy.md). */
  rule?: string;
  predicted?: Partial<PredictedFigures>;
}

/** One decision as the demo shows it. */
export interface DemoDecision {
  /** Seconds since the demo started. */
  atS: number;
  replicas: number;
  desired: number;
  direction: DecisionDirection | string;
  reason: string;
  /** Highest and lowest per-engine TTFT estimate, highest ITL estimate of the tick, ms. */
  maxTtftMs?: number;
  maxItlMs?: number;
  minTtftMs?: number;
  rule?: string;
  /** Default policy: the replicas the demand needs, and the TTFT predicted at the desired count (ms). */
  replicasNeeded?: number;
  ttftAtDesiredMs?: number;
}

/** Counters of one relay, from its /metrics. */
export interface RelayCounts {
  forwarded: number;
  lost: number;
  dropped: Record<string, number>;
}

/** One engine's latest FPM. */
export interface EngineRow {
  workerId: string;
  dpRank: number;
  fpm: ForwardPassMetrics;
}

export interface ReplicaChange {
  atS: number;
  from: number;
  to: number;
  reason: string;
}

export interface DemoState {
  readonly settings: DemoSettings;
  readonly elapsedS: number;
  readonly natsUrl: string;
  /** Replicas the planner saw at its latest tick. */
  readonly replicas: number;
  readonly readyWorkers: number;
  /** Names of the relays running now. */
  readonly relaysRunning: readonly string[];
  /** Latest counters of every relay ever started, by name (a stopped relay's count stays). */
  readonly relayCounts: Readonly<Record<string, RelayCounts>>;
  readonly engines: readonly EngineRow[];
  /** The planner's latest estimates per engine (`worker/rank`). */
  readonly estimates: Readonly<Record<string, EngineEstimate>>;
  /** The latest decisions (at most MAX_DECISIONS_KEPT). */
  readonly decisions: readonly DemoDecision[];
  readonly decisionCount: number;
  /** Replicas at each planner tick (at most MAX_HISTORY_KEPT). */
  readonly replicaHistory: readonly { atS: number; replicas: number }[];
  readonly changes: readonly ReplicaChange[];
  readonly scaleUps: number;
  readonly scaleDowns: number;
  /** The simulator's latest `status` line and its final `summary`. */
  readonly simStatus: SimulateStatus | null;
  readonly simSummary: SimulateStatus | null;
  /** Why the run failed; the first failure wins. */
  readonly failure: string | null;
}

export type DemoEvent =
  | { type: "clock"; atS: number }
  | { type: "nats_ready"; url: string }
  | { type: "engines"; engines: readonly EngineRow[] }
  | { type: "decision"; atS: number; record: DemoDecisionRecord }
  | { type: "simulator"; event: SimulateEvent }
  | { type: "relay_started"; relay: string }
  | { type: "relay_stopped"; relay: string }
  | { type: "relay_counts"; relay: string; counts: RelayCounts }
  | { type: "failed"; detail: string };

export const MAX_DECISIONS_KEPT = 500;
export const MAX_HISTORY_KEPT = 5000;

export function initialDemoState(settings: DemoSettings): DemoState {
  return {
    settings,
    elapsedS: 0,
    natsUrl: "",
    replicas: settings.workers,
    readyWorkers: 0,
    relaysRunning: [],
    relayCounts: {},
    engines: [],
    estimates: {},
    decisions: [],
    decisionCount: 0,
    replicaHistory: [],
    changes: [],
    scaleUps: 0,
    scaleDowns: 0,
    simStatus: null,
    simSummary: null,
    failure: null,
  };
}

const engineKey = (workerId: string, dpRank: number) => `${workerId}/${dpRank}`;
const keepLast = <T>(items: readonly T[], item: T, max: number): T[] => [...items, item].slice(-max);

/** The state after `event`. */
export function applyDemoEvent(s: DemoState, event: DemoEvent): DemoState {
  switch (event.type) {
    case "clock":
      return { ...s, elapsedS: event.atS };
    case "nats_ready":
      return { ...s, natsUrl: event.url };
    case "engines":
      return withEngines(s, event.engines);
    case "decision":
      return withDecision(s, event.atS, event.record);
    case "simulator":
      return withSimulatorEvent(s, event.event);
    case "relay_started":
      return { ...s, relaysRunning: [...s.relaysRunning.filter((r) => r !== event.relay), event.relay] };
    case "relay_stopped":
      return { ...s, relaysRunning: s.relaysRunning.filter((r) => r !== event.relay) };
    case "relay_counts":
      return { ...s, relayCounts: { ...s.relayCounts, [event.relay]: event.counts } };
    case "failed":
      return s.failure === null ? { ...s, failure: event.detail } : s;
  }
}

/** The engines seen now; estimates of engines that left are forgotten. */
function withEngines(s: DemoState, engines: readonly EngineRow[]): DemoState {
  const estimates: Record<string, EngineEstimate> = {};
  for (const e of engines) {
    const k = engineKey(e.workerId, e.dpRank);
    if (s.estimates[k]) estimates[k] = s.estimates[k];
  }
  return { ...s, engines, estimates };
}

/** Summary of one decision record: its outcome and the range of its engines' estimates. */
export function demoDecision(atS: number, d: DemoDecisionRecord): DemoDecision {
  const ttfts = d.engines.map((e) => e.ttftMs).filter((v): v is number => typeof v === "number");
  const itls = d.engines.map((e) => e.itlMs).filter((v): v is number => typeof v === "number");
  return {
    atS,
    replicas: d.replicas,
    desired: d.desired,
    direction: d.direction,
    reason: d.reason,
    maxTtftMs: ttfts.length ? Math.max(...ttfts) : undefined,
    minTtftMs: ttfts.length ? Math.min(...ttfts) : undefined,
    maxItlMs: itls.length ? Math.max(...itls) : undefined,
    ...(d.rule !== undefined ? { rule: d.rule } : {}),
    ...(typeof d.predicted?.replicasNeeded === "number" ? { replicasNeeded: d.predicted.replicasNeeded } : {}),
    ...(typeof d.predicted?.ttftMsAtDesired === "number" ? { ttftAtDesiredMs: d.predicted.ttftMsAtDesired } : {}),
  };
}

/** A decision that changes the replica count. */
export const isScaling = (d: { direction: string }): boolean => d.direction === "up" || d.direction === "down";

function withDecision(s: DemoState, atS: number, record: DemoDecisionRecord): DemoState {
  const d = demoDecision(atS, record);
  const estimates = { ...s.estimates };
  for (const e of record.engines) estimates[engineKey(e.workerId, e.dpRank)] = e;
  const next: DemoState = {
    ...s,
    estimates,
    decisions: keepLast(s.decisions, d, MAX_DECISIONS_KEPT),
    decisionCount: s.decisionCount + 1,
    replicaHistory: keepLast(s.replicaHistory, { atS, replicas: d.replicas }, MAX_HISTORY_KEPT),
    replicas: d.replicas,
  };
  if (!isScaling(d)) return next;
  return {
    ...next,
    scaleUps: s.scaleUps + (d.direction === "up" ? 1 : 0),
    scaleDowns: s.scaleDowns + (d.direction === "down" ? 1 : 0),
    changes: [...s.changes, { atS, from: d.replicas, to: d.desired, reason: d.reason }],
  };
}

function withSimulatorEvent(s: DemoState, e: SimulateEvent): DemoState {
  if (e.event === "status") return { ...s, simStatus: e, readyWorkers: e.ready_workers };
  if (e.event === "summary") return { ...s, simSummary: e, readyWorkers: e.ready_workers };
  // Worker events start and stop relays (the orchestrator's job); the counts come with `status`.
  return s;
}

/** The load at `atS` seconds: the step's rate inside it, the base rate around it. */
export function loadAt(settings: DemoSettings, atS: number): { rate: number; phase: string } {
  if (atS >= settings.stepAt && atS < settings.stepUntil) return { rate: settings.stepRate, phase: "step" };
  return { rate: settings.baseRate, phase: atS < settings.stepAt ? "before the step" : "after the step" };
}

/** Sum of the counters of every relay ever started. */
export function relayTotals(s: DemoState): RelayCounts {
  const total: RelayCounts = { forwarded: 0, lost: 0, dropped: {} };
  for (const c of Object.values(s.relayCounts)) {
    total.forwarded += c.forwarded;
    total.lost += c.lost;
    for (const [k, v] of Object.entries(c.dropped)) total.dropped[k] = (total.dropped[k] ?? 0) + v;
  }
  return total;
}

/** The engines with the planner's estimates for them, for the live view. */
export function engineRows(s: DemoState): (EngineRow & { ttftMs?: number; itlMs?: number })[] {
  return s.engines.map((e) => {
    const est = s.estimates[engineKey(e.workerId, e.dpRank)];
    return { ...e, ttftMs: est?.ttftMs, itlMs: est?.itlMs };
  });
}

/** The headless progress line. */
export function statusLine(s: DemoState): string {
  const load = loadAt(s.settings, s.elapsedS);
  const queued = s.engines.reduce((n, e) => n + e.fpm.queuedRequests.numPrefillRequests, 0);
  return `demo: ${s.elapsedS.toFixed(0)} s load ${load.rate} req/s, replicas ${s.replicas}, ready workers ${s.readyWorkers}, queued requests ${queued}, relayed ${relayTotals(s).forwarded}`;
}

/** What the demo prints at the end and writes with --summary-json. */
export interface DemoSummary {
  durationS: number;
  scaleUps: number;
  scaleDowns: number;
  /** Replica changes as the planner decided them. */
  changes: ReplicaChange[];
  replicaHistory: { atS: number; replicas: number }[];
  decisions: number;
  enginesPublished: number;
  enginesDropped: number;
  relayed: number;
  relayDropped: Record<string, number>;
  relayLost: number;
  requests: { arrived: number; finished: number; rejected: number };
  maxReplicas: number;
  minReplicas: number;
  logDir: string;
}

export function summarizeDemo(s: DemoState, logDir: string): DemoSummary {
  const relays = relayTotals(s);
  const sim = s.simSummary ?? s.simStatus;
  const history = [...s.replicaHistory];
  const counts = history.map((h) => h.replicas);
  return {
    durationS: +s.elapsedS.toFixed(1),
    scaleUps: s.scaleUps,
    scaleDowns: s.scaleDowns,
    changes: [...s.changes],
    replicaHistory: history,
    decisions: s.decisionCount,
    enginesPublished: sim?.published ?? 0,
    enginesDropped: sim?.dropped ?? 0,
    relayed: relays.forwarded,
    relayDropped: relays.dropped,
    relayLost: relays.lost,
    requests: { arrived: sim?.arrivals ?? 0, finished: sim?.finished ?? 0, rejected: sim?.rejected ?? 0 },
    maxReplicas: counts.length ? Math.max(...counts) : s.settings.workers,
    minReplicas: counts.length ? Math.min(...counts) : s.settings.workers,
    logDir,
  };
}
