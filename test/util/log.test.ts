import assert from "node:assert/strict";
import { test } from "node:test";
import { Logger, levelFromEnv } from "../../src/util/log.js";

test("log - DYN_LOG parsing: bare levels, Rust-style filters, unknown falls back to info", () => {
  assert.equal(levelFromEnv("debug"), "debug");
  assert.equal(levelFromEnv("WARN"), "warn");
  assert.equal(levelFromEnv("dynamo_runtime=trace,error"), "error");
  assert.equal(levelFromEnv("verbose"), "info");
  assert.equal(levelFromEnv(undefined), "info");
});

test("log - JSON lines carry time, level, target, message and fields; bigint survives", () => {
  const lines: string[] = [];
  const log = new Logger({ target: "relay", json: true, level: "info", sink: (l) => lines.push(l) });
  log.info("forwarded", { rank: 1, publisherId: 2n ** 60n });
  log.debug("hidden");
  assert.equal(lines.length, 1);
  const obj = JSON.parse(lines[0]);
  assert.equal(obj.level, "INFO");
  assert.equal(obj.target, "relay");
  assert.equal(obj.message, "forwarded");
  assert.equal(obj.publisherId, (2n ** 60n).toString());
  assert.ok(!Number.isNaN(Date.parse(obj.time)));
});

test("log - text lines quote values with spaces", () => {
  const lines: string[] = [];
  new Logger({ target: "t", json: false, sink: (l) => lines.push(l) }).warn("dropped", {
    reason: "schema",
    detail: "a b",
  });
  assert.match(lines[0], /WARN {2}t: dropped reason=schema detail="a b"$/);
});

test("log - limited() bounds a flood per key and reports the suppressed count in the next window", (t) => {
  // The window follows a mocked clock: a slow machine cannot end it in the middle of the flood.
  t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
  const lines: string[] = [];
  const log = new Logger({ target: "t", json: true, sink: (l) => lines.push(l), limitPerWindow: 3, limitWindowMs: 50 });
  for (let i = 0; i < 1000; i++) log.limited("drop:schema", "warn", "bad payload");
  for (let i = 0; i < 10; i++) log.limited("drop:decode", "warn", "bad bytes");
  assert.equal(lines.length, 6, "3 lines per key");
  t.mock.timers.tick(60);
  log.limited("drop:schema", "warn", "bad payload");
  assert.equal(JSON.parse(lines[6]).suppressed, 997);
});

test("log - limited() keys are bounded: a flood of distinct keys shares one bucket", () => {
  const lines: string[] = [];
  const log = new Logger({
    target: "t",
    json: true,
    sink: (l) => lines.push(l),
    limitPerWindow: 1,
    limitWindowMs: 60_000,
  });
  for (let i = 0; i < 10_000; i++) log.limited(`key-${i}`, "warn", "x");
  assert.ok(lines.length <= 257, `at most 256 keys + the shared one, got ${lines.length}`);
});

test("log - a child logs under <target>.<part>; a field cannot replace the line's own keys", () => {
  const lines: string[] = [];
  const log = new Logger({ target: "fpm.planner", json: true, level: "info", sink: (l) => lines.push(l) });
  log.child("connector").info("scaled", { target: "sla", message: "x", replicas: 2 });
  const obj = JSON.parse(lines[0]);
  assert.equal(obj.target, "fpm.planner.connector");
  assert.equal(obj.message, "scaled");
  assert.equal(obj.replicas, 2);
  assert.deepEqual(Object.keys(obj).slice(0, 4), ["time", "level", "target", "message"]);
});
