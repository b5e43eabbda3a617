/**
 * `virtual` connector (the default): nothing is actuated here. The replica count is what a
 * deployer last reported on `namespace.{ns}.planner.replicas` (JSON `{"component": ...,
 * "replicas": n}`), or else the number of distinct workers seen alive; every decision is
 * published as JSON on `namespace.{ns}.planner.decisions` for an external actuator (for
 * example `fpm simulate --follow-planner`). A scale is in progress until the count
 * reaches the desired value or `scaleTimeoutMs` passes.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { encodeSubjectSegment } from "../../eventplane/subject.js";
import type { Logger } from "../../util/log.js";
import type { PlannerDecision } from "../decision.js";
import type { ComponentLiveness, PendingScale, ReplicaConnector } from "./replica-connector.js";

export function plannerDecisionsSubject(namespace: string): string {
  return `namespace.${encodeSubjectSegment(namespace)}.planner.decisions`;
}

export function plannerReplicasSubject(namespace: string): string {
  return `namespace.${encodeSubjectSegment(namespace)}.planner.replicas`;
}

export interface VirtualConnectorOptions {
  /** Publishes decisions; absent: decisions go nowhere but the records (offline replay). */
  connection?: NatsConnection;
  /** Namespace of the default subjects. */
  namespace: string;
  /** Default `namespace.{ns}.planner.decisions`. */
  decisionsSubject?: string;
  /** Where a deployer reports counts; default `namespace.{ns}.planner.replicas`; "" turns it off. */
  replicasSubject?: string;
  /** How long a scale may stay in progress before the planner stops waiting. Default 600,000 ms. */
  scaleTimeoutMs?: number;
  logger: Logger;
}

export class VirtualConnector implements ReplicaConnector {
  readonly name = "virtual";
  readonly decisionsSubject: string;
  readonly replicasSubject: string;
  private readonly reported = new Map<string, number>();
  private readonly pending = new Map<string, PendingScale>();
  private sub: Subscription | null = null;
  private readonly timeoutMs: number;
  /** Malformed replica reports ignored. */
  malformedReports = 0;

  constructor(private readonly opts: VirtualConnectorOptions) {
    this.decisionsSubject = opts.decisionsSubject ?? plannerDecisionsSubject(opts.namespace);
    this.replicasSubject = opts.replicasSubject ?? plannerReplicasSubject(opts.namespace);
    this.timeoutMs = opts.scaleTimeoutMs ?? 600_000;
    if (opts.connection && this.replicasSubject !== "") {
      this.sub = opts.connection.subscribe(this.replicasSubject, {
        callback: (_e, m) => {
          if (m) this.report(m.data);
        },
      });
    }
  }

  /** Takes one deployer report `{"component": "backend", "replicas": 3}`. */
  report(bytes: Uint8Array): void {
    try {
      const v = JSON.parse(Buffer.from(bytes).toString("utf8")) as { component?: unknown; replicas?: unknown };
      if (
        typeof v.component !== "string" ||
        typeof v.replicas !== "number" ||
        !Number.isInteger(v.replicas) ||
        v.replicas < 0 ||
        this.reported.size > 1000
      )
        throw new Error("bad report");
      this.reported.set(v.component, v.replicas);
    } catch {
      this.malformedReports++;
      this.opts.logger.limited(
        "replicas-report",
        "warn",
        'ignored a replica report; expected {"component": string, "replicas": integer >= 0}',
        { subject: this.replicasSubject },
      );
    }
  }

  replicas(c: ComponentLiveness): number {
    return this.reported.get(c.component) ?? c.liveWorkers;
  }

  scaleInProgress(c: ComponentLiveness, nowMs: number): boolean {
    const p = this.pending.get(c.component);
    if (!p) return false;
    if (this.replicas(c) === p.desired) {
      this.pending.delete(c.component);
      return false;
    }
    if (nowMs >= p.deadlineMs) {
      this.opts.logger.warn("scale did not complete in time; deciding again", {
        component: c.component,
        desired: p.desired,
        replicas: this.replicas(c),
      });
      this.pending.delete(c.component);
      return false;
    }
    return true;
  }

  async apply(d: PlannerDecision, nowMs: number): Promise<void> {
    if (d.direction !== "hold")
      this.pending.set(d.component, { desired: d.desired, deadlineMs: nowMs + this.timeoutMs });
    if (!this.opts.connection) return;
    try {
      this.opts.connection.publish(this.decisionsSubject, JSON.stringify(d));
    } catch (err) {
      this.opts.logger.limited("decision-publish", "warn", "could not publish a decision", { error: String(err) });
    }
  }

  async close(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
  }
}
