/**
 * The ZMQ event plane over real sockets and a real file discovery store: frames checked and
 * every malformed message dropped with its reason; the relay publishing envelopes that are
 * the NATS plane's bytes; the subscriber following publishers as they come and go; worker
 * ids (unattributed, above 2^53) and TRT-LLM-style FPM (counter_id from 1, variances 0).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import * as zmq from "zeromq";
import { decodeEnvelope, encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { eventChannelKey } from "../../src/discovery/keys.js";
import { eventChannelJson } from "../../src/discovery/records.js";
import { FileDiscoveryStore } from "../../src/discovery/file-store.js";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { encodeZmqFrames, publisherIdFrame } from "../../src/eventplane/zmq-frames.js";
import { ZmqEnvelopeSource } from "../../src/eventplane/zmq-plane.js";
import { FpmEventRelay } from "../../src/relay/relay.js";
import { FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { FpmEventSubscriber, type FpmMessage } from "../../src/subscriber/fpm-event-subscriber.js";
import { Logger } from "../../src/util/log.js";
import { fpm } from "../planner/fpm-fixture.js";
import { freePort, sleep, waitFor } from "../harness/ports.js";

const quiet = new Logger({ target: "test", level: "error" });
const SCOPE = { namespace: "zt", component: "backend", endpoint: "generate" };

function tmpRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "fpm-zmq-kv-"));
}

/** A bare ZMQ publisher registered in discovery, sending whatever frames a test makes. */
async function rawPublisher(store: FileDiscoveryStore, publisherId: bigint) {
  const socket = new zmq.Publisher({ linger: 0 });
  await socket.bind("tcp://127.0.0.1:0");
  const endpoint = socket.lastEndpoint!;
  await store.register(
    eventChannelKey(SCOPE, publisherId),
    eventChannelJson({ scope: SCOPE, topic: FPM_TOPIC, instanceId: publisherId, transport: { kind: "Zmq", endpoint } }),
  );
  return socket;
}

function subscriberOver(root: string, onMessage?: (m: FpmMessage) => void) {
  const source = new ZmqEnvelopeSource({
    store: new FileDiscoveryStore({ root, logger: quiet, rescanMs: 100 }),
    namespace: SCOPE.namespace,
    components: [],
    logger: quiet,
  });
  const sub = new FpmEventSubscriber({ source, staleAfterMs: 0, logger: quiet, onMessage });
  sub.start();
  return { source, sub };
}

function env(pid: bigint, seq: number, f: Parameters<typeof fpm>[0]): Uint8Array {
  return encodeEnvelope({
    publisherId: pid,
    sequence: BigInt(seq),
    publishedAtMs: 1_700_000_000_000n,
    topic: FPM_TOPIC,
    payload: encodeFpm(fpm(f)),
  });
}

