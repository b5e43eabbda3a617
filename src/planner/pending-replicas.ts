/**
 * Replicas still starting, as Dynamo 1.6.1 counts them (shared by every rule set that
 * knows them): a scale in progress stops the tick only when nothing is starting; while
 * replicas start, a scale-up waits for them, and a reduction may cancel them (even with a
 * single ready worker); a hold keeps the whole allocation (ready + starting).
 */

/** The `scaling_in_progress` gate: an unfinished scale with no replica starting (1.6.1 decides through starting replicas). */
export function scalingBlocked(scaleInProgress: boolean, pending: number): boolean {
  return scaleInProgress && pending === 0;
}

/** True when a scale-up must wait: replicas are starting and the target is above the ready count. */
export function upWaitsForPending(target: number, ready: number, pending: number): boolean {
  return pending > 0 && target > ready;
}

/**
 * With replicas starting, only a target that cancels some of them survives: at most the
 * ready count and below the allocation. Returns the target, or null (keep the allocation).
 */
export function startupReduction(target: number, ready: number, pending: number): number | null {
  if (pending <= 0) return target;
  if (target > ready || target >= ready + pending) return null;
  return target;
}

/** The allocation a hold keeps: ready plus starting replicas. */
export function allocation(ready: number, pending: number): number {
  return ready + Math.max(0, pending);
}
