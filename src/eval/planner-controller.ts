/**
 * The planner as a contender: the real `FpmPlanner` (subscriber, `ComponentPlanner`,
 * connector, decision records, as `fpm planner` runs it), on simulated time. Every forward
 * pass reaches it through `FpmFeed` as a NATS message would; it ticks every
 * `load_adjustment_interval`, after the subscriber's expiry, and its decisions reach the
 * deployment through `SimulatedDeploymentConnector`. A worker that stops or starts to
 * drain leaves discovery: the subscriber forgets it, as Dynamo's planner does when the
 * worker's registration goes away.
 */
import type { PlannerDecision } from "../planner/decision.js";
import { FpmPlanner } from "../planner/fpm-planner.js";
import type { PlannerConfig } from "../planner/planner-config.js";
import type { ForwardPassEvent, WorkerEvent } from "../sim/deployment.js";
import { Logger } from "../util/log.js";
import type { ControllerContext, ScalingController } from "./closed-loop.js";
import { FpmFeed } from "./fpm-feed.js";
import { SimulatedDeploymentConnector } from "./sim-connector.js";

export const EVAL_NAMESPACE = "dynamo";
export const EVAL_COMPONENT = "backend";

export interface PlannerControllerOptions {
  config: PlannerConfig;
  /** Receives every decision record (for example to write them out). */
  onDecision?: (d: PlannerDecision) => void;
  /** Default: warnings and errors only, on stderr. */
  logger?: Logger;
}

export class PlannerController implements ScalingController {
  readonly tickIntervalS: number;
  private planner: FpmPlanner | null = null;
  private feed: FpmFeed | null = null;
  private nowMs = 0;
  private readonly reasons: Record<string, number> = {};

  constructor(private readonly opts: PlannerControllerOptions) {
    this.tickIntervalS = opts.config.loadAdjustmentIntervalS;
  }

  start(ctx: ControllerContext): void {
    const connector = new SimulatedDeploymentConnector(ctx.deployment, ctx.scaleTo);
    this.planner = new FpmPlanner({
      namespace: EVAL_NAMESPACE,
      components: [{ component: EVAL_COMPONENT, kind: "agg" }],
      config: this.opts.config,
      connector,
      now: () => this.nowMs,
      autoTick: false,
      logger: this.opts.logger ?? new Logger({ target: "fpm.evaluate.planner", level: "warn" }),
      env: {},
      onDecision: (d) => {
        this.reasons[d.reason] = (this.reasons[d.reason] ?? 0) + 1;
        this.opts.onDecision?.(d);
      },
    });
    this.feed = new FpmFeed(this.planner.subscriber, { namespace: EVAL_NAMESPACE, component: EVAL_COMPONENT });
  }

  onForwardPass(ev: ForwardPassEvent): void {
    this.nowMs = ev.atS * 1000;
    this.feed?.publish(ev);
  }

  onWorkerEvent(ev: WorkerEvent): void {
    if (ev.kind === "stopped" || ev.kind === "draining") this.feed?.removeWorker(ev.workerId);
  }

  tick(nowS: number): void {
    if (!this.planner) return;
    this.nowMs = nowS * 1000;
    this.planner.subscriber.expireStale(this.nowMs);
    this.planner.tick(this.nowMs);
  }

  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of Object.keys(this.reasons).sort()) out[`decisions_${k}`] = this.reasons[k];
    out.messages_delivered = this.feed?.totals.delivered ?? 0;
    out.messages_dropped = this.feed?.totals.dropped ?? 0;
    return out;
  }
}
