/**
 * The one offline planner driver: the planner core on a recorded clock, with no NATS and
 * nothing actuated ("what would the planner have done with these settings on yesterday's
 * traffic?"). It takes either of two recorded inputs:
 *
 * - an FPM stream recorded by `fpm record` (`fpm replay --to-planner`): `feed()` each
 *   message; the planner ticks on every interval boundary the recording's clock passes.
 *   The replica count at a tick is the number of distinct workers seen alive (silent for
 *   less than `staleAfterMs`), as the virtual connector counts them; no scale is ever in
 *   progress.
 * - a trace of ticks (`fpm planner --replay-trace`, what the parity contract tests feed to
 *   both this planner and the upstream model): `replayTraceLine()` each JSON line, one tick
 *   of one component, with the connector's view given:
 *
 * ```json
 * {"tick": 0, "component": "backend", "kind": "agg", "replicas": 2, "pending": 0,
 *  "scaling_in_progress": false, "kv_hit_rate": 0.3, "accept_length": 1.8,
 *  "engines": [{"version": 1, "worker_id": "w1", "dp_rank": 0, ...wire FPM fields...}]}
 * ```
 *
 *   `engines` is the latest message of each live engine at that tick, in the order the
 *   planner sees them; `replicas` the ready count; the optional `pending` (replicas still
 *   starting), `kv_hit_rate` and `accept_length` feed Dynamo 1.6.1's rules;
 *   `scale_in_progress` is the older name of `scaling_in_progress`. In default mode every
 *   listed message is also ingested before the tick. A malformed trace line stops the
 *   replay with a ConfigError naming the line.
 */
import { decodeFpm } from "../codec/fpm-decode.js";
import type { RecordedMessage } from "../recording/stream-recording.js";
import { fpmFromJson } from "../schema/zod.js";
import { DEFAULT_STALE_AFTER_MS } from "../subscriber/fpm-event-subscriber.js";
import { ConfigError } from "../util/errors.js";
import { ComponentPlanner, type EngineLatest } from "./component-planner.js";
import type { PlannerDecision } from "./decision.js";
import type { PlannerConfig } from "./planner-config.js";
import { MODEL_KINDS, type ModelKind } from "./regression-model.js";

/** Components planned at most, by default; a stream's messages of others are counted, a trace past it stops. */
export const DEFAULT_OFFLINE_MAX_COMPONENTS = 64;

export interface OfflinePlannerOptions {
  config: PlannerConfig;
  /** Model kind of every component of a recorded stream (a trace names its own). Default `agg`. */
  kind?: ModelKind;
  /** A recorded stream's engine silent this long leaves the decision. Default DEFAULT_STALE_AFTER_MS (5000), the subscriber's. */
  staleAfterMs?: number;
  /** Most components planned. Default DEFAULT_OFFLINE_MAX_COMPONENTS. */
  maxComponents?: number;
  onDecision: (d: PlannerDecision) => void;
}

/** One line of a trace: one tick of one component. */
export interface TraceTick {
  tick: number;
  component: string;
  kind: ModelKind;
  replicas: number;
  pending?: number;
  scaling_in_progress?: boolean;
  scale_in_progress?: boolean;
  kv_hit_rate?: number;
  accept_length?: number;
  engines: unknown[];
}

interface ComponentState {
  planner: ComponentPlanner;
  /** A recorded stream's latest message per engine, with when it was received. */
  latest: Map<string, EngineLatest & { atMs: number }>;
}

export class OfflinePlanner {
  private readonly components = new Map<string, ComponentState>();
  private nextTickMs = NaN;
  private traceLine = 0;
  readonly totals = { messages: 0, invalid: 0, ticks: 0, componentsRefused: 0 };

  constructor(private readonly opts: OfflinePlannerOptions) {}

  /** Recorded stream: feeds one message; ticks first for every interval boundary it passes. */
  feed(m: RecordedMessage, component: string): void {
    const atMs = m.receivedAtMs;
    if (Number.isNaN(this.nextTickMs)) this.nextTickMs = atMs + this.intervalMs();
    while (atMs >= this.nextTickMs) {
      this.tickStream(this.nextTickMs);
      this.nextTickMs += this.intervalMs();
    }
    this.totals.messages++;
    const r = m.envelope ? decodeFpm(m.envelope.payload) : null;
    if (!r?.ok) {
      this.totals.invalid++;
      return;
    }
    const st = this.component(component, this.opts.kind ?? "agg");
    if (!st) return;
    const fpm = r.value;
    st.latest.set(`${fpm.dpRank}\u0000${fpm.workerId}`, { workerId: fpm.workerId, dpRank: fpm.dpRank, fpm, atMs });
    st.planner.ingest(fpm, atMs);
  }

