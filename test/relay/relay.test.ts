import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zmq from "zeromq";
import { decodeFpm } from "../../src/codec/fpm-decode.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { encodeSeqFrame } from "../../src/engine/frames.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { RELAY_DROP_REASONS } from "../../src/relay/relay-metrics.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { fpmVectors } from "../harness/vectors.js";
import { EnvelopeCollector, hex, payloadFor, startRelay, waitJoined } from "./helpers.js";

let nats: NatsServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const dirs: string[] = [];

before(async () => {
  nats = await NatsServer.start();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await nats.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-relay-"));
  dirs.push(d);
  return d;
}

async function publisher(endpoint: string, dpRank: number): Promise<FpmPublisher> {
  const pub = await new FpmPublisher({ endpoint, dpRank, workerId: "worker-a", heartbeats: false }).bind();
  cleanups.push(() => pub.close());
  return pub;
}

test("relay - 4 ranks arrive byte-identical, in order per rank, on the right subject, with correct envelopes", async () => {
  const subject = fpmSubject({ namespace: "ns.test", component: "backend", endpoint: "generate" });
  assert.equal(subject, "namespace.ns%2Etest.component.backend.endpoint.generate.forward-pass-metrics");
  const collector = await EnvelopeCollector.start(nats.url, subject);
  cleanups.push(() => collector.close());
  const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
  const pubs = await Promise.all(ports.map((p, rank) => publisher(`tcp://127.0.0.1:${p}`, rank)));
  const relay = await startRelay({
    endpoints: ports.map((p, rank) => ({ dpRank: rank, url: `tcp://127.0.0.1:${p}` })),
    nats: { servers: [nats.url] },
    scope: { namespace: "ns.test", component: "backend" },
  });
  cleanups.push(() => relay.stop());
  for (const pub of pubs) await waitJoined(relay, pub);

  const sent = new Map<number, string[]>();
  const startedAt = Date.now();
  for (let i = 0; i < 150; i++) {
    for (const pub of pubs) {
      const bytes = payloadFor(pub, i);
      assert.ok(pub.publishRaw(bytes));
      const list = sent.get(pub.dpRank) ?? [];
      list.push(hex(bytes));
      sent.set(pub.dpRank, list);
    }
  }
  const forwarded = () => relay.metrics.allRanks().reduce((n, r) => n + r.forwarded, 0);
  const expected = forwarded() + 600;
  await waitFor(() => forwarded() >= expected, 20_000, "600 forwarded");
  await collector.nc.flush();
  await waitFor(() => collector.received.length >= expected, 20_000, "600 envelopes at the subscriber");

  const publisherIds = new Set<bigint>();
  for (const pub of pubs) {
    const want = sent.get(pub.dpRank)!;
    const mine = collector.received.filter((r) => {
      const d = decodeFpm(r.envelope.payload);
      return d.ok && d.value.dpRank === pub.dpRank;
    });
    // Every payload is forwarded unchanged; the test's messages are the last 150 of this rank.
    const got = mine.map((r) => hex(r.envelope.payload)).slice(-150);
    assert.deepEqual(got, want, `dp_rank ${pub.dpRank}: payloads byte-identical and in order`);
    const ids = new Set(mine.map((r) => r.envelope.publisherId));
    assert.equal(ids.size, 1, "one publisher_id per rank");
    const id = [...ids][0];
    assert.ok(id <= BigInt(Number.MAX_SAFE_INTEGER), "publisher_id <= 2^53-1");
    publisherIds.add(id);
    mine.forEach((r, i) => {
      assert.equal(r.envelope.sequence, BigInt(i), "envelope sequence from 0, +1 per envelope");
      assert.equal(r.envelope.topic, "forward-pass-metrics");
      assert.equal(r.subject, subject);
      const at = Number(r.envelope.publishedAtMs);
      assert.ok(at >= startedAt - 60_000 && at <= Date.now() + 1000, `published_at ${at} is Unix ms`);
    });
    const c = relay.metrics.rank(pub.dpRank);
    assert.equal(c.lost, 0);
    assert.equal(c.engineRestarts, 0);
    assert.equal(c.counterIdMismatches, 0);
    assert.equal(c.droppedTotal(), 0);
    assert.equal(c.lastSeq, pub.stats.nextSeq - 1);
  }
  assert.equal(publisherIds.size, 4, "each rank has its own publisher_id");
  const text = await relay.metrics.registry.metrics();
  assert.match(text, /fpm_relay_forwarded_total\{dp_rank="3"\} \d+/);
  assert.match(text, /fpm_relay_forward_latency_seconds_count \d+/);
});

test("relay - every invalid vector is dropped with its reason and nothing is published for it", async () => {
  const subject = fpmSubject({ namespace: "vectors", endpoint: "generate" });
  const collector = await EnvelopeCollector.start(nats.url, subject);
  cleanups.push(() => collector.close());
  const port = await freePort();
  const pub = await publisher(`tcp://127.0.0.1:${port}`, 0);
  const relay = await startRelay({
    endpoints: [{ dpRank: 0, url: `tcp://127.0.0.1:${port}` }],
    nats: { servers: [nats.url] },
    scope: { namespace: "vectors" },
  });
  cleanups.push(() => relay.stop());
  await waitJoined(relay, pub);
  const c = relay.metrics.rank(0);
  await waitFor(() => collector.received.length === c.forwarded, 10_000, "the probes to arrive");
  const publishedBefore = collector.received.length;

  const invalid = fpmVectors().filter((v) => !v.valid);
  assert.ok(invalid.length >= 5, "the vector file has invalid cases");
  const expected: Record<string, number> = {};
  for (const v of invalid) {
    expected[v.reject_reason!] = (expected[v.reject_reason!] ?? 0) + 1;
    pub.publishRaw(Buffer.from(v.hex, "hex"));
  }
  // A valid sentinel after them: once it arrives, every invalid one has been handled.
  const sentinel = encodeFpm({
    ...defaultForwardPassMetrics(),
    workerId: "sentinel",
    counterId: pub.stats.nextSeq,
    wallTimeS: 0.5,
  });
  pub.publishRaw(sentinel);
  await waitFor(
    () => collector.received.some((r) => hex(r.envelope.payload) === hex(sentinel)),
    10_000,
    "the sentinel",
  );
  assert.equal(collector.received.length, publishedBefore + 1, "only the sentinel was published");
  for (const reason of RELAY_DROP_REASONS) assert.equal(c.dropped[reason], expected[reason] ?? 0, `dropped ${reason}`);
  assert.equal(c.lost, 0, "a dropped invalid message is not also a loss");
  const text = await relay.metrics.registry.metrics();
  for (const [reason, n] of Object.entries(expected))
    assert.ok(text.includes(`fpm_relay_dropped_total{dp_rank="0",reason="${reason}"} ${n}`), reason);
});

test("relay - malformed frames (count, seq frame, oversize) are dropped with their reasons; validate=off forwards them", async () => {
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  const raw = new zmq.Publisher({ linger: 0 });
  await raw.bind(url);
  cleanups.push(() => raw.close());
  const collector = await EnvelopeCollector.start(nats.url, fpmSubject({ namespace: "frames", endpoint: "generate" }));
  cleanups.push(() => collector.close());
  let seq = 0;
  const valid = () => encodeFpm({ ...defaultForwardPassMetrics(), counterId: seq, wallTimeS: 0.01 });
  const maxPayloadBytes = valid().length + 50;
  const relay = await startRelay({
    endpoints: [{ dpRank: 0, url }],
    nats: { servers: [nats.url] },
    scope: { namespace: "frames" },
    maxPayloadBytes,
  });
  cleanups.push(() => relay.stop());
  const c = relay.metrics.rank(0);
  await waitFor(
    async () => {
      if (c.received > 0) return true;
      await raw.send([new Uint8Array(0), encodeSeqFrame(seq), valid()]);
      seq++;
      return false;
    },
    15_000,
    "the relay to join",
  );
  // forwarded counts what the server confirmed: let the joining messages settle first.
  await waitFor(() => c.forwarded === c.received, 10_000, "the joining messages to be confirmed");
  const base = c.forwarded;
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++)]);
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++), valid(), new Uint8Array(1)]);
  await raw.send([new Uint8Array(0), new Uint8Array(4), valid()]);
  seq++;
  const big = encodeFpm({ ...defaultForwardPassMetrics(), workerId: "x".repeat(300), counterId: seq, wallTimeS: 0.01 });
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++), big]);
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq), valid()]);
  seq++;
  await waitFor(() => c.forwarded === base + 1, 10_000, "the valid message after the bad ones").catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(c)}`);
  });
  assert.equal(c.dropped.frame_count, 2);
  assert.equal(c.dropped.seq_frame, 1);
  assert.equal(c.dropped.oversize, 1);
  await relay.stop();

  // validate=off: frame count only, like Dynamo's relay.
  const off = await startRelay({
    endpoints: [{ dpRank: 0, url }],
    nats: { servers: [nats.url] },
    scope: { namespace: "frames" },
    maxPayloadBytes,
    validate: false,
  });
  cleanups.push(() => off.stop());
  const o = off.metrics.rank(0);
  await waitFor(
    async () => {
      if (o.received > 0) return true;
      await raw.send([new Uint8Array(0), encodeSeqFrame(seq++), valid()]);
      return false;
    },
    15_000,
    "the second relay to join",
  );
  await waitFor(() => o.forwarded === o.received, 10_000, "the joining messages to be confirmed");
  const offBase = o.forwarded;
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++), Buffer.from("c1", "hex")]);
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++), big]);
  await raw.send([new Uint8Array(0), encodeSeqFrame(seq++)]);
  await waitFor(
    () => o.forwarded === offBase + 2 && o.dropped.frame_count === 1,
    10_000,
    "validate=off to forward the undecodable and oversize payloads",
  );
  const last = collector.received.at(-1)!;
  assert.equal(hex(last.envelope.payload), hex(big));
  await off.stop();
});

test("relay - an engine started after the relay (ipc, SGLang style) is picked up", async () => {
  const dir = tmpDir();
  const url = `ipc://${dir}/fpm.{rank}`;
  const collector = await EnvelopeCollector.start(nats.url, fpmSubject({ namespace: "late", endpoint: "generate" }));
  cleanups.push(() => collector.close());
  const relay = await startRelay({
    endpoints: [0, 1].map((r) => ({ dpRank: r, url: url.replace("{rank}", String(r)) })),
    nats: { servers: [nats.url] },
    scope: { namespace: "late" },
  });
  cleanups.push(() => relay.stop());
  assert.equal(relay.health().healthy, true, "healthy with NATS up even before any engine");
  const pubs = [await publisher(url.replace("{rank}", "0"), 0), await publisher(url.replace("{rank}", "1"), 1)];
  for (const pub of pubs) await waitJoined(relay, pub);
  const want = pubs.map((p) => payloadFor(p, 7));
  for (const [i, p] of pubs.entries()) p.publishRaw(want[i]);
  await waitFor(
    () => want.every((w) => collector.received.some((r) => hex(r.envelope.payload) === hex(w))),
    10_000,
    "both ranks forwarded",
  );
  await waitFor(
    () => relay.metrics.rank(0).engineConnected === 1 && relay.metrics.rank(1).engineConnected === 1,
    5000,
    "engine_connected gauges",
  );
});

