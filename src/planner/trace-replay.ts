/**
 * Offline replay of a recorded FPM trace through the planner core, with no NATS: what the
 * parity contract test feeds to both this planner and the upstream model. A trace is JSON
 * lines, one tick of one component each:
 *
 * ```json
 * {"tick": 0, "component": "backend", "kind": "agg", "replicas": 2, "pending": 0,
 *  "scaling_in_progress": false, "kv_hit_rate": 0.3, "accept_length": 1.8,
 *  "engines": [{"version": 1, "worker_id": "w1", "dp_rank": 0, ...wire FPM fields...}]}
 * ```
 *
 * `engines` is the latest message of each live engine at that tick, in the order the
 * planner sees them; `replicas` the ready count; the optional `pending` (replicas still
 * starting), `kv_hit_rate` and `accept_length` feed Dynamo 1.6.1's rules;
 * `scale_in_progress` is the older name of `scaling_in_progress`. In default mode every
 * listed message is also ingested before the tick.
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
  pending?: number;
  scaling_in_progress?: boolean;
  scale_in_progress?: boolean;
  kv_hit_rate?: number;
  accept_length?: number;
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
    const optional = (v: unknown, what: string, ok: (x: number) => boolean) => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "number" || !ok(v)) throw new ConfigError(`trace line ${lineNo}: ${what}`);
      return v;
    };
    const pending = optional(t.pending, "pending must be an integer >= 0", (x) => Number.isInteger(x) && x >= 0);
    const kvHitRate = optional(t.kv_hit_rate, "kv_hit_rate must be a number 0..1", (x) => x >= 0 && x <= 1);
    const acceptLength = optional(t.accept_length, "accept_length must be a number >= 1", (x) => x >= 1);
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
    emit(
      p.tick({
        nowMs,
        engines,
        replicas: t.replicas,
        scaleInProgress: t.scaling_in_progress ?? t.scale_in_progress ?? false,
        pendingReplicas: pending,
        kvHitRate,
        acceptLength,
      }),
    );
    n++;
  }
  return n;
}
