/**
 * Regression: with a connector that reports replicas still starting (fpm simulate
 * --follow-planner, fpm evaluate), a default-mode tick that held (a scale in progress, or
 * no change) was recorded with direction "down" and `desired` = the ready count, so an
 * actuator cancelled the replica it had just started; the next tick scaled up again, and
 * so on (fpm evaluate: 1,118 flaps in two hours). A hold keeps what was asked for.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ComponentPlanner } from "../../src/planner/component-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { fpm } from "../planner/fpm-fixture.js";

test("regression - default mode holds while a replica starts instead of cancelling it", () => {
  const p = new ComponentPlanner({
    component: "backend",
    kind: "agg",
    config: resolvePlannerConfig({ optimizationTarget: "sla", maxNumBatchedTokens: 2048 }),
  });
  const engines = [{ workerId: "w0", dpRank: 0, fpm: fpm({ workerId: "w0", wallTimeS: 0.01 }) }];
  // The default policy counts a starting replica as capacity instead of stopping at the gate: its
  // hold is the allocation, the starting replica included.
  const inProgress = p.tick({ nowMs: 5000, engines, replicas: 1, pendingReplicas: 1, scaleInProgress: true });
  assert.equal(inProgress.direction, "hold");
  assert.equal(inProgress.desired, 2, `${inProgress.reason} keeps the starting replica`);
  // Rules that decide on ready counts still stop at the gate and hold the ready count.
  const pre = new ComponentPlanner({
    component: "backend",
    kind: "agg",
    config: resolvePlannerConfig({
      mode: "parity",
      parityRules: "pre-1.6",
      optimizationTarget: "sla",
      maxNumBatchedTokens: 2048,
    }),
  });
  const gated = pre.tick({ nowMs: 5000, engines, replicas: 1, pendingReplicas: 1, scaleInProgress: true });
  assert.equal(gated.reason, "scaling_in_progress");
  assert.equal(gated.direction, "hold");
  const gate = p.tick({ nowMs: 10_000, engines, replicas: 1, pendingReplicas: 1, scaleInProgress: false });
  assert.equal(gate.direction, "hold", `${gate.reason} must not cancel the starting replica`);
});
