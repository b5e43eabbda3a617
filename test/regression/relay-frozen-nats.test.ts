/**
 * Regression (issue 9, defect 3): under SIGSTOP a nats-server's TCP connection stays up, so
 * the relay kept handing envelopes to the NATS client, whose buffer has no limit: RSS grew
 * by hundreds of MiB with `--max-buffered-bytes` 1 MiB while `buffered_bytes` read 0 and
 * `/health` said 200, and what the client held was counted `forwarded` and lost at the
 * reconnect. Now the bound covers what the client holds unconfirmed, `/health` turns 503
 * when the server stops confirming, and every envelope is either delivered or counted
 * dropped: received == forwarded + dropped, and a subscriber gets every forwarded one.
 * A real `fpm relay` process (its own RSS), a real nats-server frozen with SIGSTOP, a real
 * ZMQ engine socket.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import * as zmq from "zeromq";
import { decodeEnvelopeView } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { encodeSeqFrame } from "../../src/engine/frames.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { FpmEventSubscriber } from "../../src/subscriber/fpm-event-subscriber.js";
import { Logger } from "../../src/util/log.js";
import { FpmProcess } from "../harness/fpm-process.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, sleep, waitFor } from "../harness/ports.js";

const MAX_BUFFERED = 1024 * 1024;
const CONFIRM_TIMEOUT_MS = 1000;
/** About 16 KiB per message, 800 messages a second: about 13 MB/s offered. */
const WORKER_ID = "w".repeat(16_000);
const PER_TICK = 8;
const TICK_MS = 10;
const FROZEN_MS = 6000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A subscriber that keeps only the distinct sequences it got, and counts the copies. */
class SequenceCollector {
  readonly seen = new Set<number>();
  copies = 0;
  reconnects = 0;
  private constructor(readonly nc: NatsConnection) {}

  static async start(url: string, subject: string): Promise<SequenceCollector> {
    const nc = await connect({ servers: url, reconnectTimeWait: 50, maxReconnectAttempts: -1, name: "collector" });
    const c = new SequenceCollector(nc);
    const scratch = { publisherId: 0, sequence: 0, publishedAtMs: 0, topic: "", payload: new Uint8Array(0) };
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const d = decodeEnvelopeView(msg.data, scratch);
        if (!d.ok) throw new Error(`undecodable envelope: ${d.detail}`);
        const seq = Number(d.value.sequence);
        if (c.seen.has(seq)) c.copies++;
        else c.seen.add(seq);
      },
    });
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") c.reconnects++;
    })();
    await nc.flush();
    return c;
  }
}

/** A ZMQ engine socket sending a steady stream of large valid payloads. */
class SteadyEngine {
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private readonly payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: WORKER_ID, wallTimeS: 0.01 });
  private constructor(readonly pub: zmq.Publisher) {}

  static async bind(url: string): Promise<SteadyEngine> {
    const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 100_000 });
    await pub.bind(url);
    return new SteadyEngine(pub);
  }

  async sendOne(): Promise<void> {
    await this.pub.send([new Uint8Array(0), encodeSeqFrame(this.seq++), this.payload]);
  }

  start(): void {
    this.timer = setInterval(async () => {
      if (this.sending) return;
      this.sending = true;
      for (let i = 0; i < PER_TICK; i++) await this.sendOne();
      this.sending = false;
    }, TICK_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await waitFor(() => !this.sending, 5000, "the engine's last burst");
  }

  close(): void {
    this.pub.close();
  }
}

interface Setup {
  nats: NatsServer;
  relay: FpmProcess;
  engine: SteadyEngine;
  collector: SequenceCollector;
  /** The project's subscriber on the same subject: it must drop the copies as duplicates. */
  subscriber: FpmEventSubscriber;
}

async function setUp(namespace: string): Promise<Setup> {
  const nats = await NatsServer.start();
  cleanups.push(() => nats.cleanup());
  // fpm relay publishes endpoint-scoped (backend/generate), as Dynamo 1.6.1 does.
  const collector = await SequenceCollector.start(nats.url, fpmSubject({ namespace, endpoint: "generate" }, {}));
  cleanups.push(() => collector.nc.close());
  const subscriber = new FpmEventSubscriber({
    connection: collector.nc,
    namespace,
    staleAfterMs: 0,
    logger: new Logger({ target: "test", level: "error" }),
  }).start();
  cleanups.push(() => subscriber.stop());
  const zmqUrl = `tcp://127.0.0.1:${await freePort()}`;
  const engine = await SteadyEngine.bind(zmqUrl);
  cleanups.push(() => engine.close());
  const metricsPort = await freePort();
  const relay = new FpmProcess(
    [
      "relay",
      "--zmq-endpoint",
      zmqUrl,
      "--nats",
      nats.url,
      "--namespace",
      namespace,
      "--metrics-port",
      String(metricsPort),
      "--metrics-host",
      "127.0.0.1",
      "--max-buffered-bytes",
      String(MAX_BUFFERED),
      "--nats-confirm-timeout-ms",
      String(CONFIRM_TIMEOUT_MS),
    ],
    { metricsPort, env: { DYN_LOG: "warn" } },
  );
  cleanups.push(() => relay.stop());
  await relay.waitHealthy();
  await waitFor(
    async () => {
      await engine.sendOne();
      return (await relay.metricSum("fpm_relay_received_total")) > 0;
    },
    15_000,
    "the relay to join the engine",
  );
  return { nats, relay, engine, collector, subscriber };
}