test("relay - an engine restart is counted as a restart, not a loss", async () => {
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  const relay = await startRelay({
    endpoints: [{ dpRank: 0, url }],
    nats: { servers: [nats.url] },
    zmqReconnectIntervalMs: 50,
    zmqReconnectMaxIntervalMs: 200,
  });
  cleanups.push(() => relay.stop());
  const c = relay.metrics.rank(0);
  const first = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
  await waitJoined(relay, first);
  // Far more than the restarted engine will need to probe, so its seq lands below this.
  for (let i = 0; i < 300; i++) first.publish({ wallTimeS: 0.01 });
  await waitFor(() => c.lastSeq === first.stats.nextSeq - 1, 10_000, "the first engine's messages");
  await first.close();
  const second = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
  cleanups.push(() => second.close());
  await waitJoined(relay, second);
  for (let i = 0; i < 50; i++) second.publish({ wallTimeS: 0.02 });
  await waitFor(() => c.lastSeq === second.stats.nextSeq - 1, 10_000, "the second engine's messages");
  assert.equal(c.engineRestarts, 1);
  assert.equal(c.lost, 0);
  assert.equal(c.droppedTotal(), 0);
});

test("relay - a sequence gap is counted as lost", async () => {
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  // A one-message queue lets the engine drop on purpose, leaving a real seq gap.
  const pub = await new FpmPublisher({ endpoint: url, maxQueuedMessages: 1, heartbeats: false }).bind();
  cleanups.push(() => pub.close());
  const relay = await startRelay({ endpoints: [{ dpRank: 0, url }], nats: { servers: [nats.url] } });
  cleanups.push(() => relay.stop());
  const c = relay.metrics.rank(0);
  await waitJoined(relay, pub);
  await waitFor(() => pub.stats.queued === 0 && c.lastSeq === pub.stats.nextSeq - 1, 5000, "the probes to settle");
  const seqBefore = pub.stats.nextSeq;
  const droppedBefore = pub.stats.dropped;
  // Synchronously: one goes to ZMQ, one waits in the queue, three are dropped by the engine.
  for (let i = 0; i < 5; i++) pub.publish({ wallTimeS: 0.01 });
  assert.equal(pub.stats.dropped - droppedBefore, 3);
  await waitFor(() => pub.stats.queued === 0, 5000, "an empty queue");
  pub.publish({ wallTimeS: 0.01 });
  await waitFor(() => c.lastSeq === seqBefore + 5, 10_000, "the message after the gap");
  assert.equal(c.lost, 0, "a break is judged by the message after it");
  pub.publish({ wallTimeS: 0.01 });
  await waitFor(() => c.lastSeq === seqBefore + 6, 10_000, "the message that confirms the gap");
  assert.equal(c.lost, 3);
  assert.equal(c.engineRestarts, 0);
});

