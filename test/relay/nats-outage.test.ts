import { after, test } from "node:test";
import assert from "node:assert/strict";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { EnvelopeCollector, hex, startRelay, waitJoined } from "./helpers.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("relay - NATS restarted mid-stream: what fits the buffer arrives after the reconnect, the rest is counted", async () => {
  const nats = await NatsServer.start();
  cleanups.push(() => nats.cleanup());
  const subject = fpmSubject({ namespace: "outage", endpoint: "generate" });
  const collector = await EnvelopeCollector.start(nats.url, subject);
  cleanups.push(() => collector.close());
  const port = await freePort();
  const url = `tcp://127.0.0.1:${port}`;
  const pub = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
  cleanups.push(() => pub.close());
  // Room for about 20 envelopes; the relay's reconnect attempts are spaced well beyond the
  // outage so the test's own subscriber is back before the buffer is flushed.
  const relay = await startRelay({
    endpoints: [{ dpRank: 0, url }],
    nats: { servers: [nats.url], reconnectMinMs: 3000, reconnectMaxMs: 3000 },
    scope: { namespace: "outage" },
    maxBufferedBytes: 20 * 520,
  });
  cleanups.push(() => relay.stop());
  const c = relay.metrics.rank(0);
  await waitJoined(relay, pub);
  for (let i = 0; i < 10; i++) pub.publish({ wallTimeS: 0.01 });
  await waitFor(
    () => collector.received.length === c.forwarded && c.lastSeq === pub.stats.nextSeq - 1,
    10_000,
    "the messages before the outage",
  );
  const before = collector.received.length;
  assert.equal(relay.health().healthy, true);

  const restarting = nats.restart(1000);
  await waitFor(() => relay.natsState === "disconnected", 10_000, "the relay to see the outage");
  assert.equal(relay.health().healthy, false);
  assert.match(String(relay.health().status), /NATS disconnected/);
  assert.equal(relay.metrics.natsConnected, 0);

  const during: string[] = [];
  const receivedBefore = c.received;
  for (let i = 0; i < 60; i++) {
    const bytes = encodeFpm({
      ...defaultForwardPassMetrics(),
      workerId: "outage",
      counterId: pub.stats.nextSeq,
      wallTimeS: 0.02 + i / 1e6,
    });
    during.push(hex(bytes));
    pub.publishRaw(bytes);
  }
  await waitFor(() => c.received === receivedBefore + 60, 10_000, "the relay to receive during the outage");
  const held = relay.metrics.bufferedMessages;
  assert.ok(held > 0 && held < 60, `some but not all held (${held})`);
  assert.ok(relay.metrics.bufferedBytes <= 20 * 520, "the buffer respects its bound");
  assert.equal(c.dropped.nats_unavailable, 60 - held, "the rest is counted as nats_unavailable");

  await restarting;
  await waitFor(() => collector.reconnects > 0, 10_000, "the test subscriber to reconnect");
  await waitFor(() => relay.natsState === "connected", 15_000, "the relay to reconnect");
  // Delivery is at least once: envelopes from before the outage that NATS had not yet confirmed
  // when it died are sent again. Those are duplicates of what arrived before; the rest are the
  // held envelopes.
  const beforePayloads = new Set(collector.received.slice(0, before).map((r) => hex(r.envelope.payload)));
  const resent = (r: (typeof collector.received)[number]) => beforePayloads.has(hex(r.envelope.payload));
  const newSince = () => collector.received.slice(before).filter((r) => !resent(r));
  await waitFor(() => relay.metrics.bufferedMessages === 0 && newSince().length >= held, 10_000, "the held envelopes");
  const after = newSince();
  const beforeKeys = new Set(
    collector.received.slice(0, before).map((r) => `${r.envelope.sequence}:${hex(r.envelope.payload)}`),
  );
  for (const r of collector.received.slice(before).filter(resent))
    assert.ok(
      beforeKeys.has(`${r.envelope.sequence}:${hex(r.envelope.payload)}`),
      "a resent envelope is identical to one from before",
    );
  assert.deepEqual(
    after.map((r) => hex(r.envelope.payload)),
    during.slice(60 - held),
    "the newest envelopes, in order, unchanged",
  );
  // Envelope sequences are assigned at receive: the dropped ones leave a visible gap.
  const firstSeq = Number(after[0].envelope.sequence);
  for (const [i, r] of after.entries()) assert.equal(Number(r.envelope.sequence), firstSeq + i);
  assert.equal(relay.health().healthy, true);
  assert.equal(relay.metrics.natsReconnects, 1);

  // And the stream goes on.
  const next = encodeFpm({
    ...defaultForwardPassMetrics(),
    workerId: "after",
    counterId: pub.stats.nextSeq,
    wallTimeS: 0.03,
  });
  pub.publishRaw(next);
  await waitFor(
    () => collector.received.some((r) => hex(r.envelope.payload) === hex(next)),
    10_000,
    "a message after the outage",
  );
  assert.equal(c.lost, 0);
});
