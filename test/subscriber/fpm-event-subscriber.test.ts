import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { FpmEventSubscriber, type FpmMessage } from "../../src/subscriber/fpm-event-subscriber.js";
import type { EngineEvent } from "../../src/subscriber/tracked-engine.js";
import { Logger } from "../../src/util/log.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { waitFor } from "../harness/ports.js";
import { envelope, envelopeWithPayload } from "./envelope-fixture.js";

const quiet = new Logger({ target: "test", level: "error" });
const SUBJ = "namespace.dynamo.component.backend.forward-pass-metrics";

test("subscriber - drops malformed envelopes and payloads and the wrong topic, each with its reason", () => {
  const sub = new FpmEventSubscriber({ logger: quiet, staleAfterMs: 0 });
  assert.equal(sub.ingest(SUBJ, Uint8Array.from([0xc1])), "envelope_decode");
  assert.equal(sub.ingest(SUBJ, Uint8Array.from([0x91, 0x01])), "envelope_schema", "an array, not a map");
  assert.equal(sub.ingest(SUBJ, envelope(1n, 0n, {}, "kv-events")), "wrong_topic");
  assert.equal(
    sub.ingest(SUBJ, envelopeWithPayload(1n, 1n, Uint8Array.from([0x81]))),
    "payload_decode",
    "truncated map",
  );
  assert.equal(sub.ingest(SUBJ, envelopeWithPayload(1n, 2n, Uint8Array.from([0x90]))), "payload_schema");
  // {"version": 2}
  assert.equal(
    sub.ingest(SUBJ, envelopeWithPayload(1n, 3n, Uint8Array.from([0x81, 0xa7, ...Buffer.from("version"), 0x02]))),
    "payload_unsupported_version",
  );
  assert.equal(sub.ingest(SUBJ, envelope(1n, 4n, { wallTimeS: -1 })), "payload_invalid_value");
  const s = sub.stats();
  assert.equal(s.received, 7);
  assert.equal(s.accepted, 0);
  for (const r of [
    "envelope_decode",
    "envelope_schema",
    "wrong_topic",
    "payload_decode",
    "payload_schema",
    "payload_unsupported_version",
    "payload_invalid_value",
  ] as const) {
    assert.equal(s.dropped[r], 1, r);
  }
  assert.equal(s.lost, 0, "in-order sequences 1..4 lost nothing even though their payloads were bad");
});

test("subscriber - tracks the latest FPM per engine and drops duplicates and older messages", () => {
  const sub = new FpmEventSubscriber({ logger: quiet, staleAfterMs: 0 });
  assert.equal(sub.ingest(SUBJ, envelope(7n, 0n, { workerId: "a", dpRank: 0, counterId: 1, wallTimeS: 0.01 })), null);
  assert.equal(sub.ingest(SUBJ, envelope(7n, 1n, { workerId: "a", dpRank: 1, counterId: 1, wallTimeS: 0.02 })), null);
  assert.equal(
    sub.ingest(SUBJ, envelope(7n, 1n, { workerId: "a", dpRank: 1, counterId: 1, wallTimeS: 0.02 })),
    "duplicate",
    "same (publisher, sequence)",
  );
  assert.equal(
    sub.ingest(SUBJ, envelope(7n, 0n, { workerId: "a", dpRank: 0, counterId: 1 })),
    "duplicate",
    "a sequence below the publisher's last: a copy (a relay publishes again what NATS did not confirm)",
  );
  assert.equal(
    sub.ingest(SUBJ, envelope(8n, 0n, { workerId: "a", dpRank: 0, counterId: 1 })),
    "duplicate",
    "same counter_id through a second relay",
  );
  assert.equal(sub.ingest(SUBJ, envelope(7n, 2n, { workerId: "a", dpRank: 0, counterId: 2, wallTimeS: 0.03 })), null);
  assert.equal(
    sub.ingest(SUBJ, envelope(8n, 1n, { workerId: "a", dpRank: 0, counterId: 1 })),
    "out_of_order",
    "lower counter_id via another relay",
  );
  const snap = sub.snapshot();
  assert.equal(snap.length, 2);
  assert.equal(sub.get("backend", "a", 0)!.fpm.wallTimeS, 0.03);
  assert.equal(sub.get("backend", "a", 1)!.fpm.wallTimeS, 0.02);
  const s = sub.stats();
  assert.equal(s.dropped.duplicate, 3);
  assert.equal(s.dropped.out_of_order, 1);
  assert.equal(s.accepted, 3);
});

