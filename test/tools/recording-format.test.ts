import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { renderEngineTable } from "../../src/cli/tail-command.js";
import { componentOfSubject } from "../../src/eventplane/subject.js";
import { describeDecision, replicaStrip } from "../../src/cli/demo-view.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { parseRecordLine, recordedBytes, recordLine } from "../../src/recording/stream-recording.js";

const SUBJECT = "namespace.dynamo.component.back%2Eend.forward-pass-metrics";

test("tools - a recording line keeps u64 envelope fields exact and reproduces the envelope bytes", () => {
  const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: "w", counterId: 7, wallTimeS: 0.5 });
  const env = {
    publisherId: (1n << 63n) + 5n,
    sequence: 1n << 60n,
    publishedAtMs: 1_763_800_000_123n,
    topic: "forward-pass-metrics",
    payload,
  };
  const bytes = encodeEnvelope(env);
  const line = recordLine(SUBJECT, bytes, 1_763_800_000_123.456);
  const o = JSON.parse(line);
  assert.equal(o.publisher_id, "9223372036854775813");
  assert.equal(o.sequence, "1152921504606846976", "above 2^53: a decimal string");
  assert.equal(o.published_at, 1_763_800_000_123);
  assert.equal(o.received_at, 1_763_800_000_123.456);
  const back = parseRecordLine(line);
  assert.ok(typeof back !== "string");
  assert.deepEqual(Buffer.from(recordedBytes(back)), Buffer.from(bytes));
  assert.deepEqual(
    Buffer.from(recordedBytes(back, 42n)),
    Buffer.from(encodeEnvelope({ ...env, publishedAtMs: 42n })),
    "--restamp changes only published_at",
  );
});

test("tools - an envelope that does not decode is recorded raw and replayed as it was", () => {
  const junk = Uint8Array.from([0x93, 1, 2, 3]);
  const line = recordLine("a.b", junk, 1);
  assert.match(JSON.parse(line).invalid, /./);
  const back = parseRecordLine(line);
  assert.ok(typeof back !== "string");
  assert.deepEqual([...recordedBytes(back)], [...junk]);
});

test("tools - malformed recording lines are refused with a reason", () => {
  assert.equal(parseRecordLine("nope"), "not JSON");
  assert.equal(parseRecordLine("[]"), "not a JSON object");
  assert.match(
    parseRecordLine('{"subject":"a","publisher_id":"-1","sequence":0,"published_at":0,"payload":""}') as string,
    /publisher_id/,
  );
  assert.match(
    parseRecordLine(
      '{"subject":"a","publisher_id":"18446744073709551616","sequence":0,"published_at":0,"payload":""}',
    ) as string,
    /publisher_id/,
  );
  assert.match(
    parseRecordLine('{"subject":"a","publisher_id":"1","sequence":1.5,"published_at":0,"payload":""}') as string,
    /sequence/,
  );
  assert.match(
    parseRecordLine('{"subject":"a b","publisher_id":"1","sequence":1,"published_at":0,"payload":""}') as string,
    /subject/,
  );
  assert.match(
    parseRecordLine('{"subject":"a","publisher_id":"1","sequence":1,"published_at":0,"payload":"abc"}') as string,
    /payload/,
  );
});

test("tools - tail's table names the component from the subject and shows idle engines", () => {
  assert.equal(componentOfSubject(SUBJECT), "back.end");
  const fpm = { ...defaultForwardPassMetrics(), workerId: "w1", dpRank: 1, counterId: 9 };
  const text = renderEngineTable(
    [{ component: "backend", fpm, messages: 3, windowMessages: 2, lastAtMs: 1000 }],
    1,
    3000,
    { dropped: new Map([["payload_decode", 4]]), refused: 0 },
  );
  const row = text.split("\n")[1];
  assert.match(row, /^backend +w1 +1 +9 +2 +idle/);
  assert.match(row, /2\.0$/, "age in seconds");
  assert.match(text, /dropped: payload_decode=4/);
});

test("demo - decisions are described with their reason, and the replica strip reads left to right", () => {
  const up = describeDecision(
    { atS: 8.7, replicas: 1, desired: 2, direction: "up", reason: "scale_up", maxTtftMs: 138.4 },
    100,
    50,
  );
  assert.match(up, /8\.7 s {2}replicas 1 -> 2 +scale_up +every engine's TTFT estimate above the 100 ms SLA/);
  assert.match(up, /highest TTFT 138\.4 ms/);
  assert.equal(replicaStrip([2, 2, 1, 3, 12].map((replicas) => ({ replicas }))), "2213+");
  const policy = describeDecision(
    {
      atS: 16.6,
      replicas: 2,
      desired: 4,
      direction: "up",
      reason: "scale_up",
      rule: "demand_scale_up",
      replicasNeeded: 4,
      ttftAtDesiredMs: 64.2,
    },
    100,
    50,
  );
  assert.match(policy, /the demand and backlog need more replicas \(one step\); 4 needed now, TTFT at 4: 64\.2 ms/);
});
