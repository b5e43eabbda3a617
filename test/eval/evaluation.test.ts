import assert from "node:assert/strict";
import { test } from "node:test";
import { runClosedLoop } from "../../src/eval/closed-loop.js";
import { resolveContender } from "../../src/eval/contenders.js";
import { boundScaleUp, releaseTo } from "../../src/eval/controllers.js";
import { evaluate } from "../../src/eval/evaluation.js";
import { renderJsonLines, renderTable } from "../../src/eval/report.js";
import { parseScenarios } from "../../src/eval/scenario.js";
import { scenarioLoad } from "../../src/eval/scenario-load.js";
import { ConfigError } from "../../src/util/errors.js";

/** A short step on at most 3 workers: small enough for a test, large enough to need scaling. */
const STEP = {
  name: "short-step",
  group: "test",
  duration_s: 90,
  arrivals: "step:10:60:30:60",
  poisson: true,
  workers: 1,
  dp_ranks: 2,
  max_workers: 3,
  startup_delay_s: 10,
  planner: { optimization_target: "sla", ttft: 100, itl: 50, load_adjustment_interval: 5 },
};
const [step] = parseScenarios(JSON.stringify(STEP), "test", ".");
const sizing = { maxRate: [0, 38.5, 77.5, 116.8], concurrency: [0, 67.3, 141.9, 212.9], target: 0.99 };

test("eval - the same scenarios give the same table byte for byte, in one thread or two", async () => {
  const contenders = ["default", "parity", "fixed-peak", "oracle"].map((name) => ({ name }));
  const one = await evaluate({ scenarios: [step], contenders, threads: 1 });
  const again = await evaluate({ scenarios: [step], contenders, threads: 1 });
  const two = await evaluate({ scenarios: [step], contenders, threads: 2 });
  assert.equal(renderTable(again), renderTable(one));
  assert.equal(renderTable(two), renderTable(one));
  assert.equal(renderJsonLines(two), renderJsonLines(one));
  assert.deepEqual(
    one[0].rows.map((r) => r.contender),
    ["default", "parity", "fixed-peak", "oracle"],
  );
  const oracle = one[0].rows.find((r) => r.contender === "oracle")!;
  assert.equal(oracle.cost_vs_oracle, 1);
  assert.equal(oracle.under_provisioned_s, 0);
});

test("eval - the planner in closed loop gets every forward pass through the subscriber and scales", () => {
  const load = scenarioLoad(step);
  const controller = resolveContender({ name: "default" }).create(step, { load, sizing });
  const trace = runClosedLoop({ scenario: step, arrivals: load.source(), controller });
  const s = trace.controllerSummary;
  assert.ok(s.messages_delivered > 1000, `delivered ${s.messages_delivered}`);
  assert.equal(s.messages_dropped, 0, "every message decodes and none is a duplicate");
  // One decision per tick from 0 until the run stopped (90 s plus however much of the grace it needed).
  assert.ok(sumDecisions(s) >= 90 / 5 + 1, `decisions ${sumDecisions(s)}`);
  assert.ok((s.decisions_scale_up ?? 0) > 0);
  assert.ok(
    trace.actions.some((a) => a.to > a.from),
    "the step makes it scale up",
  );
  assert.equal(trace.arrived, trace.ttftS.length + trace.rejected + trace.unfinished);
});

function sumDecisions(s: Record<string, number>): number {
  return Object.entries(s)
    .filter(([k]) => k.startsWith("decisions_"))
    .reduce((a, [, v]) => a + v, 0);
}

test("eval - the oracle has workers ready before the step; the fixed deployment never scales", () => {
  const load = scenarioLoad(step);
  const oracle = runClosedLoop({
    scenario: step,
    arrivals: load.source(),
    controller: resolveContender({ name: "oracle" }).create(step, { load, sizing }),
  });
  // 60 req/s from 30 s needs 2 workers; with a 10 s start-up the oracle starts one at 19-20 s.
  const up = oracle.actions.find((a) => a.to > a.from)!;
  assert.ok(up.tS >= 18 && up.tS <= 20, `scaled up at ${up.tS}`);
  const down = oracle.actions.find((a) => a.to < a.from)!.tS;
  assert.ok(down >= 60 && down <= 65, `lets it go once the step ended and its requests fit on one (at ${down})`);
  const fixed = runClosedLoop({
    scenario: step,
    arrivals: load.source(),
    controller: resolveContender({ name: "fixed-peak" }).create(step, { load, sizing }),
  });
  assert.deepEqual(fixed.actions, []);
  assert.deepEqual(fixed.provisioned.values, [2]);
  assert.equal(fixed.replicaSeconds, 2 * 90);
});