const DROPPED = ["nats_unavailable", "publish_error", "unconfirmed"];

/** Streams while the server is frozen: returns the largest RSS growth, and checks the bound and /health. */
async function streamWhileFrozen(s: Setup): Promise<{ rssGrowth: number; unhealthyAfterMs: number }> {
  s.engine.start();
  await sleep(1000);
  assert.equal((await s.relay.get("/health"))?.status, 200, "healthy while NATS confirms");
  const rssBefore = s.relay.rssBytes();
  s.nats.freeze();
  const frozenAt = Date.now();
  let rssMax = rssBefore;
  let unhealthyAfterMs = -1;
  let bufferedMax = 0;
  while (Date.now() - frozenAt < FROZEN_MS) {
    await sleep(100);
    rssMax = Math.max(rssMax, s.relay.rssBytes());
    const health = await s.relay.get("/health");
    if (unhealthyAfterMs < 0 && health?.status === 503) {
      unhealthyAfterMs = Date.now() - frozenAt;
      assert.match(health.body, /not confirmed/);
    }
    const buffered = await s.relay.metricSum("fpm_relay_buffered_bytes");
    assert.ok(buffered <= MAX_BUFFERED, `buffered_bytes ${buffered} within --max-buffered-bytes`);
    bufferedMax = Math.max(bufferedMax, buffered);
  }
  await s.engine.stop();
  assert.ok(bufferedMax > MAX_BUFFERED / 2, `buffered_bytes reports what is held (${bufferedMax})`);
  assert.ok(unhealthyAfterMs >= 0, "/health turned 503 while the server was frozen");
  return { rssGrowth: rssMax - rssBefore, unhealthyAfterMs };
}

/** Once everything settled: every envelope the relay made was delivered or counted dropped. */
async function checkAccounting(s: Setup): Promise<void> {
  await waitFor(
    async () => (await s.relay.metricSum("fpm_relay_buffered_messages")) === 0,
    30_000,
    "the relay's buffer to empty",
  );
  await s.relay.waitHealthy(15_000);
  const received = await s.relay.metricSum("fpm_relay_received_total");
  const forwarded = await s.relay.metricSum("fpm_relay_forwarded_total");
  let dropped = 0;
  for (const reason of DROPPED) dropped += await s.relay.metricSum("fpm_relay_dropped_total", `reason="${reason}"`);
  assert.equal(await s.relay.metricSum("fpm_relay_dropped_total"), dropped, "no other drop reason");
  assert.ok(dropped > 0, "more was offered than the bound holds: the oldest waiting were dropped");
  assert.equal(received, forwarded + dropped, "received == forwarded + counted dropped");
  await waitFor(() => s.collector.seen.size >= forwarded, 15_000, "every forwarded envelope at the subscriber");
  assert.equal(s.collector.seen.size, forwarded, "the subscriber got exactly the forwarded envelopes");
  const sub = s.subscriber.stats();
  assert.equal(sub.accepted, forwarded, "FpmEventSubscriber accepts each forwarded envelope once");
  assert.equal(sub.dropped.duplicate, s.collector.copies, "and drops every copy as a duplicate");
}

test("regression - a frozen nats-server (SIGSTOP, then SIGCONT): memory bounded, /health 503, every envelope delivered or counted", async (t) => {
  const s = await setUp("frozen");
  const { rssGrowth, unhealthyAfterMs } = await streamWhileFrozen(s);
  t.diagnostic(`RSS growth ${(rssGrowth / 1048576).toFixed(1)} MiB, /health 503 after ${unhealthyAfterMs} ms`);
  assert.ok(unhealthyAfterMs <= CONFIRM_TIMEOUT_MS + 2000, `503 within ${unhealthyAfterMs} ms`);
  // About 75 MB were offered while frozen; the relay may hold 1 MiB of envelopes (and the client a copy).
  assert.ok(rssGrowth < 24 * 1024 * 1024, `RSS grew by ${(rssGrowth / 1048576).toFixed(1)} MiB`);
  s.nats.thaw();
  await checkAccounting(s);
});

test("regression - a frozen nats-server killed and restarted: what the client held is sent again, every envelope delivered or counted", async (t) => {
  const s = await setUp("frozen-killed");
  const { rssGrowth } = await streamWhileFrozen(s);
  t.diagnostic(`RSS growth ${(rssGrowth / 1048576).toFixed(1)} MiB`);
  assert.ok(rssGrowth < 24 * 1024 * 1024, `RSS grew by ${(rssGrowth / 1048576).toFixed(1)} MiB`);
  await s.nats.kill();
  // Down long enough that the relay's reconnect backoff exceeds the test subscriber's 50 ms:
  // the subscriber is back before the relay publishes again (core NATS keeps nothing).
  await sleep(1500);
  await s.nats.relaunch();
  await waitFor(() => s.collector.reconnects > 0, 15_000, "the subscriber to reconnect");
  await checkAccounting(s);
  const resent = await s.relay.metricSum("fpm_relay_resent_total");
  t.diagnostic(`resent ${resent}, copies at the subscriber ${s.collector.copies}`);
  assert.ok(resent > 0, "the unconfirmed envelopes were sent again");
});