test("subscriber - counts lost messages from sequence gaps and accepts an engine restart", () => {
  const sub = new FpmEventSubscriber({ logger: quiet, staleAfterMs: 0 });
  const events: EngineEvent[] = [];
  sub.onEngineEvent((e) => events.push(e));
  sub.ingest(SUBJ, envelope(3n, 10n, { workerId: "a", counterId: 50 }));
  sub.ingest(SUBJ, envelope(3n, 14n, { workerId: "a", counterId: 54 })); // 11, 12, 13 lost
  assert.equal(sub.stats().lost, 0, "a gap is judged by the envelope after it");
  // The engine restarted: counter_id back to 0 through the same relay, next sequence.
  assert.equal(sub.ingest(SUBJ, envelope(3n, 15n, { workerId: "a", counterId: 0, wallTimeS: 0.5 })), null);
  assert.equal(sub.stats().lost, 3, "the gap stands: 15 follows 14");
  assert.equal(sub.get("backend", "a", 0)!.fpm.wallTimeS, 0.5, "the restarted engine's message is accepted at once");
  assert.equal(sub.stats().restarts, 0, "a step back is judged by the message after it");
  assert.equal(sub.ingest(SUBJ, envelope(3n, 16n, { workerId: "a", counterId: 1, wallTimeS: 0.6 })), null);
  assert.equal(sub.stats().restarts, 1);
  assert.deepEqual(
    events.map((e) => e.type),
    ["added", "restarted"],
  );
  // Unstamped engines (counter_id always 0) are never taken for duplicates.
  assert.equal(sub.ingest(SUBJ, envelope(3n, 17n, { workerId: "u", counterId: 0 })), null);
  assert.equal(sub.ingest(SUBJ, envelope(3n, 18n, { workerId: "u", counterId: 0 })), null);
  assert.equal(sub.stats().dropped.duplicate, 0);
});

test("subscriber - expires silent engines with an event, removeWorker forgets every rank, and the engine bound refuses the excess", () => {
  let now = 1000;
  const sub = new FpmEventSubscriber({ logger: quiet, staleAfterMs: 5000, maxEngines: 2, now: () => now });
  const events: EngineEvent[] = [];
  sub.onEngineEvent((e) => events.push(e));
  // Three messages each take both engines past probation: a newcomer cannot push them out.
  let seq = 0n;
  for (let c = 1; c <= 3; c++) {
    sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "a", dpRank: 0, counterId: c }));
    sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "a", dpRank: 1, counterId: c }));
  }
  assert.equal(sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "b" })), "engine_limit");
  assert.equal(sub.stats().dropped.engine_limit, 1);
  now = 4000;
  sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "a", dpRank: 1, counterId: 9 }));
  now = 6001; // rank 0 silent 5001 ms, rank 1 silent 2001 ms
  assert.equal(sub.expireStale(), 1);
  assert.deepEqual(
    sub.snapshot().map((t) => t.dpRank),
    [1],
  );
  assert.deepEqual(
    events.filter((e) => e.type === "expired"),
    [{ type: "expired", component: "backend", workerId: "a", dpRank: 0 }],
  );
  assert.equal(sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "b" })), null, "room again after the expiry");
  assert.equal(sub.removeWorker("a"), 1);
  assert.deepEqual(
    sub.snapshot().map((t) => t.workerId),
    ["b"],
  );
  assert.equal(sub.stats().removed, 1);
  assert.equal(sub.stats().expired, 1);
});

