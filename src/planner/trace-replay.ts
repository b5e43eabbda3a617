/**
 * Offline replay of a recorded FPM trace through the planner core, with no NATS: what the
 * parity contract test feeds to both this planner and the upstream model. A trace is JSON
 * lines, one tick of one component each:
 *
 * ```json
 * {"tick": 0, "component": "backend", "kind": "agg", "replicas": 2, "scale_in_progress": false,
 *  "engines": [{"version": 1, "worker_id": "w1", "dp_rank": 0, ...wire FPM fields...}]}
 * ```
 *
 * `engines` is the latest message of each live engine at that tick, in the order the
 * planner sees them. In default mode every listed message is also ingested before the tick.
 */
import { fpmFromJson } from "../schema/zod.js";
import { ConfigError } from "../util/errors.js";
import { ComponentPlanner } from "./component-planner.js";
import type { PlannerDecision } from "./decision.js";
import type { PlannerConfig } from "./planner-config.js";
import type { ModelKind } from "./regression-model.js";

export interface TraceTick {
  tick: number;
  component: string;
  kind: ModelKind;
  replicas: number;
  scale_in_progress?: boolean;
  engines: unknown[];
}

/** Replays `lines` (JSON text, one tick each); calls `emit` with every decision. */
export function replayTrace(
  lines: Iterable<string>,
  config: PlannerConfig,
  emit: (d: PlannerDecision) => void,
): number {
  const planners = new Map<string, ComponentPlanner>();
  let n = 0;
  let lineNo = 0;
  for (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    let t: TraceTick;
    try {
      t = JSON.parse(line) as TraceTick;
    } catch (err) {
      throw new ConfigError(`trace line ${lineNo} is not JSON: ${(err as Error).message}`);
    }
    if (!["prefill", "decode", "agg"].includes(t.kind) || !Array.isArray(t.engines) || !Number.isInteger(t.replicas)) {
      throw new ConfigError(
        `trace line ${lineNo}: needs kind (prefill|decode|agg), integer replicas and an engines array`,
      );
    }
    let p = planners.get(t.component);
    if (!p) {
      p = new ComponentPlanner({ component: t.component, kind: t.kind, config });
      planners.set(t.component, p);
    }
    const nowMs = t.tick * config.loadAdjustmentIntervalS * 1000;
    const engines = t.engines.map((e, i) => {
      try {
        const fpm = fpmFromJson(e);
        return { workerId: fpm.workerId, dpRank: fpm.dpRank, fpm };
      } catch (err) {
        throw new ConfigError(
          `trace line ${lineNo}, engine ${i}: not a ForwardPassMetrics object: ${(err as Error).message.slice(0, 200)}`,
        );
      }
    });
    if (config.mode === "default") for (const e of engines) p.ingest(e.fpm, nowMs);
    emit(p.tick({ nowMs, engines, replicas: t.replicas, scaleInProgress: t.scale_in_progress ?? false }));
    n++;
  }
  return n;
}
