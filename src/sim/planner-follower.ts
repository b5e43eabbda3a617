/**
 * Closed loop: the simulator as the planner's actuator. It listens to the decisions the
 * planner publishes (`namespace.{ns}.planner.decisions`, one decision record each, read
 * by decision-record.ts) and sets the simulated worker count to `desired`; new workers become ready after the deployment's start-up delay. Like a real
 * deployer it reports what it runs on `namespace.{ns}.planner.replicas`
 * (a replica report, replica-report.ts: ready, starting and the worker ids) after every
 * change and every `reportIntervalMs`, so the planner sees a scale complete, counts the
 * replicas still starting, and forgets the engines of removed workers.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { parseDecisionRecord } from "../planner/decision-record.js";
import { replicaReportText } from "../planner/replica-report.js";
import type { Logger } from "../util/log.js";
import type { SimulatedDeployment } from "./deployment.js";

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
    const body = replicaReportText({
      component: this.opts.component,
      replicas: ready,
      pending: d.workerCount() - ready,
      workers: d.workerIds(),
    });
    try {
      this.opts.nc.publish(this.opts.reportSubject, body);
      this.totals.reports++;
    } catch (err) {
      this.opts.logger.limited("report-publish", "warn", "could not publish a replica report", { error: String(err) });
    }
  }

  /** Applies one decision message; one that is no decision record is counted and skipped. */
  handle(bytes: Uint8Array): void {
    const r = parseDecisionRecord(bytes);
    if (!r.ok) {
      this.totals.malformed++;
      this.opts.logger.limited("decision-malformed", "warn", "ignored a message that is no planner decision record", {
        reason: r.reason,
      });
      return;
    }
    const d = r.value;
    if (d.component !== this.opts.component) return;
    this.totals.decisions++;
    if (d.direction === "hold") return;
    const from = this.opts.deployment.workerCount();
    this.opts.deployment.setWorkerCount(d.desired);
    const to = this.opts.deployment.workerCount();
    if (to !== from) {
      this.totals.applied++;
      this.report();
      this.opts.logger.info("planner decision applied", { from, to, reason: d.reason });
      this.opts.onScale?.(from, to, d.reason);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
  }
}
