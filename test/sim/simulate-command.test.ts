import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import * as zmq from "zeromq";
import { decodeFpm } from "../../src/codec/fpm-decode.js";
import type { ForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import type { NatsServer } from "../harness/nats-server.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { freePort, waitFor } from "../harness/ports.js";
import { decisionRecord } from "../harness/decision-record.js";
import { FpmProcess } from "../harness/fpm-process.js";

let server: NatsServer;
let nc: NatsConnection;
let testbed: NatsTestbed | undefined;
let dir: string;

before(async () => {
  testbed = await startNatsTestbed("fpm-sim-cli-");
  ({ server, nc, dir } = testbed);
});

after(() => testbed?.close());

interface Received {
  endpoint: string;
  frames: number;
  seq: bigint;
  fpm: ForwardPassMetrics | null;
}

/** A real ZMQ SUB on each endpoint, collecting every message until `stop()`. */
function subscribe(endpoints: string[]): { got: Received[]; stop: () => void } {
  const got: Received[] = [];
  const socks = endpoints.map((e) => {
    const s = new zmq.Subscriber({ linger: 0 });
    s.connect(e);
    s.subscribe();
    void (async () => {
      try {
        for await (const frames of s) {
          const r = decodeFpm(frames[2] ?? new Uint8Array());
          got.push({
            endpoint: e,
            frames: frames.length,
            seq: frames[1].length === 8 ? Buffer.from(frames[1]).readBigUInt64BE() : -1n,
            fpm: r.ok ? r.value : null,
          });
        }
      } catch {
        // closed
      }
    })();
    return s;
  });
  return {
    got,
    stop: () => {
      for (const s of socks) s.close();
    },
  };
}

test("sim - fpm simulate publishes valid FPM per rank over tcp: 3 frames, seq = counter_id, busy and queued fields", {
  timeout: 60_000,
}, async () => {
  const base = await freePort();
  const endpoints = [`tcp://127.0.0.1:${base}`, `tcp://127.0.0.1:${base + 1}`];
  const sub = subscribe(endpoints);
  const sim = new FpmProcess([
    "simulate",
    "--workers",
    "1",
    "--dp-ranks",
    "2",
    "--port-base",
    String(base),
    "--arrivals",
    "constant:40",
    "--duration",
    "20",
  ]);
  try {
    await waitFor(
      () => sub.got.filter((g) => g.fpm && g.fpm.wallTimeS > 0).length >= 200,
      30_000,
      "200 busy iterations",
    );
  } finally {
    await sim.stop();
    sub.stop();
  }
  assert.equal(sim.exitCode, 0, sim.stderr);
  assert.ok(
    sub.got.every((g) => g.frames === 3 && g.fpm !== null),
    "every message is 3 frames with a valid payload",
  );
  for (const [rank, e] of endpoints.entries()) {
    const mine = sub.got.filter((g) => g.endpoint === e);
    assert.ok(mine.length > 50);
    assert.ok(
      mine.every(
        (g) => g.fpm!.dpRank === rank && g.fpm!.workerId === "sim-worker-0" && BigInt(g.fpm!.counterId) === g.seq,
      ),
    );
    const seqs = mine.map((g) => Number(g.seq));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0] + i),
      "consecutive seqs: nothing lost on loopback",
    );
  }
  const busy = sub.got.map((g) => g.fpm!).filter((f) => f.wallTimeS > 0);
  assert.ok(
    busy.some((f) => f.scheduledRequests.numPrefillRequests > 0 && f.scheduledRequests.sumPrefillTokens >= 256),
  );
  assert.ok(busy.some((f) => f.scheduledRequests.numDecodeRequests > 1 && f.scheduledRequests.sumDecodeKvTokens > 0));
  assert.ok(
    busy.every((f) => f.wallTimeS >= 0.004 && f.wallTimeS < 1),
    "wall time from the cost model (a = 5 ms)",
  );
});

test("sim - idle simulated engines send heartbeats over ipc", { timeout: 60_000 }, async () => {
  const prefix = path.join(dir, "ipc");
  const endpoints = [`ipc://${prefix}-0.0`];
  const sub = subscribe(endpoints);
  const sim = new FpmProcess([
    "simulate",
    "--workers",
    "1",
    "--dp-ranks",
    "1",
    "--ipc-prefix",
    prefix,
    "--arrivals",
    "constant:0",
    "--heartbeat-interval-ms",
    "100",
    "--duration",
    "20",
  ]);
  try {
    await waitFor(() => sub.got.length >= 5, 30_000, "5 heartbeats");
  } finally {
    await sim.stop();
    sub.stop();
  }
  assert.ok(sub.got.every((g) => g.fpm!.wallTimeS === 0 && g.fpm!.scheduledRequests.numDecodeRequests === 0));
});