test("relay - a restarted relay picks up the running engine with a new publisher_id, sequence from 0, no loss", async () => {
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  const subject = fpmSubject({ namespace: "restart", endpoint: "generate" });
  const collector = await EnvelopeCollector.start(nats.url, subject);
  cleanups.push(() => collector.close());
  const pub = await publisher(url, 0);
  const opts = { endpoints: [{ dpRank: 0, url }], nats: { servers: [nats.url] }, scope: { namespace: "restart" } };
  const first = await startRelay(opts);
  await waitJoined(first, pub);
  for (let i = 0; i < 20; i++) pub.publish({ wallTimeS: 0.01 });
  await waitFor(() => first.metrics.rank(0).lastSeq === pub.stats.nextSeq - 1, 10_000, "the first relay's messages");
  await waitFor(
    () => collector.received.length === first.metrics.rank(0).forwarded,
    10_000,
    "the first relay's envelopes",
  );
  await first.stop();
  const firstCount = collector.received.length;
  const firstId = collector.received[0].envelope.publisherId;

  const second = await startRelay(opts);
  cleanups.push(() => second.stop());
  await waitJoined(second, pub);
  for (let i = 0; i < 20; i++) pub.publish({ wallTimeS: 0.01 });
  const c = second.metrics.rank(0);
  await waitFor(() => c.lastSeq === pub.stats.nextSeq - 1, 10_000, "the second relay's messages");
  await waitFor(() => collector.received.length === firstCount + c.forwarded, 10_000, "the second relay's envelopes");
  const later = collector.received.slice(firstCount);
  assert.notEqual(later[0].envelope.publisherId, firstId, "a new relay is a new publisher");
  for (const [i, r] of later.entries()) assert.equal(r.envelope.sequence, BigInt(i));
  assert.equal(c.lost, 0, "joining a running engine is not a loss");
  assert.equal(c.engineRestarts, 0);
});

test("relay - a start that fails after NATS connected leaves nothing open (regression)", async () => {
  const { FpmEventRelay } = await import("../../src/relay/relay.js");
  const { ConfigError } = await import("../../src/util/errors.js");
  const { quietLogger } = await import("./helpers.js");
  // Passes the static endpoint check, but ZMQ cannot connect to a wildcard host.
  const relay = new FpmEventRelay({
    endpoints: [{ dpRank: 0, url: "tcp://*:5555" }],
    nats: { servers: [nats.url] },
    logger: quietLogger(),
  });
  await assert.rejects(relay.start(), ConfigError);
  assert.equal(relay.natsState, "closed");
});
