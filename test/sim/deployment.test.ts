import assert from "node:assert/strict";
import { test } from "node:test";
import { ListArrivals, RateArrivals } from "../../src/sim/arrivals.js";
import {
  type FinishedRequest,
  type ForwardPassEvent,
  SimulatedDeployment,
  type WorkerEvent,
} from "../../src/sim/deployment.js";

const cost = { a: 0.01, b: 1e-4, c: 1e-6, noise: 0 };

test("sim - one request through one engine: prefill then decode, on the simulated clock", () => {
  const out: ForwardPassEvent[] = [];
  const d = new SimulatedDeployment({
    arrivals: new ListArrivals([{ atS: 1, inputTokens: 100, outputTokens: 2, cachedTokens: 0 }]),
    cost,
    onForwardPass: (e) => out.push(e),
  });
  d.advanceTo(10);
  assert.equal(out.length, 2);
  assert.equal(out[0].fpm.counterId, 0);
  assert.equal(out[0].fpm.workerId, "sim-worker-0");
  assert.equal(out[0].fpm.wallTimeS, 0.01 + 100 * 1e-4);
  assert.equal(out[0].atS, 1 + out[0].fpm.wallTimeS);
  assert.equal(out[0].fpm.scheduledRequests.sumPrefillTokens, 100);
  assert.equal(out[1].fpm.counterId, 1);
  assert.equal(out[1].fpm.wallTimeS, 0.01 + 100 * 1e-6);
  assert.equal(out[1].fpm.scheduledRequests.sumDecodeKvTokens, 100);
  assert.equal(d.totals.finished, 1);
  assert.ok(d.drained());
  assert.equal(d.nowS, 10, "simulated time reaches the requested point without wall time passing");
});

test("sim - idle engines send heartbeats (wall_time 0) on the simulated clock", () => {
  const out: ForwardPassEvent[] = [];
  const d = new SimulatedDeployment({
    arrivals: new ListArrivals([]),
    workers: 1,
    dpRanks: 2,
    heartbeatIntervalS: 1,
    cost,
    onForwardPass: (e) => out.push(e),
  });
  d.advanceTo(3.5);
  assert.equal(out.length, 6, "2 engines x 3 heartbeats");
  assert.ok(out.every((e) => e.fpm.wallTimeS === 0 && e.fpm.scheduledRequests.numPrefillRequests === 0));
  assert.deepEqual(
    out.filter((e) => e.dpRank === 1).map((e) => e.fpm.counterId),
    [0, 1, 2],
  );
});

test("sim - the router spreads load over every engine of every worker", () => {
  const seen = new Set<string>();
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({ shape: { kind: "constant", rate: 40 }, endS: 10 }),
    workers: 2,
    dpRanks: 2,
    cost,
    onForwardPass: (e) => seen.add(`${e.workerId}/${e.dpRank}`),
  });
  d.advanceTo(30);
  assert.deepEqual([...seen].sort(), ["sim-worker-0/0", "sim-worker-0/1", "sim-worker-1/0", "sim-worker-1/1"]);
  assert.equal(d.totals.finished, d.totals.arrivals);
});

test("sim - added workers become ready after the start-up delay; removal re-routes their requests", () => {
  const events: WorkerEvent[] = [];
  const byWorker = new Map<string, number>();
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({ shape: { kind: "constant", rate: 20 }, endS: 20 }),
    workers: 1,
    startupDelayS: 5,
    cost,
    onForwardPass: (e) => byWorker.set(e.workerId, (byWorker.get(e.workerId) ?? 0) + 1),
    onWorkerEvent: (e) => events.push(e),
  });
  d.advanceTo(1);
  d.setWorkerCount(2);
  assert.equal(d.workerCount(), 2);
  assert.equal(d.readyWorkerCount(), 1);
  d.advanceTo(5.9);
  assert.equal(byWorker.get("sim-worker-1"), undefined, "not ready before the delay");
  d.advanceTo(10);
  assert.equal(d.readyWorkerCount(), 2);
  assert.ok((byWorker.get("sim-worker-1") ?? 0) > 0);
  d.setWorkerCount(1);
  d.advanceTo(60);
  assert.deepEqual(
    events.map((e) => `${e.kind}:${e.workerId}@${e.atS}`),
    [
      "starting:sim-worker-0@0",
      "ready:sim-worker-0@0",
      "starting:sim-worker-1@1",
      "ready:sim-worker-1@6",
      "stopped:sim-worker-1@10",
    ],
  );
  assert.equal(d.totals.finished, d.totals.arrivals, "every request finishes, re-routed ones included");
  d.setWorkerCount(0);
  assert.equal(d.workerCount(), 1, "never below one worker");
});

