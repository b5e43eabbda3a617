/** The demo's state: pure transitions over typed events, and the structured inputs that become them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { plannerArgs, relayArgs, simulateArgs } from "../../src/cli/demo-children.js";
import { plannerLineEvent, relayCountsFrom, simulatorLineEvent } from "../../src/cli/demo-input.js";
import {
  applyDemoEvent,
  type DemoEvent,
  type DemoSettings,
  type DemoState,
  engineRows,
  initialDemoState,
  loadAt,
  MAX_DECISIONS_KEPT,
  relayTotals,
  statusLine,
  summarizeDemo,
} from "../../src/cli/demo-state.js";
import { renderLiveView, renderSummary } from "../../src/cli/demo-view.js";
import { parseSimulateEvent } from "../../src/cli/simulate-events.js";
import { parseDecisionRecord } from "../../src/planner/decision-record.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { parsePrometheusText } from "../../src/util/prometheus-text.js";
import { decisionRecord } from "../harness/decision-record.js";

const SETTINGS: DemoSettings = {
  durationS: 60,
  workers: 2,
  dpRanks: 2,
  maxWorkers: 4,
  baseRate: 10,
  stepRate: 110,
  stepAt: 12,
  stepUntil: 36,
  intervalS: 2,
  ttftMs: 100,
  itlMs: 50,
  startupDelayS: 2,
  seed: 1,
};

const run = (events: DemoEvent[], from: DemoState = initialDemoState(SETTINGS)) => events.reduce(applyDemoEvent, from);

const decision = (atS: number, replicas: number, desired: number, direction: "up" | "down" | "hold", reason: string) =>
  ({
    type: "decision",
    atS,
    record: {
      replicas,
      desired,
      direction,
      reason,
      engines: [
        { workerId: "w1", dpRank: 0, ttftMs: 120, itlMs: 9 },
        { workerId: "w1", dpRank: 1, ttftMs: 80, itlMs: 11 },
      ],
    },
  }) as const satisfies DemoEvent;

const status = (over: Record<string, number> = {}) =>
  JSON.stringify({
    time: "2026-12-01T00:00:00.000Z",
    event: "status",
    simulated_s: 5,
    workers: 2,
    ready_workers: 2,
    arrivals: 50,
    finished: 40,
    rejected: 0,
    preemptions: 0,
    forward_passes: 900,
    published: 1000,
    dropped: 1,
    waiting: 3,
    running: 7,
    ...over,
  });

test("demo - a decision moves the replica count and its history; only up and down are changes", () => {
  const s = run([
    decision(2, 2, 2, "hold", "no_change"),
    decision(4, 2, 1, "down", "scale_down"),
    decision(6, 1, 2, "up", "scale_up"),
  ]);
  assert.equal(s.replicas, 1, "replicas are what the planner saw at its latest tick");
  assert.deepEqual(
    s.replicaHistory.map((h) => h.replicas),
    [2, 2, 1],
  );
  assert.deepEqual(s.changes, [
    { atS: 4, from: 2, to: 1, reason: "scale_down" },
    { atS: 6, from: 1, to: 2, reason: "scale_up" },
  ]);
  assert.equal(s.scaleUps, 1);
  assert.equal(s.scaleDowns, 1);
  assert.equal(s.decisionCount, 3);
  assert.deepEqual(
    { max: s.decisions[0].maxTtftMs, min: s.decisions[0].minTtftMs, itl: s.decisions[0].maxItlMs },
    { max: 120, min: 80, itl: 11 },
  );
});

test("demo - transitions are pure: the state before an event is unchanged", () => {
  const before = run([decision(2, 2, 3, "up", "scale_up")]);
  const copy = structuredClone(before);
  run([decision(4, 3, 2, "down", "scale_down"), { type: "relay_started", relay: "relay-0-0" }], before);
  assert.deepEqual(before, copy);
});

test("demo - decisions kept are bounded, the count is not", () => {
  const events = Array.from({ length: MAX_DECISIONS_KEPT + 10 }, (_, i) => decision(i, 2, 2, "hold", "no_change"));
  const s = run(events);
  assert.equal(s.decisions.length, MAX_DECISIONS_KEPT);
  assert.equal(s.decisionCount, MAX_DECISIONS_KEPT + 10);
  assert.equal(s.decisions[0].atS, 10, "the oldest go first");
});

test("demo - engines carry the planner's latest estimates; an engine that leaves takes its estimate along", () => {
  const fpm = defaultForwardPassMetrics();
  const both = [
    { workerId: "w1", dpRank: 0, fpm },
    { workerId: "w1", dpRank: 1, fpm },
  ];
  let s = run([{ type: "engines", engines: both }, decision(2, 2, 2, "hold", "no_change")]);
  assert.deepEqual(
    engineRows(s).map((e) => e.ttftMs),
    [120, 80],
  );
  s = run([{ type: "engines", engines: both.slice(0, 1) }], s);
  assert.deepEqual(Object.keys(s.estimates), ["w1/0"]);
  s = run([{ type: "engines", engines: both }], s);
  assert.deepEqual(
    engineRows(s).map((e) => e.ttftMs),
    [120, undefined],
  );
});

test("demo - relays: running set, last counts per relay (kept after it stops), totals", () => {
  const s = run([
    { type: "relay_started", relay: "relay-0-0" },
    { type: "relay_started", relay: "relay-1-1" },
    { type: "relay_counts", relay: "relay-0-0", counts: { forwarded: 5, lost: 0, dropped: { decode: 1 } } },
    { type: "relay_counts", relay: "relay-0-0", counts: { forwarded: 9, lost: 1, dropped: { decode: 2 } } },
    { type: "relay_counts", relay: "relay-1-1", counts: { forwarded: 4, lost: 0, dropped: { decode: 1, schema: 3 } } },
    { type: "relay_stopped", relay: "relay-1-1" },
  ]);
  assert.deepEqual(s.relaysRunning, ["relay-0-0"]);
  assert.deepEqual(relayTotals(s), { forwarded: 13, lost: 1, dropped: { decode: 3, schema: 3 } });
});

test("demo - the simulator's status and summary lines set the ready workers and the request totals", () => {
  const lines = [status(), status({ ready_workers: 3, arrivals: 90 }).replace('"status"', '"summary"')];
  const s = run(lines.map((l) => simulatorLineEvent(l)!));
  assert.equal(s.readyWorkers, 3);
  const summary = summarizeDemo(s, "/tmp/logs");
  assert.deepEqual(summary.requests, { arrived: 90, finished: 40, rejected: 0 });
  assert.equal(summary.enginesPublished, 1000);
  assert.equal(summary.enginesDropped, 1);
});

test("demo - the first failure wins", () => {
  const s = run([
    { type: "failed", detail: "planner exited" },
    { type: "failed", detail: "then nats-server" },
  ]);
  assert.equal(s.failure, "planner exited");
});

test("demo - the load follows the step; the headless line and the views render from the state", () => {
  assert.deepEqual(loadAt(SETTINGS, 11.9), { rate: 10, phase: "before the step" });
  assert.deepEqual(loadAt(SETTINGS, 12), { rate: 110, phase: "step" });
  assert.deepEqual(loadAt(SETTINGS, 36), { rate: 10, phase: "after the step" });
  const s = run([
    { type: "clock", atS: 20 },
    { type: "nats_ready", url: "nats://127.0.0.1:4222" },
    { type: "relay_counts", relay: "r", counts: { forwarded: 42, lost: 0, dropped: {} } },
    decision(4, 2, 3, "up", "scale_up"),
  ]);
  assert.equal(statusLine(s), "demo: 20 s load 110 req/s, replicas 2, ready workers 0, queued requests 0, relayed 42");
  const view = renderLiveView(s);
  assert.match(view, /load 110 req\/s \(step\)/);
  assert.match(view, /messages relayed 42, dropped 0/);
  const summary = summarizeDemo(s, "/tmp/logs");
  assert.equal(summary.minReplicas, 2);
  assert.match(renderSummary(summary), /scale-ups: 1 {3}scale-downs: 0 {3}planner decisions: 1/);
  assert.equal(summarizeDemo(initialDemoState(SETTINGS), "/x").maxReplicas, 2, "no tick yet: the initial workers");
});

test("demo - planner lines: decision records are read, anything else is ignored", () => {
  const record = decisionRecord({
    replicas: 2,
    desired: 3,
    direction: "up",
    reason: "scale_up",
    rule: "demand_scale_up",
    engines: [{ workerId: "w", dpRank: 0, ttftMs: 130 }],
  });
  const e = plannerLineEvent(JSON.stringify(record), 7.5);
  assert.equal(e?.atS, 7.5);
  assert.deepEqual(e?.record, record);
  assert.equal(plannerLineEvent("planner running", 1), null);
  for (const bad of [
    "{not json",
    JSON.stringify({ ...record, desired: -1 }),
    JSON.stringify({ ...record, direction: "sideways" }),
    JSON.stringify({ ...record, engines: [{ workerId: 5 }] }),
    JSON.stringify({ ...record, engines: undefined }),
  ]) {
    assert.equal(plannerLineEvent(bad, 1), null, bad);
    assert.equal(parseDecisionRecord(bad).ok, false, bad);
  }
});

test("demo - simulator lines follow the --events contract; malformed ones are ignored", () => {
  const starting = {
    time: "t",
    event: "worker_starting",
    worker_id: "sim-worker-3",
    slot: 2,
    simulated_s: 1.5,
    endpoints: ["tcp://127.0.0.1:20384", "tcp://127.0.0.1:20385"],
  };
  assert.deepEqual(parseSimulateEvent(JSON.stringify(starting)), starting);
  assert.equal(parseSimulateEvent(JSON.stringify({ ...starting, slot: "2" })), null);
  assert.equal(parseSimulateEvent(JSON.stringify({ ...starting, event: "worker_exploded" })), null);
  assert.equal(parseSimulateEvent(JSON.stringify({ ...starting, time: undefined })), null);
  assert.equal(parseSimulateEvent(status({ finished: Number.NaN })), null, "NaN is written as null: not a count");
  assert.equal(parseSimulateEvent("[1,2]"), null);
  assert.equal(parseSimulateEvent("simulating"), null);
  assert.ok(parseSimulateEvent(JSON.stringify({ time: "t", event: "scale", from: 2, to: 3, reason: "scale_up" })));
});

test("demo - a relay's counters come from its /metrics", () => {
  const samples = parsePrometheusText(`fpm_relay_forwarded_total{dp_rank="0"} 10
fpm_relay_forwarded_total{dp_rank="1"} 5
fpm_relay_lost_total{dp_rank="0"} 2
fpm_relay_dropped_total{dp_rank="0",reason="decode"} 1
fpm_relay_dropped_total{dp_rank="1",reason="decode"} 2
fpm_relay_dropped_total{dp_rank="1",reason="oversize"} 0
`);
  assert.deepEqual(relayCountsFrom(samples), { forwarded: 15, lost: 2, dropped: { decode: 3, oversize: 0 } });
});

test("demo - the children's command lines", () => {
  assert.deepEqual(relayArgs(SETTINGS, "nats://h:1", 30000, 2, 9100).slice(0, 5), [
    "relay",
    "--base-port",
    "30004",
    "--dp-size",
    "2",
  ]);
  const planner = plannerArgs(SETTINGS, "nats://h:1");
  assert.equal(planner[planner.indexOf("--max-gpu-budget") + 1], "8", "max workers x dp ranks");
  assert.equal(planner[planner.indexOf("--component") + 1], "backend:agg");
  const sim = simulateArgs(SETTINGS, "nats://h:1", 30000);
  assert.equal(sim[sim.indexOf("--arrivals") + 1], "step:10:110:12:36");
  assert.ok(sim.includes("--events") && sim.includes("--follow-planner"));
});
