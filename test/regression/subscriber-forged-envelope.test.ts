/**
 * Regression (issue 9, defect 1): an envelope with a live relay's `publisher_id` (visible
 * to any subscriber) and `sequence` 2^53-1 became that publisher's high-water mark: 0 of the
 * next 100 genuine envelopes were accepted (all `out_of_order`), the lost counter rose by
 * 9e15, and the relay's engines then expired. The same held for a payload with `counter_id`
 * 2^53-1 for a live engine, and a flood of forged publisher ids evicted the genuine ones.
 * Now a break is judged by the envelope after it: the forged one costs nothing but itself
 * (it is accepted once and counted as a reset), and the genuine stream is followed at once.
 * A real relay, engine (ZMQ), forger and subscriber on a real nats-server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import type { FpmEventRelay } from "../../src/relay/relay.js";
import { defaultForwardPassMetrics, FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { FpmEventSubscriber } from "../../src/subscriber/fpm-event-subscriber.js";
import { Logger } from "../../src/util/log.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { EnvelopeCollector, startRelay, waitJoined } from "../relay/helpers.js";

const NAMESPACE = "forged";
const SUBJECT = fpmSubject({ namespace: NAMESPACE }, {});
const quiet = new Logger({ target: "test", level: "error" });

let nats: NatsServer;
let forger: NatsConnection;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
before(async () => {
  nats = await NatsServer.start();
  forger = await connect({ servers: nats.url, name: "forger" });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await forger.close();
  await nats.cleanup();
});

/** A genuine engine behind a real relay, a subscriber counting what it accepts from that engine. */
async function pipeline(subscriberOpts: { maxPublishers?: number } = {}) {
  const url = `tcp://127.0.0.1:${await freePort()}`;
  const engine = await new FpmPublisher({ endpoint: url, workerId: "genuine", heartbeats: false }).bind();
  cleanups.push(() => engine.close());
  const relay: FpmEventRelay = await startRelay({
    endpoints: [{ dpRank: 0, url }],
    nats: { servers: [nats.url] },
    scope: { namespace: NAMESPACE },
    // The forger sends on SUBJECT, the component-scoped subject: the relay publishes there too.
    componentScope: true,
  });
  cleanups.push(() => relay.stop());
  const conn = await connect({ servers: nats.url, name: "subscriber" });
  cleanups.push(() => conn.close());
  let genuineAccepted = 0;
  let publisherId = -1n;
  const sub = new FpmEventSubscriber({
    connection: conn,
    namespace: NAMESPACE,
    staleAfterMs: 0,
    logger: quiet,
    ...subscriberOpts,
    onMessage: (m) => {
      if (m.fpm.workerId !== "genuine") return;
      genuineAccepted++;
      publisherId = m.publisherId;
    },
  }).start();
  cleanups.push(() => sub.stop());
  await conn.flush();
  // Raw copies of what the relay publishes (a replay needs the real bytes).
  const raw = await EnvelopeCollector.start(nats.url, SUBJECT);
  cleanups.push(() => raw.close());
  await waitJoined(relay, engine);
  await waitFor(() => genuineAccepted > 0, 10_000, "the subscriber to follow the relay");
  /** The engine publishes `n` iterations; resolves once the subscriber has taken or dropped all of them. */
  const publishGenuine = async (n: number) => {
    const before = sub.stats().received;
    for (let i = 0; i < n; i++) engine.publish({ wallTimeS: 0.01 });
    await waitFor(() => sub.stats().received >= before + n, 10_000, `${n} genuine envelopes at the subscriber`);
  };
  const accepted = () => genuineAccepted;
  return { sub, engine, raw, publisherId: () => publisherId, accepted, publishGenuine };
}

async function forge(publisherId: bigint, sequence: bigint, workerId: string, counterId: number): Promise<void> {
  const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId, counterId, wallTimeS: 0.5 });
  forger.publish(SUBJECT, encodeEnvelope({ publisherId, sequence, publishedAtMs: 1n, topic: FPM_TOPIC, payload }));
  await forger.flush();
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