test("sim - bad simulate configuration fails at start with exit code 2 and says what to change", {
  timeout: 60_000,
}, async () => {
  const cases: [string[], RegExp][] = [
    [["--arrivals", "sometimes:3"], /--arrivals "sometimes:3": unknown form/],
    [["--arrivals", "step:1:x:3"], /STEP "x": must be a number/],
    [["--port-base", "49150", "--workers", "2", "--dp-ranks", "2"], /49151|port/],
    [["--input-tokens", "10:5"], /MAX is below MIN/],
    [["--speed", "0"], /--speed/],
    [["--arrivals", `file:${path.join(dir, "missing.ndjson")}`], /cannot read it/],
  ];
  for (const [args, message] of cases) {
    const p = new FpmProcess(["simulate", "--duration", "1", ...args]);
    assert.equal(await p.wait(), 2, `${args.join(" ")}: ${p.stderr}`);
    assert.match(p.stderr, message);
  }
});

test("sim - an arrivals file drives the load; malformed lines are reported with their numbers", {
  timeout: 60_000,
}, async () => {
  const file = path.join(dir, "arrivals.ndjson");
  fs.writeFileSync(
    file,
    [
      '{"t":0,"input_tokens":300,"output_tokens":4}',
      "oops",
      '{"t":0.1,"input_tokens":200,"output_tokens":4}',
      '{"t":0.2}',
    ].join("\n"),
  );
  const base = await freePort();
  const sim = new FpmProcess([
    "simulate",
    "--workers",
    "1",
    "--dp-ranks",
    "1",
    "--port-base",
    String(base),
    "--arrivals",
    `file:${file}`,
    "--duration",
    "2",
    "--events",
  ]);
  assert.equal(await sim.wait(), 0, sim.stderr);
  assert.match(sim.stderr, /line=2 reason="not JSON"/);
  assert.match(sim.stderr, /line=4 reason="input_tokens must be an integer >= 1"/);
  const summary = sim.jsonLines().find((l) => l.event === "summary")!;
  assert.equal(summary.arrivals, 2);
  assert.equal(summary.finished, 2);
});

test("sim - closed loop: simulate follows the planner's decisions on NATS, with a start-up delay", {
  timeout: 60_000,
}, async () => {
  const base = await freePort();
  const sim = new FpmProcess([
    "simulate",
    "--workers",
    "1",
    "--dp-ranks",
    "1",
    "--port-base",
    String(base),
    "--arrivals",
    "constant:5",
    "--follow-planner",
    "--nats",
    server.url,
    "--namespace",
    "loop",
    "--startup-delay",
    "1",
    "--max-workers",
    "4",
    "--events",
  ]);
  try {
    await sim.waitForLog("following planner decisions");
    const subject = "namespace.loop.planner.decisions";
    nc.publish(subject, "not json");
    nc.publish(
      subject,
      JSON.stringify(decisionRecord({ component: "prefill", desired: 4, direction: "up", reason: "scale_up" })),
    );
    // A partial record is no decision record: not followed (it would start sim-worker-3).
    nc.publish(subject, JSON.stringify({ component: "backend", desired: 4, direction: "up", reason: "scale_up" }));
    nc.publish(
      subject,
      JSON.stringify(decisionRecord({ replicas: 1, desired: 3, direction: "up", reason: "scale_up" })),
    );
    await waitFor(
      () => sim.jsonLines().filter((l) => l.event === "worker_ready").length === 3,
      20_000,
      "two more workers ready",
    );
    const ev = sim.jsonLines();
    const starting = ev.find((l) => l.event === "worker_starting" && l.worker_id === "sim-worker-2")!;
    const ready = ev.find((l) => l.event === "worker_ready" && l.worker_id === "sim-worker-2")!;
    assert.ok(
      (ready.simulated_s as number) - (starting.simulated_s as number) >= 0.99,
      "ready after the start-up delay",
    );
    assert.deepEqual(ready.endpoints, [`tcp://127.0.0.1:${base + 2}`]);
    nc.publish(
      subject,
      JSON.stringify(decisionRecord({ replicas: 3, desired: 1, direction: "down", reason: "scale_down" })),
    );
    await waitFor(
      () => sim.jsonLines().filter((l) => l.event === "worker_stopped").length === 2,
      20_000,
      "two workers stopped",
    );
    assert.deepEqual(
      sim
        .jsonLines()
        .filter((l) => l.event === "worker_stopped")
        .map((l) => l.worker_id)
        .sort(),
      ["sim-worker-1", "sim-worker-2"],
      "the newest workers go first",
    );
    assert.equal(
      sim.jsonLines().filter((l) => l.event === "worker_ready").length,
      3,
      "the prefill decision was not followed",
    );
    assert.ok(!sim.jsonLines().some((l) => l.worker_id === "sim-worker-3"), "the partial record was not followed");
  } finally {
    await sim.stop();
  }
  assert.equal(sim.exitCode, 0);
  assert.match(sim.stderr, /ignored a message that is no planner decision record reason="not JSON"/);
});
