/**
 * Scale-out on a 3-node nats-server cluster (real processes on loopback): relay A publishes
 * through node 0, relay B through node 1, the planner subscribes on node 2. Each client is
 * given only its own node's URL and learns the others from the cluster (gossip), as in a
 * real deployment behind one seed address.
 *   1. Node 0 (relay A's) is killed mid-stream: relay A reconnects to a remaining node and
 *      goes on; what node 0 had not confirmed is sent again, so at most what was in flight
 *      is lost, and the planner counts it as envelope sequence gaps.
 *   2. Node 2 (the planner's) is killed: the planner reconnects and keeps deciding.
 *   3. At the end every envelope the relays made is accounted for: planner received - copies
 *      (dropped as duplicate: a relay sends again what NATS had not confirmed) + planner lost
 *      == relays forwarded (confirmed by NATS) + relays dropped on the way to NATS.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DELIVERY_DROP_REASONS } from "../../src/eventplane/confirmed-publisher.js";
import { NatsCluster } from "../harness/nats-cluster.js";
import { freePort, sleep, waitFor } from "../harness/ports.js";
import { FpmProcess } from "../harness/fpm-process.js";
import { SyntheticEngine } from "./synthetic-engine.js";

const RATE_HZ = 50;

async function settled(read: () => Promise<number[]>, timeoutMs = 20_000): Promise<number[]> {
  let last = await read();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Longer than a planner tick: its message counters are brought up to date once per tick.
    await sleep(2500);
    const now = await read();
    if (now.every((v, i) => v === last[i])) return now;
    if (Date.now() > deadline) throw new Error(`counters still moving: ${JSON.stringify(now)}`);
    last = now;
  }
}

describe("ops cluster", () => {
  let cluster: NatsCluster;
  let relayA: FpmProcess, relayB: FpmProcess, planner: FpmProcess;
  const engines: SyntheticEngine[] = [];

  before(async () => {
    cluster = await NatsCluster.start({ size: 3 });
    const z = [await freePort(), await freePort(), await freePort(), await freePort()];
    const mp = [await freePort(), await freePort(), await freePort()];
    const relayArgs = (zs: number[], port: number, node: number) => [
      "relay",
      "--component",
      "backend",
      "--dp-size",
      "2",
      ...zs.flatMap((p) => ["--zmq-endpoint", `tcp://127.0.0.1:${p}`]),
      "--metrics-port",
      String(port),
      "--metrics-host",
      "127.0.0.1",
      "--nats",
      cluster.url(node),
    ];
    relayA = new FpmProcess(relayArgs([z[0], z[1]], mp[0], 0), { metricsPort: mp[0], env: { DYN_LOG: "info" } });
    relayB = new FpmProcess(relayArgs([z[2], z[3]], mp[1], 1), { metricsPort: mp[1], env: { DYN_LOG: "info" } });
    planner = new FpmProcess(
      [
        "planner",
        "--component",
        "backend:agg",
        "--max-kv-tokens",
        "65536",
        "--load-adjustment-interval",
        "1",
        "--decisions-file",
        "/dev/null",
        "--metrics-port",
        String(mp[2]),
        "--metrics-host",
        "127.0.0.1",
        "--nats",
        cluster.url(2),
      ],
      { metricsPort: mp[2], env: { DYN_LOG: "info" } },
    );
    for (const p of [relayA, relayB, planner]) await p.waitHealthy();
    for (const [i, port] of z.entries()) {
      engines.push(
        await new SyntheticEngine({
          endpoint: `tcp://127.0.0.1:${port}`,
          workerId: i < 2 ? "w-a" : "w-b",
          dpRank: i % 2,
          rateHz: RATE_HZ,
        }).start(),
      );
    }
  });

  after(async () => {
    for (const e of engines) await e.stop();
    for (const p of [relayA, relayB, planner]) await p?.stop();
    await cluster?.cleanup();
  });

  const relayEnvelopes = async () => {
    let n = 0;
    for (const r of [relayA, relayB]) {
      n += await r.metricSum("fpm_relay_forwarded_total");
      for (const reason of DELIVERY_DROP_REASONS)
        n += await r.metricSum("fpm_relay_dropped_total", `reason="${reason}"`);
    }
    return n;
  };
  const plannerSeen = async () =>
    (await planner.metricSum("fpm_planner_messages_received_total")) -
    (await planner.metricSum("fpm_planner_messages_dropped_total", 'reason="duplicate"')) +
    (await planner.metricSum("fpm_planner_messages_lost_total"));

  test("cluster - the planner on node 2 receives from relays on nodes 0 and 1 without loss", async () => {
    await waitFor(
      async () =>
        (await planner.metricSum("fpm_planner_messages_accepted_total")) > 200 &&
        (await planner.metricSum("fpm_planner_engines")) === 4,
      30_000,
      "FPM of 4 engines at the planner",
    );
    assert.equal(await planner.metricSum("fpm_planner_messages_lost_total"), 0);
    assert.equal(await cluster.connectionCount(0), 1, "relay A is on node 0");
    assert.equal(await cluster.connectionCount(2), 1, "the planner is on node 2");
  });

  test("cluster - killing relay A's node mid-stream loses only what was in flight, counted as gaps; relay A moves to a remaining node", async () => {
    const lostBefore = await planner.metricSum("fpm_planner_messages_lost_total");
    await cluster.whileDown(0, async () => {
      await waitFor(
        async () =>
          (await relayA.metricSum("fpm_relay_nats_reconnects_total")) >= 1 &&
          (await relayA.get("/health"))?.status === 200,
        30_000,
        "relay A reconnected",
      );
      // Relay A now publishes through node 1 or 2 (the servers register a client as it connects,
      // so wait for the count rather than read it once).
      await waitFor(
        async () => (await cluster.connectionCount(1)) + (await cluster.connectionCount(2)) === 3,
        10_000,
        "relay A, relay B and the planner on the remaining nodes",
      );
      // It forwards again: its count passes the value at the reconnect, whenever its first
      // envelope after the reconnect goes out.
      const forwardedAtReconnect = await relayA.metricSum("fpm_relay_forwarded_total");
      await waitFor(
        async () => (await relayA.metricSum("fpm_relay_forwarded_total")) > forwardedAtReconnect + 100,
        20_000,
        "relay A forwarding again through another node",
      );
      const lost = (await planner.metricSum("fpm_planner_messages_lost_total")) - lostBefore;
      const relayDropped = await relayA.metricSum("fpm_relay_dropped_total");
      // In flight through node 0: at most what relay A sends in a few seconds (2 ranks at RATE_HZ + heartbeats).
      const inFlightBound = 2 * RATE_HZ * 5;
      assert.ok(
        lost - relayDropped <= inFlightBound,
        `lost ${lost} (relay dropped ${relayDropped}) exceeds ${inFlightBound}`,
      );
    });
  });

  test("cluster - killing the planner's node: the planner reconnects and keeps deciding", async () => {
    const decisionsBefore = await planner.metricSum("fpm_planner_decisions_total");
    await cluster.whileDown(2, async () => {
      await waitFor(
        async () =>
          (await planner.get("/health"))?.status === 200 &&
          (await cluster.connectionCount(0)) + (await cluster.connectionCount(1)) === 3,
        30_000,
        "planner reconnected to node 0 or 1",
      );
      const acceptedAfter = await planner.metricSum("fpm_planner_messages_accepted_total");
      await waitFor(
        async () => (await planner.metricSum("fpm_planner_messages_accepted_total")) > acceptedAfter + 200,
        30_000,
        "FPM reaching the planner again",
      );
      await waitFor(
        async () => (await planner.metricSum("fpm_planner_decisions_total")) >= decisionsBefore + 3,
        30_000,
        "new decisions",
      );
      const m = (await planner.get("/metrics"))!.body;
      assert.match(m, /fpm_planner_desired_replicas\{component="backend"\} \d/);
    });
  });

  test("cluster - every envelope is either received or counted lost", async () => {
    for (const e of engines) await e.stop();
    const [made, seen] = await settled(async () => [await relayEnvelopes(), await plannerSeen()]);
    assert.ok(made >= 500, `relays made ${made} envelopes`);
    assert.equal(seen, made, `planner received + lost (${seen}) == relays forwarded + dropped (${made})`);
    assert.equal(await planner.metricSum("fpm_planner_messages_dropped_total", 'reason="recv_overflow"'), 0);
  });
});
