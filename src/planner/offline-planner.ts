/**
 * "What would the planner have done with these settings on yesterday's traffic?": feeds a
 * recorded FPM stream to the planner core on the recording's own clock (no NATS, no
 * waiting) and returns one decision per tick and component. The replica count at each tick
 * is the number of distinct workers seen alive (silent for less than `staleAfterMs`), as
 * the planner's virtual connector counts them; nothing is actuated, so no scale is ever
 * "in progress".
 */
import { decodeFpm } from "../codec/fpm-decode.js";
import { ComponentPlanner, type EngineLatest } from "./component-planner.js";
import type { PlannerDecision } from "./decision.js";
import type { PlannerConfig } from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";
import type { RecordedMessage } from "../recording/stream-recording.js";

export interface OfflinePlannerOptions {
  config: PlannerConfig;
  /** Model kind of every component. Default `agg`. */
  kind?: ModelKind;
  /** An engine silent this long leaves the decision. Default 5000. */
  staleAfterMs?: number;
  /** Most components planned; messages of others are counted. Default 64. */
  maxComponents?: number;
  onDecision: (d: PlannerDecision) => void;
}

interface ComponentState {
  planner: ComponentPlanner;
  latest: Map<string, EngineLatest & { atMs: number }>;
}

export class OfflinePlanner {
  private readonly components = new Map<string, ComponentState>();
  private nextTickMs = NaN;
  readonly totals = { messages: 0, invalid: 0, ticks: 0, componentsRefused: 0 };

  constructor(private readonly opts: OfflinePlannerOptions) {}

  /** Feeds one recorded message; ticks first for every interval boundary it passes. */
  feed(m: RecordedMessage, component: string): void {
    const atMs = m.receivedAtMs;
    if (Number.isNaN(this.nextTickMs)) this.nextTickMs = atMs + this.intervalMs();
    while (atMs >= this.nextTickMs) {
      this.tick(this.nextTickMs);
      this.nextTickMs += this.intervalMs();
    }
    this.totals.messages++;
    if (!m.envelope) {
      this.totals.invalid++;
      return;
    }
    const r = decodeFpm(m.envelope.payload);
    if (!r.ok) {
      this.totals.invalid++;
      return;
    }
    let st = this.components.get(component);
    if (!st) {
      if (this.components.size >= (this.opts.maxComponents ?? 64)) {
        this.totals.componentsRefused++;
        return;
      }
      st = {
        planner: new ComponentPlanner({ component, kind: this.opts.kind ?? "agg", config: this.opts.config }),
        latest: new Map(),
      };
      this.components.set(component, st);
    }
    const fpm = r.value;
    st.latest.set(`${fpm.dpRank}\u0000${fpm.workerId}`, { workerId: fpm.workerId, dpRank: fpm.dpRank, fpm, atMs });
    st.planner.ingest(fpm, atMs);
  }

  /** Ticks once more at the end of the recording. */
  finish(): void {
    if (!Number.isNaN(this.nextTickMs)) this.tick(this.nextTickMs);
  }

  private intervalMs(): number {
    return this.opts.config.loadAdjustmentIntervalS * 1000;
  }

  private tick(nowMs: number): void {
    this.totals.ticks++;
    const stale = this.opts.staleAfterMs ?? 5000;
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
