/**
 * Closed loop: the simulator as the planner's actuator. It listens to the decisions the
 * planner publishes (`namespace.{ns}.planner.decisions`, one JSON object each, with
 * `component`, `desired` and `direction`) and sets the simulated worker count to
 * `desired`; new workers become ready after the deployment's start-up delay. Like a real
 * deployer it reports what it runs on `namespace.{ns}.planner.replicas`
 * (`{"component", "replicas": ready, "pending": starting, "workers": [ids]}`) after every
 * change and every `reportIntervalMs`, so the planner sees a scale complete, counts the
 * replicas still starting, and forgets the engines of removed workers.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "../util/log.js";
import type { SimulatedDeployment } from "./deployment.js";

export { plannerDecisionsSubject, plannerReplicasSubject } from "../planner/connectors/virtual-connector.js";

/** How often the replica report is repeated without a change, for a planner that starts later. */
export const DEFAULT_REPORT_INTERVAL_MS = 1000;

export interface PlannerFollowerOptions {
  nc: NatsConnection;
  deployment: SimulatedDeployment;
  /** Subject of the decisions. */
  subject: string;
  /** Only decisions for this component are followed. */
  component: string;
  /** Where replica reports go; "" sends none. */
  reportSubject: string;
  /** Repeat the report this often (ms). Default 1000. */
  reportIntervalMs?: number;
  logger: Logger;
  /** Called when a decision changes the worker count. */
  onScale?: (from: number, to: number, reason: string) => void;
}

export class PlannerFollower {
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly totals = { decisions: 0, applied: 0, malformed: 0, reports: 0 };

  constructor(private readonly opts: PlannerFollowerOptions) {}

  start(): void {
    this.sub = this.opts.nc.subscribe(this.opts.subject, {
      callback: (err, msg) => {
        if (err) return;
        this.handle(msg.data);
      },
    });
    if (this.opts.reportSubject !== "") {
      this.report();
      this.timer = setInterval(() => this.report(), this.opts.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Publishes what the deployment runs now; call it on every worker event too. */
  report(): void {
    if (this.opts.reportSubject === "" || this.opts.nc.isClosed()) return;
    const d = this.opts.deployment;
    const ready = d.readyWorkerCount();
    const body = {
      component: this.opts.component,
      replicas: ready,
      pending: d.workerCount() - ready,
      workers: d.workerIds(),
    };
    try {
      this.opts.nc.publish(this.opts.reportSubject, JSON.stringify(body));
      this.totals.reports++;
    } catch (err) {
      this.opts.logger.limited("report-publish", "warn", "could not publish a replica report", { error: String(err) });
    }
  }

  /** Applies one decision message; malformed ones are counted and skipped. */
  handle(bytes: Uint8Array): void {
    let d: Record<string, unknown>;
    try {
      const v = JSON.parse(Buffer.from(bytes).toString("utf8"));
      if (typeof v !== "object" || v === null) throw new Error("not an object");
      d = v as Record<string, unknown>;
    } catch {
      this.totals.malformed++;
      this.opts.logger.limited("decision-malformed", "warn", "ignored a planner decision that is not a JSON object");
      return;
    }
    if (d.component !== undefined && d.component !== this.opts.component) return;
    this.totals.decisions++;
    const desired = d.desired;
    if (typeof desired !== "number" || !Number.isInteger(desired) || desired < 0) {
      this.totals.malformed++;
      this.opts.logger.limited("decision-desired", "warn", "ignored a planner decision without an integer `desired`");
      return;
    }
    if (d.direction === "hold") return;
    const from = this.opts.deployment.workerCount();
    this.opts.deployment.setWorkerCount(desired);
    const to = this.opts.deployment.workerCount();
    if (to !== from) {
      this.totals.applied++;
      this.report();
      this.opts.logger.info("planner decision applied", { from, to, reason: String(d.reason ?? "") });
      this.opts.onScale?.(from, to, String(d.reason ?? ""));
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
  }
}
