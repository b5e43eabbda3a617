/**
 * `npm run bench:zmq-ingest`: the planner's ingest (`FpmPlanner` and its `FpmEventSubscriber`,
 * in this process) from 200 publishers sending directly on the event plane, as 200 relays
 * (or TRT-LLM workers) would: on the ZMQ plane (200 PUB sockets registered in a file
 * discovery store, one SUB following them) and, as the baseline in the same run, on NATS
 * (the same envelopes through nats-server). The publishers run in a child process at
 * BENCH_RATE messages/s each (default 50, a busy engine). Reported per plane, medians of
 * BENCH_RUNS runs: time until every publisher was heard, accepted msg/s, CPU us per message
 * of the ingesting process, messages lost (sequence gaps) and engines tracked.
 *
 * Internal mode `--publishers` is this file run as the child.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import * as zmq from "zeromq";
import { encodeFpm } from "../src/codec/fpm-encode.js";
import { eventChannelKey } from "../src/discovery/keys.js";
import { eventChannelJson } from "../src/discovery/records.js";
import { FileDiscoveryStore } from "../src/discovery/file-store.js";
import { connectNats } from "../src/eventplane/connection.js";
import { NatsEnvelopeSource } from "../src/eventplane/nats-plane.js";
import { fpmSubject, fpmSubscriptionSubjects } from "../src/eventplane/subject.js";
import { encodeZmqFrames, publisherIdFrame } from "../src/eventplane/zmq-frames.js";
import { ZmqEnvelopeSource } from "../src/eventplane/zmq-plane.js";
import { FpmPlanner } from "../src/planner/fpm-planner.js";
import { resolvePlannerConfig } from "../src/planner/planner-config.js";
import { RankEnvelopeWriter } from "../src/relay/envelope-writer.js";
import { defaultForwardPassMetrics, FPM_TOPIC } from "../src/schema/forward-pass-metrics.js";
import { Logger } from "../src/util/log.js";
import { ManagedProcess } from "../src/util/child-process.js";
import { NatsServer } from "../test/harness/nats-server.js";
import { sleep, waitFor } from "../test/harness/ports.js";
import { REPO_ROOT } from "../test/harness/vectors.js";
import { machineInfo, median, printMachine } from "./machine.js";

const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 5000);
const SCOPE = { namespace: "ingest", component: "backend", endpoint: "generate" };
const THIS = path.join(REPO_ROOT, "dist", "bench", "zmq-ingest.js");
const quiet = new Logger({ target: "bench", level: "error" });

function payload(worker: number, counterId: number): Uint8Array {
  const d = defaultForwardPassMetrics();
  return encodeFpm({
    ...d,
    workerId: String(7_587_890_000_000 + worker),
    counterId,
    wallTimeS: 0.02,
    scheduledRequests: { ...d.scheduledRequests, numDecodeRequests: 32, sumDecodeKvTokens: 40_000 + counterId },
  });
}

// ---------------------------------------------------------------- child: the publishers
async function runPublishers(plane: string, where: string): Promise<void> {
  const writers = Array.from({ length: PUBLISHERS }, (_, i) => new RankEnvelopeWriter(BigInt(1000 + i), FPM_TOPIC));
  const seqs = new Array<number>(PUBLISHERS).fill(0);
  let send: (i: number, envelope: Uint8Array) => void;
  const closers: Array<() => unknown> = [];
  if (plane === "zmq") {
    const store = new FileDiscoveryStore({ root: where, logger: quiet });
    const socks: zmq.Publisher[] = [];
    for (let i = 0; i < PUBLISHERS; i++) {
      const s = new zmq.Publisher({ sendHighWaterMark: 100_000, linger: 0 });
      await s.bind("tcp://127.0.0.1:0");
      const id = BigInt(1000 + i);
      await store.register(
        eventChannelKey(SCOPE, id),
        eventChannelJson({
          scope: SCOPE,
          topic: FPM_TOPIC,
          instanceId: id,
          transport: { kind: "Zmq", endpoint: s.lastEndpoint! },
        }),
      );
      socks.push(s);
    }
    const ids = socks.map((_, i) => publisherIdFrame(BigInt(1000 + i)));
    // zeromq.js allows one send in flight per socket: each socket's frames go out in order from its own queue.
    const queues = socks.map(() => [] as Buffer[][]);
    const busy = socks.map(() => false);
    const pump = async (i: number) => {
      busy[i] = true;
      for (let f = queues[i].shift(); f; f = queues[i].shift()) await socks[i].send(f).catch(() => undefined);
      busy[i] = false;
    };
    send = (i, env) => {
      queues[i].push(encodeZmqFrames(ids[i], seqs[i] - 1, env));
      if (!busy[i]) void pump(i);
    };
    closers.push(
      () => store.close(),
      () => {
        for (const s of socks) s.close();
      },
    );
  } else {
    const nc = await connect({ servers: where });
    const subject = fpmSubject(SCOPE, {});
    send = (_i, env) => nc.publish(subject, env);
    closers.push(() => nc.close());
  }
  process.on("disconnect", () => process.exit(0));
  process.stdout.write("ready\n");
  const start = performance.now();
  let stop = false;
  process.on("SIGTERM", () => (stop = true));
  while (!stop) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (let i = 0; i < PUBLISHERS; i++) {
      while (seqs[i] < due) {
        const seq = seqs[i]++;
        send(i, writers[i].write(seq, Date.now(), payload(i, seq + 1)));
      }
    }
    await sleep(5);
  }
  for (const c of closers) await c();
  process.exit(0);
}

// ---------------------------------------------------------------- orchestrator
interface RunResult {
  plane: string;
  heardAllMs: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
  lost: number;
  engines: number;
}

function startPublishers(plane: string, where: string): Promise<ManagedProcess> {
  return new Promise((resolve) => {
    const child: ManagedProcess = new ManagedProcess({
      name: `publishers-${plane}`,
      command: process.execPath,
      args: [THIS, "--publishers", plane, where],
      env: { DYN_LOG: "error" },
      stderr: "inherit",
      ipc: true,
      onStdoutLine: (line) => {
        if (line === "ready") resolve(child);
      },
    });
  });
}

async function oneRun(plane: "zmq" | "nats", natsUrl: string): Promise<RunResult> {
  const kv = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-ingest-kv-"));
  const nats = plane === "nats" ? await connectNats({ servers: [natsUrl] }, quiet) : null;
  const source =
    plane === "zmq"
      ? new ZmqEnvelopeSource({
          store: new FileDiscoveryStore({ root: kv, logger: quiet, rescanMs: 200 }),
          namespace: SCOPE.namespace,
          components: [],
          logger: quiet,
        })
      : new NatsEnvelopeSource(nats!, fpmSubscriptionSubjects({ namespace: SCOPE.namespace }, {}));
  const planner = new FpmPlanner({
    namespace: SCOPE.namespace,
    components: [{ component: "backend", kind: "agg" }],
    config: resolvePlannerConfig({ optimizationTarget: "throughput", maxKvTokens: 100_000, contextLength: 4096 }),
    source,
    autoTick: false,
    maxEngines: 10_000,
    logger: quiet,
  });
  planner.start();
  await planner.subscriber.ready();
  const t0 = performance.now();
  const pubs = await startPublishers(plane, plane === "zmq" ? kv : natsUrl);
  try {
    await waitFor(() => planner.subscriber.stats().engines === PUBLISHERS, 60_000, `all ${PUBLISHERS} publishers`);
    const heardAllMs = performance.now() - t0;
    await sleep(1000);
    const a0 = planner.subscriber.stats().accepted;
    const l0 = planner.subscriber.stats().lost;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(WINDOW_MS);
    const c1 = process.cpuUsage(c0);
    const s = planner.subscriber.stats();
    const accepted = s.accepted - a0;
    return {
      plane,
      heardAllMs,
      msgPerSec: accepted / ((performance.now() - w0) / 1000),
      cpuUsPerMsg: (c1.user + c1.system) / Math.max(1, accepted),
      lost: s.lost - l0,
      engines: s.engines,
    };
  } finally {
    await pubs.stop(5000);
    await planner.stop();
    await nats?.close();
    fs.rmSync(kv, { recursive: true, force: true });
  }
}

async function orchestrate(): Promise<void> {
  const m = machineInfo("npm run bench:zmq-ingest");
  printMachine(m);
  console.log(
    `# ${PUBLISHERS} publishers x ${RATE} msg/s each, window ${WINDOW_MS} ms, ${RUNS} runs per plane, alternating; medians`,
  );
  const loadBefore = os.loadavg();
  console.log(`# load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  const server = await NatsServer.start();
  const results: RunResult[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const plane of ["zmq", "nats"] as const) {
        const res = await oneRun(plane, server.url);
        results.push(res);
        console.log(
          `  run ${r + 1} ${plane.padEnd(4)} heard all after ${res.heardAllMs.toFixed(0)} ms, ${res.msgPerSec.toFixed(0)} msg/s accepted, ${res.cpuUsPerMsg.toFixed(2)} us CPU/msg, lost ${res.lost}, engines ${res.engines}`,
        );
      }
    }
  } finally {
    await server.cleanup();
  }
  const med = (plane: string, k: keyof RunResult) =>
    median(results.filter((x) => x.plane === plane).map((x) => x[k] as number));
  console.log("");
  console.log("| plane | heard all 200 after ms | accepted msg/s | CPU us/msg (ingesting process) | lost | engines |");
  console.log("|---|---|---|---|---|---|");
  const rows: string[] = [];
  for (const plane of ["zmq", "nats"]) {
    const row = `| ${plane} | ${med(plane, "heardAllMs").toFixed(0)} | ${med(plane, "msgPerSec").toFixed(0)} | ${med(plane, "cpuUsPerMsg").toFixed(2)} | ${med(plane, "lost")} | ${med(plane, "engines")} |`;
    rows.push(row);
    console.log(row);
  }
  const loadAfter = os.loadavg();
  console.log(`# load average at end: ${loadAfter.map((x) => x.toFixed(2)).join(" ")}`);
  fs.mkdirSync(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
  fs.writeFileSync(
    path.join(REPO_ROOT, "bench", "results", "zmq-ingest.json"),
    `${JSON.stringify({ machine: m, loadAverage: { start: loadBefore, end: loadAfter }, settings: { PUBLISHERS, RATE, RUNS, WINDOW_MS }, runs: results, table: rows }, null, 2)}\n`,
  );
  console.log("\nwrote bench/results/zmq-ingest.json");
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "--publishers") await runPublishers(rest[0], rest[1]);
else await orchestrate();