test("sim - the same seed gives the same stream of FPM", () => {
  const run = () => {
    const out: number[] = [];
    const d = new SimulatedDeployment({
      arrivals: new RateArrivals({ shape: { kind: "constant", rate: 30 }, poisson: true, seed: 4, endS: 5 }),
      dpRanks: 2,
      cost: { noise: 0.05 },
      seed: 9,
      onForwardPass: (e) => out.push(e.fpm.wallTimeS, e.fpm.queuedRequests.sumPrefillTokens),
    });
    d.advanceTo(20);
    return out;
  };
  assert.deepEqual(run(), run());
});

test("sim - killed workers' requests restart elsewhere, counted per request; finished requests report timings", () => {
  const done: FinishedRequest[] = [];
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({ shape: { kind: "constant", rate: 40 }, endS: 10 }),
    workers: 2,
    cost,
    onForwardPass: () => {},
    onRequestFinished: (r) => done.push(r),
  });
  d.advanceTo(5);
  d.setWorkerCount(1);
  d.advanceTo(120);
  assert.equal(done.length, d.totals.arrivals);
  const restarted = done.filter((r) => r.restarts > 0);
  assert.ok(restarted.length > 0);
  assert.equal(restarted.length, d.totals.rerouted);
  for (const r of done) {
    assert.ok(r.firstTokenS > r.arrivalS && r.finishS >= r.firstTokenS);
    assert.ok(r.inputTokens >= 256 && r.outputTokens >= 32);
  }
});

test("sim - a drained worker takes no new requests, finishes its own, then stops", () => {
  const events: WorkerEvent[] = [];
  const done: FinishedRequest[] = [];
  const byWorkerAfter = new Map<string, number>();
  let drainingAt = Infinity;
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({ shape: { kind: "constant", rate: 40 }, endS: 10 }),
    workers: 2,
    cost,
    scaleDown: "drain",
    onForwardPass: (e) => {
      if (e.atS > drainingAt) byWorkerAfter.set(e.workerId, (byWorkerAfter.get(e.workerId) ?? 0) + 1);
    },
    onWorkerEvent: (e) => {
      events.push(e);
      if (e.kind === "draining") drainingAt = e.atS;
    },
    onRequestFinished: (r) => done.push(r),
  });
  d.advanceTo(5);
  d.setWorkerCount(1);
  assert.equal(d.workerCount(), 1);
  assert.equal(d.drainingWorkerCount(), 1);
  d.advanceTo(120);
  assert.equal(d.totals.rerouted, 0, "nothing restarts when draining");
  assert.equal(done.length, d.totals.arrivals);
  const kinds = events.filter((e) => e.workerId === "sim-worker-1").map((e) => e.kind);
  assert.deepEqual(kinds, ["starting", "ready", "draining", "stopped"]);
  const stop = events.find((e) => e.kind === "stopped")!;
  const own = done.filter((r) => r.workerId === "sim-worker-1");
  assert.ok(own.length > 0 && own.every((r) => r.arrivalS <= 5), "only requests routed before the drain");
  assert.equal(stop.atS, Math.max(...own.map((r) => r.finishS)), "it stops when its last request finishes");
  assert.equal(d.drainingWorkerCount(), 0);
  assert.ok((byWorkerAfter.get("sim-worker-1") ?? 0) > 0, "it kept iterating while draining");
});
