/** A complete planner decision record for tests, from the few fields a test cares about. */
import type { PlannerDecision } from "../../src/planner/decision.js";

export function decisionRecord(over: Partial<PlannerDecision> = {}): PlannerDecision {
  return {
    time: "2026-12-01T00:00:00.000Z",
    component: "backend",
    kind: "agg",
    mode: "default",
    target: "sla",
    replicas: 1,
    desired: 1,
    direction: "hold",
    reason: "no_change",
    rule: "hold",
    engines: [],
    model: { status: "insufficient_data", intercept: null, coef: null, samples: 0, samplesAdded: 0 },
    ...over,
  };
}