test("regression - subscriber: a forged sequence 2^53-1 under a live publisher_id costs nothing but itself", async () => {
  const p = await pipeline();
  await p.publishGenuine(20);
  const before = p.sub.stats();
  const acceptedBefore = p.accepted();
  await forge(p.publisherId(), MAX_SAFE, "forged", 1);
  await waitFor(() => p.sub.stats().received === before.received + 1, 10_000, "the forged envelope");
  await p.publishGenuine(100);
  const s = p.sub.stats();
  assert.equal(p.accepted() - acceptedBefore, 100, "every genuine envelope after the forged one is accepted");
  assert.equal(s.accepted - before.accepted, 101, "the forged one is accepted once: it costs itself");
  assert.equal(s.lost, before.lost, "no loss counted");
  assert.equal(s.dropped.out_of_order + s.dropped.duplicate, before.dropped.out_of_order + before.dropped.duplicate);
  assert.equal(s.sequenceResets.reverted - before.sequenceResets.reverted, 1, "counted as one reset (reverted)");
  assert.equal(p.sub.get("backend", "genuine", 0)?.fpm.counterId, p.engine.stats.nextSeq - 1);
});

test("regression - subscriber: two forged envelopes in line start a new epoch, and the genuine stream is followed again at once", async () => {
  const p = await pipeline();
  await p.publishGenuine(10);
  const before = p.sub.stats();
  const acceptedBefore = p.accepted();
  await forge(p.publisherId(), 1n << 52n, "forged", 1);
  await forge(p.publisherId(), (1n << 52n) + 1n, "forged", 2);
  await waitFor(() => p.sub.stats().received === before.received + 2, 10_000, "the forged envelopes");
  await p.publishGenuine(50);
  const s = p.sub.stats();
  assert.equal(p.accepted() - acceptedBefore, 50, "every genuine envelope is accepted");
  assert.equal(s.lost, before.lost, "a jump beyond the bound is a reset, not a loss");
  assert.equal(s.sequenceResets.jump - before.sequenceResets.jump, 1);
  assert.equal(s.sequenceResets.back - before.sequenceResets.back, 1);
});

test("regression - subscriber: a forged counter_id 2^53-1 for a live engine does not blind the engine", async () => {
  const p = await pipeline();
  await p.publishGenuine(20);
  const before = p.sub.stats();
  const acceptedBefore = p.accepted();
  // From another publisher id, as any client on the subject can send.
  await forge(123_456_789n, 0n, "genuine", Number.MAX_SAFE_INTEGER);
  await waitFor(() => p.accepted() === acceptedBefore + 1, 10_000, "the forged payload");
  await p.publishGenuine(100);
  const s = p.sub.stats();
  assert.equal(p.accepted() - acceptedBefore, 101, "the forged one and every genuine one after it");
  assert.equal(s.dropped.out_of_order, before.dropped.out_of_order);
  assert.equal(s.restarts, before.restarts, "not an engine restart");
  assert.equal(s.counterResets.reverted - before.counterResets.reverted, 1);
  assert.equal(p.sub.get("backend", "genuine", 0)?.fpm.counterId, p.engine.stats.nextSeq - 1);
});

test("regression - subscriber: a flood of forged publisher ids does not evict a genuine publisher", async () => {
  const p = await pipeline({ maxPublishers: 64 });
  await p.publishGenuine(10);
  const replay = p.raw.received.at(-5)!.raw;
  const before = p.sub.stats();
  for (let i = 0; i < 1000; i++) {
    const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: `fake-${i}`, wallTimeS: 0.5 });
    const id = BigInt(1_000_000 + i);
    forger.publish(
      SUBJECT,
      encodeEnvelope({ publisherId: id, sequence: 0n, publishedAtMs: 1n, topic: FPM_TOPIC, payload }),
    );
  }
  await forger.flush();
  await waitFor(() => p.sub.stats().received >= before.received + 1000, 10_000, "the flood");
  // A replayed genuine envelope is still known as a copy: its publisher is still followed.
  forger.publish(SUBJECT, replay);
  await forger.flush();
  await waitFor(() => p.sub.stats().received === before.received + 1001, 10_000, "the replay");
  assert.equal(p.sub.stats().dropped.duplicate, before.dropped.duplicate + 1);
  assert.ok(p.sub.stats().publishersEvicted >= 1000 - 64, "the strangers made room for each other");
  const acceptedBefore = p.accepted();
  await p.publishGenuine(10);
  assert.equal(p.accepted() - acceptedBefore, 10);
});
