/**
 * The one offline planner driver (src/planner/offline-planner.ts): a recorded FPM stream and
 * a trace of ticks go through the same component planners, with the same bound on
 * components, and a malformed trace line is a ConfigError naming the line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import type { PlannerDecision } from "../../src/planner/decision.js";
import { OfflinePlanner, replayTrace } from "../../src/planner/offline-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { parseRecordLine, recordLine } from "../../src/recording/stream-recording.js";
import { ConfigError } from "../../src/util/errors.js";
import { fpm } from "./fpm-fixture.js";

const config = resolvePlannerConfig({ loadAdjustmentIntervalS: 5 });

function wireEngine(workerId: string) {
  return { version: 1, worker_id: workerId, dp_rank: 0, wall_time: 0.02 };
}

function recorded(workerId: string, atMs: number, subjectComponent: string) {
  const payload = encodeFpm(fpm({ workerId, wallTimeS: 0.02, scheduled: { numDecodeRequests: 1 } }));
  const bytes = encodeEnvelope({ publisherId: 1n, sequence: 0n, publishedAtMs: BigInt(atMs), topic: "x", payload });
  const m = parseRecordLine(
    recordLine(`namespace.dynamo.component.${subjectComponent}.forward-pass-metrics`, bytes, atMs),
  );
  assert.ok(typeof m !== "string", m as string);
  return m;
}

test("offline planner - a trace tick decides with the replicas and engines it names", () => {
  const decisions: PlannerDecision[] = [];
  const lines = [
    JSON.stringify({ tick: 0, component: "backend", kind: "agg", replicas: 2, engines: [wireEngine("a")] }),
    "",
    JSON.stringify({ tick: 1, component: "prefill", kind: "prefill", replicas: 1, pending: 1, engines: [] }),
  ];
  assert.equal(
    replayTrace(lines, config, (d) => decisions.push(d)),
    2,
  );
  assert.deepEqual(
    decisions.map((d) => [d.component, d.kind, d.replicas, d.time]),
    [
      ["backend", "agg", 2, new Date(0).toISOString()],
      ["prefill", "prefill", 1, new Date(5000).toISOString()],
    ],
  );
});

test("offline planner - a malformed trace line is a ConfigError naming its line, never a TypeError", () => {
  for (const [line, message] of [
    ["not json", /trace line 2 is not JSON/],
    ["null", /trace line 2: needs kind/],
    [JSON.stringify({ tick: 0, component: "b", kind: "agg", replicas: 1, engines: [{ dp_rank: -1 }] }), /engine 0/],
    [JSON.stringify({ tick: 0, component: "b", kind: "agg", replicas: 1, engines: [], pending: -1 }), /pending/],
  ] as const) {
    const offline = new OfflinePlanner({ config, onDecision: () => {} });
    offline.replayTraceLine("");
    assert.throws(
      () => offline.replayTraceLine(line),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      line,
    );
  }
});

test("offline planner - a recorded stream ticks per component on the recording's clock, counting live workers", () => {
  const decisions: PlannerDecision[] = [];
  const offline = new OfflinePlanner({ config, onDecision: (d) => decisions.push(d) });
  for (let t = 0; t <= 12_000; t += 1000) {
    offline.feed(recorded("a", t, "backend"), "backend");
    offline.feed(recorded("b", t, "backend"), "backend");
  }
  offline.finish();
  assert.equal(decisions.length, 3, "ticks at 5 s, 10 s and once more at the end");
  assert.ok(decisions.every((d) => d.component === "backend" && d.replicas === 2));
  assert.equal(offline.totals.messages, 26);
});

test("offline planner - components past the bound are counted (stream) or stop the replay (trace)", () => {
  const stream = new OfflinePlanner({ config, maxComponents: 1, onDecision: () => {} });
  stream.feed(recorded("a", 0, "one"), "one");
  stream.feed(recorded("a", 0, "two"), "two");
  assert.equal(stream.totals.componentsRefused, 1);

  const trace = new OfflinePlanner({ config, maxComponents: 1, onDecision: () => {} });
  trace.replayTraceLine(JSON.stringify({ tick: 0, component: "one", kind: "agg", replicas: 1, engines: [] }));
  assert.throws(
    () => trace.replayTraceLine(JSON.stringify({ tick: 0, component: "two", kind: "agg", replicas: 1, engines: [] })),
    /trace line 2: more than 1 components/,
  );
});