  /** Recorded stream: ticks once more at the end of the recording. */
  finish(): void {
    if (!Number.isNaN(this.nextTickMs)) this.tickStream(this.nextTickMs);
  }

  /** Trace: replays one JSON line (blank lines are skipped); a malformed one is a ConfigError naming it. */
  replayTraceLine(line: string): void {
    const lineNo = ++this.traceLine;
    if (line.trim() === "") return;
    this.replayTick(parseTraceTick(line, lineNo), lineNo);
  }

  /** Trace: one tick of one component, as the connector saw it. */
  replayTick(t: TraceTick, lineNo = 0): void {
    const where = `trace line ${lineNo}`;
    const optional = (v: unknown, what: string, ok: (x: number) => boolean) => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "number" || !ok(v)) throw new ConfigError(`${where}: ${what}`);
      return v;
    };
    const pendingReplicas = optional(
      t.pending,
      "pending must be an integer >= 0",
      (x) => Number.isInteger(x) && x >= 0,
    );
    const kvHitRate = optional(t.kv_hit_rate, "kv_hit_rate must be a number 0..1", (x) => x >= 0 && x <= 1);
    const acceptLength = optional(t.accept_length, "accept_length must be a number >= 1", (x) => x >= 1);
    const st = this.component(t.component, t.kind);
    if (!st) throw new ConfigError(`${where}: more than ${this.maxComponents()} components; plan fewer per trace`);
    const nowMs = t.tick * this.intervalMs();
    const engines = t.engines.map((e, i) => {
      try {
        const fpm = fpmFromJson(e);
        return { workerId: fpm.workerId, dpRank: fpm.dpRank, fpm };
      } catch (err) {
        throw new ConfigError(
          `${where}, engine ${i}: not a ForwardPassMetrics object: ${(err as Error).message.slice(0, 200)}`,
        );
      }
    });
    if (this.opts.config.mode === "default") for (const e of engines) st.planner.ingest(e.fpm, nowMs);
    this.totals.ticks++;
    this.opts.onDecision(
      st.planner.tick({
        nowMs,
        engines,
        replicas: t.replicas,
        scaleInProgress: t.scaling_in_progress ?? t.scale_in_progress ?? false,
        pendingReplicas,
        kvHitRate,
        acceptLength,
      }),
    );
  }

  private maxComponents(): number {
    return this.opts.maxComponents ?? DEFAULT_OFFLINE_MAX_COMPONENTS;
  }

  /** The state of `component`, made on first sight; null (counted) past maxComponents. */
  private component(component: string, kind: ModelKind): ComponentState | null {
    let st = this.components.get(component);
    if (st) return st;
    if (this.components.size >= this.maxComponents()) {
      this.totals.componentsRefused++;
      return null;
    }
    st = { planner: new ComponentPlanner({ component, kind, config: this.opts.config }), latest: new Map() };
    this.components.set(component, st);
    return st;
  }

  private intervalMs(): number {
    return this.opts.config.loadAdjustmentIntervalS * 1000;
  }

  private tickStream(nowMs: number): void {
    this.totals.ticks++;
    const stale = this.opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    for (const st of this.components.values()) {
      for (const [k, e] of st.latest) {
        if (nowMs - e.atMs > stale) {
          st.latest.delete(k);
          st.planner.forgetEngine(e.workerId, e.dpRank);
        }
      }
      const engines = [...st.latest.values()];
      const replicas = new Set(engines.map((e) => e.workerId)).size;
      this.opts.onDecision(st.planner.tick({ nowMs, engines, replicas, scaleInProgress: false }));
    }
  }
}

/** Parses one trace line (1-based `lineNo`, for the message); a ConfigError when it is not a tick. */
export function parseTraceTick(line: string, lineNo: number): TraceTick {
  let t: TraceTick;
  try {
    t = JSON.parse(line) as TraceTick;
  } catch (err) {
    throw new ConfigError(`trace line ${lineNo} is not JSON: ${(err as Error).message}`);
  }
  if (
    typeof t !== "object" ||
    t === null ||
    !MODEL_KINDS.includes(t.kind) ||
    !Array.isArray(t.engines) ||
    !Number.isInteger(t.replicas)
  ) {
    throw new ConfigError(
      `trace line ${lineNo}: needs kind (prefill|decode|agg), integer replicas and an engines array`,
    );
  }
  return t;
}

/** Replays a trace (`lines`: JSON text, one tick each); calls `emit` with every decision; returns the ticks. */
export function replayTrace(
  lines: Iterable<string>,
  config: PlannerConfig,
  emit: (d: PlannerDecision) => void,
): number {
  const offline = new OfflinePlanner({ config, onDecision: emit });
  for (const line of lines) offline.replayTraceLine(line);
  return offline.totals.ticks;
}