test("subscriber - components come from the subject, percent-decoded", () => {
  const sub = new FpmEventSubscriber({ logger: quiet, staleAfterMs: 0, components: ["prefill", "my.decode"] });
  assert.deepEqual(sub.subjects, [
    "namespace.dynamo.component.prefill.forward-pass-metrics",
    "namespace.dynamo.component.prefill.endpoint.*.forward-pass-metrics",
    "namespace.dynamo.component.my%2Edecode.forward-pass-metrics",
    "namespace.dynamo.component.my%2Edecode.endpoint.*.forward-pass-metrics",
  ]);
  sub.ingest(
    "namespace.dynamo.component.my%2Edecode.endpoint.generate.forward-pass-metrics",
    envelope(1n, 0n, { workerId: "a" }),
  );
  assert.equal(sub.snapshot("my.decode").length, 1);
  assert.equal(sub.snapshot("prefill").length, 0);
});

let nc: NatsConnection;
let testbed: NatsTestbed | undefined;
before(async () => {
  testbed = await startNatsTestbed("fpm-sub-");
  ({ nc } = testbed);
});
after(() => testbed?.close());

test("subscriber - recv and tracking together over a real nats-server, every component by wildcard", async () => {
  const sub = new FpmEventSubscriber({ connection: nc, namespace: "ns1", recv: true, logger: quiet, env: {} });
  sub.start();
  await nc.flush();
  const got: FpmMessage[] = [];
  const reader = (async () => {
    for await (const m of sub) {
      got.push(m);
      if (got.length === 3) break;
    }
  })();
  nc.publish(
    "namespace.ns1.component.prefill.forward-pass-metrics",
    envelope(11n, 0n, { workerId: "p1", counterId: 1, wallTimeS: 0.1 }),
  );
  nc.publish(
    "namespace.ns1.component.decode.endpoint.generate.forward-pass-metrics",
    envelope(12n, 0n, { workerId: "d1", counterId: 1, wallTimeS: 0.2 }),
  );
  nc.publish("namespace.ns1.component.decode.forward-pass-metrics", Uint8Array.from([0xc1, 2, 3]));
  nc.publish("namespace.other.component.decode.forward-pass-metrics", envelope(13n, 0n, { workerId: "x" }));
  nc.publish(
    "namespace.ns1.component.decode.forward-pass-metrics",
    envelope(12n, 1n, { workerId: "d1", counterId: 2, wallTimeS: 0.3 }),
  );
  await reader;
  assert.deepEqual(
    got.map((m) => [m.component, m.fpm.workerId, m.fpm.wallTimeS, m.sequence]),
    [
      ["prefill", "p1", 0.1, 0n],
      ["decode", "d1", 0.2, 0n],
      ["decode", "d1", 0.3, 1n],
    ],
  );
  assert.equal(got[0].publisherId, 11n);
  await waitFor(() => sub.stats().received === 4, 5000, "four messages in ns1");
  assert.equal(sub.stats().dropped.envelope_decode, 1);
  assert.equal(sub.snapshot("decode")[0].fpm.wallTimeS, 0.3);
  await sub.stop();
});

test("subscriber - a full recv queue drops the oldest and counts it", async () => {
  const sub = new FpmEventSubscriber({ recv: true, recvQueueSize: 2, logger: quiet, staleAfterMs: 0 });
  for (let i = 0; i < 5; i++)
    sub.ingest(SUBJ, envelope(1n, BigInt(i), { workerId: "a", counterId: i + 1, wallTimeS: i + 1 }));
  assert.equal(sub.stats().recvOverflow, 3);
  await sub.stop();
  const left: number[] = [];
  for await (const m of sub) left.push(m.fpm.wallTimeS);
  assert.deepEqual(left, [4, 5], "the newest two remain");
});
