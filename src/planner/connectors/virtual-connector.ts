/**
 * `virtual` connector (the default): nothing is actuated here. The replica count is what a
 * deployer last reported on `namespace.{ns}.planner.replicas` (JSON `{"component": ...,
 * "replicas": n, "pending": m, "workers": [ids]}`: ready replicas, optionally those still
 * starting and the ids of the workers it runs), or else the number of distinct workers
 * seen alive; every decision is
 * published as JSON on `namespace.{ns}.planner.decisions` for an external actuator (for
 * example `fpm simulate --follow-planner`). A scale is in progress until the count
 * reaches the desired value or `scaleTimeoutMs` passes.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { plannerDecisionsSubject, plannerReplicasSubject } from "../../eventplane/subject.js";
import type { Logger } from "../../util/log.js";
import type { PlannerDecision } from "../decision.js";
import { decisionRecordText } from "../decision-record.js";
import { MAX_REPORTED_WORKERS, parseReplicaReport, type ReplicaReport } from "../replica-report.js";
import {
  type ComponentLiveness,
  DEFAULT_SCALE_TIMEOUT_MS,
  type PendingScale,
  type ReplicaConnector,
} from "./replica-connector.js";

/** Reports from this many components at most are kept; others are ignored and counted. */
const MAX_COMPONENTS = 1000;

export interface VirtualConnectorOptions {
  /** Publishes decisions; absent: decisions go nowhere but the records (offline replay). */
  connection?: NatsConnection;
  /** Namespace of the default subjects. */
  namespace: string;
  /** Default `namespace.{ns}.planner.decisions`. */
  decisionsSubject?: string;
  /** Where a deployer reports counts; default `namespace.{ns}.planner.replicas`; "" turns it off. */
  replicasSubject?: string;
  /** How long a scale may stay in progress before the planner stops waiting. Default DEFAULT_SCALE_TIMEOUT_MS (600,000 ms). */
  scaleTimeoutMs?: number;
  logger: Logger;
}

export class VirtualConnector implements ReplicaConnector {
  readonly name = "virtual";
  readonly decisionsSubject: string;
  readonly replicasSubject: string;
  private readonly reported = new Map<string, ReplicaReport>();
  private readonly pending = new Map<string, PendingScale>();
  private sub: Subscription | null = null;
  private readonly timeoutMs: number;
  /** Malformed replica reports ignored. */
  malformedReports = 0;

  constructor(private readonly opts: VirtualConnectorOptions) {
    this.decisionsSubject = opts.decisionsSubject ?? plannerDecisionsSubject(opts.namespace);
    this.replicasSubject = opts.replicasSubject ?? plannerReplicasSubject(opts.namespace);
    this.timeoutMs = opts.scaleTimeoutMs ?? DEFAULT_SCALE_TIMEOUT_MS;
    if (opts.connection && this.replicasSubject !== "") {
      this.sub = opts.connection.subscribe(this.replicasSubject, {
        callback: (_e, m) => {
          if (m) this.report(m.data);
        },
      });
    }
  }

  /** Takes one deployer report `{"component": "backend", "replicas": 3, "pending": 1, "workers": [...]}`. */
  report(bytes: Uint8Array): void {
    const r = parseReplicaReport(bytes);
    if (!r || (!this.reported.has(r.component) && this.reported.size >= MAX_COMPONENTS)) {
      this.malformedReports++;
      this.opts.logger.limited(
        "replicas-report",
        "warn",
        `ignored a replica report; expected {"component": string, "replicas": integer >= 0, "pending"?: integer >= 0, "workers"?: [at most ${MAX_REPORTED_WORKERS} ids]} for at most ${MAX_COMPONENTS} components`,
        { subject: this.replicasSubject },
      );
      return;
    }
    const { component, ...report } = r;
    this.reported.set(component, report);
  }

  replicas(c: ComponentLiveness): number {
    return this.reported.get(c.component)?.replicas ?? c.liveWorkers;
  }

  pendingReplicas(c: ComponentLiveness): number | undefined {
    return this.reported.get(c.component)?.pending;
  }

  workerIds(c: ComponentLiveness): ReadonlySet<string> | undefined {
    return this.reported.get(c.component)?.workers;
  }

  scaleInProgress(c: ComponentLiveness, nowMs: number): boolean {
    const p = this.pending.get(c.component);
    if (!p) return false;
    // Done when the ready count (with any starting replicas counted) reaches what was asked.
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
      this.opts.connection.publish(this.decisionsSubject, decisionRecordText(d));
    } catch (err) {
      this.opts.logger.limited("decision-publish", "warn", "could not publish a decision", { error: String(err) });
    }
  }

  async close(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
  }
}