test("zmq plane - frames round-trip, and every malformed message is dropped with its reason", async () => {
  const root = tmpRoot();
  const owner = new FileDiscoveryStore({ root, logger: quiet });
  const pid = 0x1234_5678_9abcn;
  const pub = await rawPublisher(owner, pid);
  const { sub } = subscriberOver(root);
  try {
    await sub.ready();
    const idFrame = publisherIdFrame(pid);
    let seq = 0;
    const good = () => encodeZmqFrames(idFrame, seq, env(pid, seq++, { workerId: "w", counterId: seq }));
    // ZMQ's slow joiner: send until the SUB has connected and one message is accepted.
    await waitFor(
      async () => {
        await pub.send(good());
        await sleep(20);
        return sub.stats().accepted > 0;
      },
      10_000,
      "the first message over ZMQ",
    );
    const accepted = sub.stats().accepted;
    const base = good();
    const header = (version: number, len: number, body: Uint8Array) => {
      const b = Buffer.alloc(5 + body.length);
      b[0] = version;
      b.writeUInt32BE(len, 1);
      b.set(body, 5);
      return b;
    };
    const envBytes = env(pid, seq, { workerId: "w" });
    const cases: Array<[string, Buffer[]]> = [
      ["frame_count", base.slice(0, 3)],
      // Other topics never arrive (the SUB subscribes to the FPM topic); these pass its prefix filter.
      ["frame_count", [Buffer.from("forward-pass-metrics and then garbage, one frame")]],
      ["frame_topic", [Buffer.from("forward-pass-metrics-v2"), base[1], base[2], base[3]]],
      ["frame_ids", [base[0], Buffer.alloc(7), base[2], base[3]]],
      ["frame_header", [base[0], base[1], base[2], Buffer.from([1, 0])]],
      ["frame_header", [base[0], base[1], base[2], header(2, envBytes.length, envBytes)]],
      ["frame_length", [base[0], base[1], base[2], header(1, envBytes.length + 1, envBytes)]],
      // The seq frame says one thing, the envelope another.
      ["frame_id_mismatch", encodeZmqFrames(idFrame, seq + 100, env(pid, seq, { workerId: "w" }))],
      ["unknown_publisher", encodeZmqFrames(publisherIdFrame(99n), 0, env(99n, 0, { workerId: "w" }))],
      ["envelope_decode", [base[0], base[1], base[2], header(1, 3, Buffer.from([0xc1, 0xc1, 0xc1]))]],
    ];
    for (const [, frames] of cases) await pub.send(frames);
    const want: Record<string, number> = {};
    for (const [reason] of cases) want[reason] = (want[reason] ?? 0) + 1;
    await waitFor(
      () =>
        Object.entries(want).every(
          ([r, n]) => sub.stats().dropped[r as keyof ReturnType<typeof sub.stats>["dropped"]] === n,
        ),
      5000,
      "every drop to be counted",
    ).catch((err) => {
      throw new Error(`${err.message}: want ${JSON.stringify(want)}, got ${JSON.stringify(sub.stats().dropped)}`);
    });
    // ... and a good message still goes through after all of them.
    await pub.send(good());
    await waitFor(() => sub.stats().accepted === accepted + 1, 5000, "the next good message");
  } finally {
    await sub.stop();
    pub.close();
    await owner.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

async function engineAndRelay(root: string, publisherId: bigint, workerId: string) {
  const port = await freePort();
  const engine = new FpmPublisher({ endpoint: `tcp://127.0.0.1:${port}`, workerId, dpRank: 0 });
  await engine.bind();
  const relay = new FpmEventRelay({
    endpoints: [{ dpRank: 0, url: `tcp://127.0.0.1:${port}` }],
    eventPlane: "zmq",
    discovery: { backend: "file", root, reason: "test" },
    advertiseHost: "127.0.0.1",
    scope: SCOPE,
    publisherIdForRank: () => publisherId,
    logger: quiet,
  });
  await relay.start();
  return { engine, relay };
}

test("zmq plane - the relay registers, publishes NATS-identical envelopes, and leaves discovery when stopped", async () => {
  const root = tmpRoot();
  const messages: FpmMessage[] = [];
  const raw: Uint8Array[] = [];
  const { sub, source } = subscriberOver(root, (m) => messages.push(m));
  const a = await engineAndRelay(root, 2n ** 53n + 7n, "18446744073709551615");
  const b = await engineAndRelay(root, 11n, "");
  const rec = new FpmEventSubscriber({ staleAfterMs: 0, logger: quiet });
  try {
    await sub.ready();
    await waitFor(() => source.publishers().length === 2, 5000, "both publishers in discovery");
    const origIngest = sub.ingest.bind(sub);
    sub.ingest = (subject, data, ids) => {
      raw.push(Uint8Array.from(data));
      return origIngest(subject, data, ids);
    };
    await waitFor(
      async () => {
        a.engine.publish({ wallTimeS: 0.01 });
        b.engine.publish({ wallTimeS: 0.02 });
        await sleep(20);
        const workers = new Set(messages.map((m) => m.fpm.workerId));
        return workers.has("18446744073709551615") && workers.has("");
      },
      10_000,
      "messages from both relays",
    );
    // Worker ids stay exact strings; the publisher id above 2^53 is exact too.
    const big = messages.find((m) => m.fpm.workerId === "18446744073709551615")!;
    assert.equal(big.publisherId, 2n ** 53n + 7n);
    assert.equal(big.subject, "namespace.zt.component.backend.endpoint.generate.forward-pass-metrics");
    assert.ok(sub.stats().unattributed > 0, "worker_id '' is counted as unattributed");
    // The envelope is the NATS plane's: canonical bytes, re-encoding gives the same.
    for (const bytes of raw.slice(0, 10)) {
      const d = decodeEnvelope(bytes);
      assert.ok(d.ok);
      assert.deepEqual(encodeEnvelope(d.value), bytes);
      assert.equal(rec.ingest("namespace.zt.component.backend.endpoint.generate.forward-pass-metrics", bytes), null);
    }
    // A relay that stops removes its record, and the subscriber drops its publisher.
    await a.relay.stop();
    await waitFor(() => source.publishers().length === 1, 5000, "the stopped relay to leave");
    assert.equal(source.publishers()[0].publisherId, "11");
    const files = fs.readdirSync(path.join(root, "v1", "event_channels"));
    assert.equal(files.length, 1);
    // The other one keeps flowing.
    const before = messages.length;
    await waitFor(
      async () => {
        b.engine.publish({ wallTimeS: 0.02 });
        await sleep(20);
        return messages.length > before;
      },
      5000,
      "the remaining relay",
    );
  } finally {
    await sub.stop();
    await a.relay.stop();
    await b.relay.stop();
    await a.engine.close();
    await b.engine.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.equal(fs.existsSync(path.join(root)), false);
});

test("zmq plane - TRT-LLM's FPM straight on the plane: counter_id from 1, variances 0.0, no loss or restart", async () => {
  const root = tmpRoot();
  const owner = new FileDiscoveryStore({ root, logger: quiet });
  const pid = 77n;
  const pub = await rawPublisher(owner, pid);
  const messages: FpmMessage[] = [];
  const { sub } = subscriberOver(root, (m) => messages.push(m));
  try {
    await sub.ready();
    const idFrame = publisherIdFrame(pid);
    // FpmDirectPublisher stamps counter_id from 1 and writes every variance as 0.0; the slow
    // joiner may eat the first few, so resend the same sequence numbers until one lands.
    const frame = (seq: number) =>
      encodeZmqFrames(
        idFrame,
        seq,
        env(pid, seq, {
          workerId: "7587890424512",
          counterId: seq + 1,
          wallTimeS: 0.004,
          scheduled: { numDecodeRequests: 3, sumDecodeKvTokens: 300 },
        }),
      );
    await waitFor(
      async () => {
        await pub.send(frame(0));
        await sleep(20);
        return messages.length > 0;
      },
      10_000,
      "the first message",
    );
    for (let seq = 1; seq <= 50; seq++) await pub.send(frame(seq));
    await waitFor(() => messages.some((m) => m.fpm.counterId === 51), 5000, "all 50");
    const s = sub.stats();
    assert.equal(s.lost, 0);
    assert.equal(s.restarts, 0);
    assert.equal(sub.snapshot()[0].fpm.scheduledRequests.varDecodeKvTokens, 0);
    assert.equal(sub.snapshot()[0].fpm.counterId, 51);
  } finally {
    await sub.stop();
    pub.close();
    await owner.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
