/**
 * Dynamo 1.6.1's GPU band for one component (`min_gpu_budget`..`max_gpu_budget`, -1 turns a
 * side off): a proposal is clamped into the band without reversing its direction; a current
 * count outside the band is reconciled into it; at an edge of the band the count holds.
 */
import type { DecisionReason } from "../decision.js";

export interface GpuBand {
  gpusPerReplica: number;
  /** -1: no floor. */
  minGpus: number;
  /** -1: no ceiling. */
  maxGpus: number;
  minEndpoint: number;
}

/** Does `total` GPUs fit `[min - tolerance, max]`? The ceiling is hard; the tolerance relaxes the floor only. */
function inBand(total: number, b: GpuBand, tolerance: number): boolean {
  if (b.maxGpus >= 0 && total > b.maxGpus) return false;
  if (b.minGpus >= 0 && total < b.minGpus - tolerance) return false;
  return true;
}

/** Nearest count in the band (0 when even the floor's replicas overshoot the ceiling). */
export function clampIntoBand(desired: number, b: GpuBand): number {
  if (b.minGpus < 0 && b.maxGpus < 0) return desired;
  const tolerance = b.minGpus >= 0 && b.maxGpus >= 0 ? b.gpusPerReplica : 0;
  const total = desired * b.gpusPerReplica;
  if (inBand(total, b, tolerance)) return desired;
  if (b.maxGpus >= 0 && total > b.maxGpus) {
    if (b.maxGpus < b.minEndpoint * b.gpusPerReplica) return 0;
    return Math.max(b.minEndpoint, Math.floor(b.maxGpus / b.gpusPerReplica));
  }
  return Math.max(b.minEndpoint, Math.ceil(b.minGpus / b.gpusPerReplica));
}

/** Applies the band to a proposal from `current`; the reason is set when the band changed or held it. */
export function guardGpuBudget(
  current: number,
  proposed: number,
  b: GpuBand,
): { desired: number; reason: Extract<DecisionReason, "gpu_budget_guard_hold" | "gpu_budget_reconcile"> | null } {
  const tolerance = b.minGpus >= 0 && b.maxGpus >= 0 ? b.gpusPerReplica : 0;
  const currentTotal = current * b.gpusPerReplica;
  if (!inBand(currentTotal, b, tolerance))
    return { desired: clampIntoBand(current, b), reason: "gpu_budget_reconcile" };
  if (b.minGpus >= 0 && currentTotal <= b.minGpus && proposed < current)
    return { desired: current, reason: "gpu_budget_guard_hold" };
  if (b.maxGpus >= 0 && currentTotal >= b.maxGpus && proposed > current)
    return { desired: current, reason: "gpu_budget_guard_hold" };
  const final = clampIntoBand(proposed, b);
  if (final < Math.min(current, proposed) || final > Math.max(current, proposed))
    return { desired: current, reason: "gpu_budget_guard_hold" };
  return { desired: final, reason: null };
}
