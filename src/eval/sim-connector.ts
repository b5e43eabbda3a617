/**
 * The planner's connector onto a simulated deployment, as Dynamo's Kubernetes connector is
 * onto a cluster: the replica count is the deployment's ready workers, the pending ones
 * those still starting, the worker ids those running or starting (a draining worker has
 * left); a decision sets the requested count at once (new workers are ready after the
 * start-up delay), and a scale is in progress until the ready count reaches what was asked
 * (or `scaleTimeoutMs` passes).
 */
import type { ComponentLiveness, PendingScale, ReplicaConnector } from "../planner/connectors/replica-connector.js";
import type { PlannerDecision } from "../planner/decision.js";
import type { SimulatedDeployment } from "../sim/deployment.js";

export class SimulatedDeploymentConnector implements ReplicaConnector {
  readonly name = "simulated";
  private pending: PendingScale | null = null;

  constructor(
    private readonly deployment: SimulatedDeployment,
    /** Sets the requested worker count (the loop records it as a scale action). */
    private readonly scaleTo: (n: number, reason: string) => void,
    private readonly scaleTimeoutMs = 600_000,
  ) {}

  replicas(_c: ComponentLiveness): number {
    return this.deployment.readyWorkerCount();
  }

  pendingReplicas(_c: ComponentLiveness): number {
    return this.deployment.workerCount() - this.deployment.readyWorkerCount();
  }

  workerIds(_c: ComponentLiveness): ReadonlySet<string> {
    return new Set(this.deployment.workerIds());
  }

  scaleInProgress(_c: ComponentLiveness, nowMs: number): boolean {
    if (!this.pending) return false;
    if (this.deployment.readyWorkerCount() === this.pending.desired || nowMs >= this.pending.deadlineMs)
      this.pending = null;
    return this.pending !== null;
  }

  async apply(d: PlannerDecision, nowMs: number): Promise<void> {
    if (d.direction === "hold") return;
    this.scaleTo(d.desired, d.reason);
    // What the deployment accepted (clamped to 1..max workers) is what the scale waits for.
    this.pending = { desired: this.deployment.workerCount(), deadlineMs: nowMs + this.scaleTimeoutMs };
  }

  async close(): Promise<void> {}
}
