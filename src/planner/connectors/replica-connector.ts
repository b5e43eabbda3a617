/**
 * Where the planner's current replica count comes from and where its decisions go. The
 * planner asks `replicas()`, `scaleInProgress()` and, when a connector knows them,
 * `pendingReplicas()` (replicas still starting) and `workerIds()` (the deployment's workers:
 * tracked engines of other workers are forgotten, as Dynamo's discovery purges them) at
 * each tick, and calls `apply()` with every decision record (holds included, so an external
 * actuator sees every tick).
 */
import type { PlannerDecision } from "../decision.js";

/** How long a scale may stay in progress before the planner stops waiting, by default (ms). */
export const DEFAULT_SCALE_TIMEOUT_MS = 600_000;

export interface ComponentLiveness {
  component: string;
  /** Distinct worker ids with at least one live engine now. */
  liveWorkers: number;
}

export interface ReplicaConnector {
  readonly name: string;
  /** Replicas the deployment has ready now. */
  replicas(c: ComponentLiveness): number;
  /** True while an earlier scale has not completed. */
  scaleInProgress(c: ComponentLiveness, nowMs: number): boolean;
  /** Replicas asked for and still starting; undefined when the connector cannot tell. */
  pendingReplicas?(c: ComponentLiveness): number | undefined;
  /** Worker ids the deployment runs now; undefined when unknown (then only expiry forgets engines). */
  workerIds?(c: ComponentLiveness): ReadonlySet<string> | undefined;
  /** Hands a decision to the actuator; must not throw. */
  apply(d: PlannerDecision, nowMs: number): Promise<void>;
  close(): Promise<void>;
}

/** A scale the planner is waiting for: until the live count reaches `desired` or the deadline passes. */
export interface PendingScale {
  desired: number;
  deadlineMs: number;
}