test("eval - the reactive bound sees the step when it comes, asks for the need and the shortfall again, pays the start-up", () => {
  // Hand-worked: 10 req/s needs 1 worker, 60 req/s needs 2 (38.5 < 60 <= 77.5). At 30 s the
  // bound sees 2 against 1 allocated and asks 2 + (2 - 1) = 3; they are ready at 40 s, and
  // it lets the third go once the queue has drained, the last when the step has ended.
  assert.equal(boundScaleUp(2, 1), 3);
  assert.equal(boundScaleUp(4, 4), 4, "no shortfall, no extra");
  assert.equal(boundScaleUp(3, 2), 4);
  assert.equal(releaseTo(1, 3, 100, sizing.concurrency), 2, "100 in flight fit on 2 workers (141.9), not on 1 (67.3)");
  assert.equal(releaseTo(1, 3, 60, sizing.concurrency), 1);
  assert.equal(releaseTo(1, 3, 150, sizing.concurrency), 3, "150 in flight need all 3");
  const load = scenarioLoad(step);
  const controller = resolveContender({ name: "reactive-bound" }).create(step, { load, sizing });
  assert.equal(controller.initialWorkers, 1, "the need of the load at 0 s");
  const trace = runClosedLoop({ scenario: step, arrivals: load.source(), controller });
  const [up, ...rest] = trace.actions;
  assert.deepEqual([up.tS, up.from, up.to], [30, 1, 3], "no foresight: not before the step, at once when it comes");
  assert.ok(
    rest.every((a) => a.to < a.from && a.tS >= 40),
    "only scale-downs follow, once the new workers are ready",
  );
  assert.deepEqual(
    rest.map((a) => a.to),
    [2, 1],
  );
  assert.ok(rest[1].tS >= 60, `the last goes after the step (at ${rest[1].tS})`);
});

test("eval - scale-down by drain restarts nothing; by kill the killed worker's requests restart", () => {
  const load = scenarioLoad(step);
  const run = (scaleDown: "kill" | "drain") => {
    const s = { ...step, scaleDown };
    return runClosedLoop({
      scenario: s,
      arrivals: load.source(),
      controller: resolveContender({ name: "oracle" }).create(s, { load, sizing }),
    });
  };
  const kill = run("kill");
  const drain = run("drain");
  assert.ok(kill.restarted > 0, "the oracle kills a busy worker when the step ends");
  assert.equal(drain.restarted, 0);
  assert.ok(drain.replicaSeconds > kill.replicaSeconds, "a draining worker is paid for until it is empty");
});

test("eval - a contender given as planner keys runs beside the built-ins; a bad key fails before any run", async () => {
  const r = await evaluate({
    scenarios: [step],
    contenders: [{ name: "sens-50", planner: { load_scaling_down_sensitivity: 50 } }, { name: "fixed-peak" }],
  });
  assert.deepEqual(
    r[0].rows.map((x) => x.contender),
    ["sens-50", "fixed-peak"],
  );
  assert.ok(r[0].rows[1].cost_vs_oracle! > 1, "costed against the oracle even when it is not shown");
  await assert.rejects(
    evaluate({ scenarios: [step], contenders: [{ name: "typo", planner: { ttft_ms_x: 1 } }] }),
    (err: unknown) => err instanceof ConfigError && /contender typo/.test(err.message) && /ttft_ms_x/.test(err.message),
  );
  await assert.rejects(evaluate({ scenarios: [step], contenders: [{ name: "nobody" }] }), /unknown contender "nobody"/);
});
