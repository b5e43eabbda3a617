/**
 * `npm run bench:relay`: the relay process (`fpm relay`) with validation on, with
 * validation off, and a bare ZMQ -> NATS pipe (no envelope, no checks) in the same run,
 * each in its own process, fed by the same generator process over ZMQ:
 * - throughput: the generator sends as fast as it can; sustained msg/s is what the relay
 *   published over the window (from its counters), CPU us/msg from /proc/<pid>/stat;
 * - latency at 10,000 msg/s: ZMQ receive -> NATS publish from the relay's own histogram
 *   (interpolated like histogram_quantile), and end-to-end engine send -> subscriber
 *   receive for each contender, so the bare pipe's hops can be subtracted;
 * - RSS: the largest VmRSS of the relay process seen during the run.
 * - the ZMQ plane (`zmq-plane`): the same validated relay publishing on Dynamo's ZMQ plane
 *   (file discovery in a temp dir) instead of NATS; during the throughput window a pyzmq
 *   subscriber drains its PUB (ZMQ PUB with no subscriber does no work), and the latency
 *   subscriber follows discovery with `ZmqEnvelopeSource`.
 * Runs alternate between contenders; each figure is the median of BENCH_RUNS runs.
 *
 * `npm run bench:relay-rss` (`--rss`) measures memory only, longer: per run the relay's idle
 * RSS (the baseline), then its largest RSS under a flood of ~400-byte messages and under a
 * flood of 1 MiB frames (dropped as oversize at the default --max-payload-bytes), with and
 * without NODE_OPTIONS=--max-semi-space-size=4, and the bare pipe under the same flood.
 *
 * Internal modes (`--generator`, `--bare-pipe`) are this file run as a child process.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import * as zmq from "zeromq";
import { decodeEnvelope } from "../src/codec/envelope.js";
import { decodeFpm } from "../src/codec/fpm-decode.js";
import { encodeFpm } from "../src/codec/fpm-encode.js";
import { encodeSeqFrame } from "../src/engine/frames.js";
import { FileDiscoveryStore } from "../src/discovery/file-store.js";
import { fpmSubject } from "../src/eventplane/subject.js";
import { ZmqEnvelopeSource } from "../src/eventplane/zmq-plane.js";
import { Logger } from "../src/util/log.js";
import { defaultForwardPassMetrics, type ForwardPassMetrics } from "../src/schema/forward-pass-metrics.js";
import { NatsServer } from "../test/harness/nats-server.js";
import { freePort, sleep, waitFor } from "../test/harness/ports.js";
import { REPO_ROOT } from "../test/harness/vectors.js";
import { type ManagedProcess, ProcessRegistry } from "../src/util/child-process.js";
import { type PrometheusSample, scrapeMetrics, sumByLabel, sumSamples } from "../src/util/prometheus-text.js";
import { machineInfo, median, percentile, printMachine } from "./machine.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 3000);
const LATENCY_RATE = 10_000;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 3000);
// fpm relay's default scope: Dynamo 1.6.1's endpoint scope.
const SUBJECT = fpmSubject({ namespace: "bench", endpoint: "generate" }, {});
const THIS = path.join(REPO_ROOT, "dist", "bench", "relay.js");
const FPM = path.join(REPO_ROOT, "bin", "fpm.js");

/** A realistic busy-iteration payload (about 400 bytes, like a vLLM decode step). */
function samplePayload(counterId: number): Uint8Array {
  const fpm: ForwardPassMetrics = {
    ...defaultForwardPassMetrics(),
    workerId: "7587890896203917071",
    dpRank: 0,
    counterId,
    wallTimeS: 0.0213,
    scheduledRequests: {
      numPrefillRequests: 2,
      sumPrefillTokens: 3072,
      varPrefillLength: 120_345.25,
      sumPrefillKvTokens: 512,
      numDecodeRequests: 48,
      sumDecodeKvTokens: 61_440,
      varDecodeKvTokens: 90_112.5,
    },
    queuedRequests: {
      numPrefillRequests: 3,
      sumPrefillTokens: 4096,
      varPrefillLength: 2048.5,
      numDecodeRequests: 0,
      sumDecodeKvTokens: 0,
      varDecodeKvTokens: 0,
    },
  };
  return encodeFpm(fpm);
}

// ---------------------------------------------------------------- child: generator
/**
 * Binds a PUB and sends as fast as it can (counter_id 0: unstamped, so no per-message encode);
 * with `payloadBytes`, frames of that many bytes that are not FPM.
 */
async function runGenerator(endpoint: string, payloadBytes?: number): Promise<void> {
  const pub = new zmq.Publisher({ sendHighWaterMark: 100_000, linger: 0 });
  await pub.bind(endpoint);
  const payload = payloadBytes ? new Uint8Array(payloadBytes).fill(0xc1) : samplePayload(0);
  const empty = new Uint8Array(0);
  let seq = 0;
  let stop = false;
  process.on("SIGTERM", () => (stop = true));
  // Never outlive the orchestrator.
  process.on("disconnect", () => process.exit(0));
  while (!stop) {
    for (let i = 0; i < 512; i++) await pub.send([empty, encodeSeqFrame(seq++), payload]);
    // Let the SIGTERM handler run now and then.
    if ((seq & 0x3fff) === 0) await new Promise((r) => setImmediate(r));
  }
  pub.close();
  process.exit(0);
}

// ---------------------------------------------------------------- child: bare pipe
/**
 * ZMQ receive then NATS publish, nothing else: the floor the relay is compared with. It
 * batches NATS writes per ZMQ burst exactly as the relay does, so the comparison measures
 * the checks and the envelope, not a different write pattern.
 */
async function runBarePipe(endpoint: string, natsUrl: string, port: number): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  const sub = new zmq.Subscriber({ receiveHighWaterMark: 10_000, linger: 0 });
  sub.connect(endpoint);
  sub.subscribe();
  let forwarded = 0;
  const server = http.createServer((_req, res) => res.end(`fpm_relay_forwarded_total{dp_rank="0"} ${forwarded}\n`));
  server.listen(port, "127.0.0.1");
  let running = true;
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", async () => {
    running = false;
    sub.close();
    await nc.flush().catch(() => undefined);
    await nc.close();
    server.close();
    process.exit(0);
  });
  let batch: Uint8Array[] = [];
  const flush = () => {
    for (const p of batch) nc.publish(SUBJECT, p);
    forwarded += batch.length;
    batch = [];
  };
  let sinceYield = 0;
  while (running) {
    if (++sinceYield >= 256) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
    let frames: Buffer[];
    try {
      frames = await sub.receive();
    } catch {
      break;
    }
    batch.push(frames[2]);
    if (!sub.readable || batch.length >= 64) flush();
  }
}

// ---------------------------------------------------------------- orchestrator
type Mode = "validated" | "validate-off" | "bare-pipe" | "validated-semi4" | "zmq-plane";
/**
 * `validated-semi4` is the validated relay under NODE_OPTIONS=--max-semi-space-size=4: a
 * smaller V8 young generation, the setting the README suggests where memory is tight.
 */
const MODES: Mode[] = ["validated", "validate-off", "bare-pipe", "validated-semi4", "zmq-plane"];
const SCOPE = { namespace: "bench", component: "backend", endpoint: "generate" };

/** Drains one ZMQ PUB as fast as it can (pyzmq), the ZMQ plane's stand-in for nats-server. */
const PY_DRAIN = `
import os, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.SUB)
s.setsockopt(zmq.RCVHWM, 100000)
s.setsockopt(zmq.SUBSCRIBE, b"forward-pass-metrics")
s.setsockopt(zmq.RCVTIMEO, 200)
s.connect(sys.argv[1])
ppid = os.getppid()
while os.getppid() == ppid:
    try:
        s.recv_multipart(copy=False)
    except zmq.Again:
        pass
`;

/** The advertised endpoint in the one EventChannel record under `kv`. */
async function recordEndpoint(kv: string): Promise<string> {
  const dir = path.join(kv, "v1", "event_channels");
  let endpoint = "";
  await waitFor(
    () => {
      const f = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith(".tmp_")) : [];
      if (f.length === 0) return false;
      endpoint = JSON.parse(fs.readFileSync(path.join(dir, f[0]), "utf8")).transport.config.endpoint;
      return true;
    },
    15_000,
    "the ZMQ relay's record",
  );
  return endpoint;
}

interface RunResult {
  mode: Mode;
  msgPerSec: number;
  cpuUsPerMsg: number;
  rssMiB: number;
  e2eP50Us: number;
  e2eP99Us: number;
  /** From the relay's histogram (not available for the bare pipe). */
  relayP50Us: number | null;
  relayP99Us: number | null;
  latencyDelivered: number;
}

const CLK_TCK = 100;

function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function procRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

function scrape(port: number): Promise<PrometheusSample[]> {
  return scrapeMetrics(`http://127.0.0.1:${port}/metrics`);
}

function forwardedFrom(samples: readonly PrometheusSample[]): number {
  return sumSamples(samples, "fpm_relay_forwarded_total", { dp_rank: "0" });
}

/** histogram_quantile over the relay's latency buckets (linear within a bucket), in us. */
function histogramQuantileUs(samples: readonly PrometheusSample[], q: number, baseline: Map<number, number>): number {
  const buckets: Array<[number, number]> = [...bucketsOf(samples)].map(([le, n]) => [le, n - (baseline.get(le) ?? 0)]);
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe * 1e6;
      return (prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(1, count - prevCount))) * 1e6;
    }
    prevLe = le;
    prevCount = count;
  }
  return NaN;
}

/** Cumulative count per bucket bound `le`, summed over every other label. */
function bucketsOf(samples: readonly PrometheusSample[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, n] of Object.entries(sumByLabel(samples, "fpm_relay_forward_latency_seconds_bucket", "le")))
    out.set(le === "+Inf" ? Infinity : Number(le), n);
  return out;
}

/**
 * pyzmq sends several times faster than zeromq.js, so when the contract-test venv (or a
 * python3 with pyzmq) is there, the generator is Python and cannot be the bottleneck.
 */
const PY_GENERATOR = `
import os, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUB)
s.setsockopt(zmq.SNDHWM, 100000)
s.setsockopt(zmq.LINGER, 0)
s.bind(sys.argv[1])
payload = bytes.fromhex(sys.argv[2]) if len(sys.argv) < 4 else b"\\xc1" * int(sys.argv[3])
seq = 0
ppid = os.getppid()
while True:
    for _ in range(4096):
        s.send_multipart([b"", seq.to_bytes(8, "big"), payload], copy=False)
        seq += 1
    if os.getppid() != ppid:
        break
`;

function pythonWithZmq(): string | null {
  for (const py of [path.join(REPO_ROOT, "contract-tests", ".venv", "bin", "python"), "python3"]) {
    const r = spawnSync(py, ["-c", "import zmq"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return null;
}
const PYTHON = pythonWithZmq();

/** Every child of the benchmark; whatever is still running when it exits is killed. */
const children = new ProcessRegistry([]);

function startGenerator(endpoint: string, payloadBytes?: number): ManagedProcess {
  const size = payloadBytes === undefined ? [] : [String(payloadBytes)];
  if (PYTHON)
    return children.start({
      name: "generator",
      command: PYTHON,
      args: ["-c", PY_GENERATOR, endpoint, Buffer.from(samplePayload(0)).toString("hex"), ...size],
      stdout: "ignore",
      stderr: "inherit",
    });
  return startChild("generator", [THIS, "--generator", endpoint, ...size], true);
}

/** This file or `fpm` as a child; with `ipc` it exits when the channel closes (see --generator). */
function startChild(name: string, args: string[], ipc = false, env: NodeJS.ProcessEnv = {}): ManagedProcess {
  return children.start({
    name,
    command: process.execPath,
    args,
    env: { DYN_LOG: "error", ...env },
    stdout: ipc ? "inherit" : "ignore",
    stderr: "inherit",
    ipc,
  });
}

/** Starts the contender `mode` on `endpoint`, serving its counters on `metricsPort` (`kv`: the ZMQ plane's discovery dir). */
function startContender(
  mode: Mode,
  endpoint: string,
  natsUrl: string,
  metricsPort: number,
  extraArgs: string[] = [],
  kv = "",
): ManagedProcess {
  const common = ["--zmq-endpoint", endpoint, "--metrics-port", String(metricsPort), "--metrics-host", "127.0.0.1"];
  if (mode === "zmq-plane")
    return startChild(mode, [FPM, "relay", ...common, "--event-plane", "zmq", ...extraArgs], false, {
      DYN_FILE_KV: kv,
      DYN_NAMESPACE: "bench",
      DYN_EVENT_PLANE_HOST: "127.0.0.1",
    });
  if (mode === "bare-pipe")
    return startChild(mode, [THIS, "--bare-pipe", endpoint, natsUrl, String(metricsPort)], true);
  return startChild(
    mode,
    [
      FPM,
      "relay",
      ...common,
      "--nats",
      natsUrl,
      "--namespace",
      "bench",
      "--validate",
      mode === "validate-off" ? "off" : "on",
      ...extraArgs,
    ],
    false,
    mode === "validated-semi4"
      ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-semi-space-size=4`.trim() }
      : {},
  );
}

async function untilListening(what: string, metricsPort: number): Promise<void> {
  await waitFor(
    async () => {
      try {
        await scrape(metricsPort);
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    `${what} to listen`,
  );
}

/** Samples a process's VmRSS every 100 ms; `max()` is the largest seen. */
function rssSampler(pid: number) {
  let max = 0;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, procRssMiB(pid));
    } catch {
      // exited
    }
  }, 100);
  return { max: () => max, stop: () => clearInterval(timer) };
}

async function oneRun(mode: Mode, natsUrl: string): Promise<RunResult> {
  const zmqPort = await freePort();
  const endpoint = `tcp://127.0.0.1:${zmqPort}`;
  const metricsPort = await freePort();
  const kv = mode === "zmq-plane" ? fs.mkdtempSync(path.join(os.tmpdir(), "fpm-bench-kv-")) : "";
  const relay = startContender(mode, endpoint, natsUrl, metricsPort, [], kv);
  const pid = relay.pid!;
  const rss = rssSampler(pid);
  try {
    await untilListening(mode, metricsPort);

    // Throughput: a separate generator process blasts; count what the relay publishes.
    let drain: ManagedProcess | null = null;
    if (mode === "zmq-plane" && PYTHON) {
      drain = children.start({
        name: "zmq-drain",
        command: PYTHON,
        args: ["-c", PY_DRAIN, await recordEndpoint(kv)],
        stdout: "ignore",
        stderr: "inherit",
      });
      await sleep(300);
    }
    const gen = startGenerator(endpoint);
    await sleep(WARMUP_MS);
    const f0 = forwardedFrom(await scrape(metricsPort));
    const c0 = procCpuSeconds(pid);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const f1 = forwardedFrom(await scrape(metricsPort));
    const c1 = procCpuSeconds(pid);
    const t1 = performance.now();
    await gen.stop(5000);
    if (drain) await drain.stop(2000);
    const delivered = f1 - f0;
    const msgPerSec = delivered / ((t1 - t0) / 1000);
    const cpuUsPerMsg = ((c1 - c0) * 1e6) / Math.max(1, delivered);

    // Latency at 10,000 msg/s: this process is the engine and the subscriber.
    const lat = await latencyPhase(mode, endpoint, natsUrl, metricsPort, kv);
    return { mode, msgPerSec, cpuUsPerMsg, rssMiB: rss.max(), ...lat };
  } finally {
    rss.stop();
    await relay.stop(5000);
    if (kv) fs.rmSync(kv, { recursive: true, force: true });
  }
}

/** Where the latency phase hears the relay: NATS, or the ZMQ plane through discovery. */
async function listen(
  mode: Mode,
  natsUrl: string,
  kv: string,
  onEnvelope: (data: Uint8Array) => void,
): Promise<() => Promise<void>> {
  if (mode === "zmq-plane") {
    const quiet = new Logger({ target: "bench", level: "error" });
    const source = new ZmqEnvelopeSource({
      store: new FileDiscoveryStore({ root: kv, logger: quiet }),
      namespace: SCOPE.namespace,
      components: [],
      logger: quiet,
    });
    await source.start({ envelope: (_s, data) => onEnvelope(data), dropped: () => undefined });
    await waitFor(() => source.publishers().length > 0, 10_000, "the ZMQ publisher in discovery");
    return () => source.stop();
  }
  const nc = await connect({ servers: natsUrl });
  nc.subscribe(SUBJECT, { callback: (_e, msg) => onEnvelope(msg.data) });
  await nc.flush();
  return () => nc.close();
}

async function latencyPhase(mode: Mode, endpoint: string, natsUrl: string, metricsPort: number, kv: string) {
  const pub = new zmq.Publisher({ sendHighWaterMark: 100_000, linger: 0 });
  // The generator's socket is gone; bind the same endpoint again after it is released.
  await waitFor(
    async () => {
      try {
        await pub.bind(endpoint);
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    "rebinding the engine endpoint",
  );
  const total = Math.round((LATENCY_RATE * LATENCY_MS) / 1000);
  const warm = LATENCY_RATE; // one second of warm-up before the recorded messages
  const sentAt = new Float64Array(warm + total + 1);
  const latencies: number[] = [];
  const close = await listen(mode, natsUrl, kv, (data) => {
    const now = performance.now();
    let payload: Uint8Array = data;
    if (mode !== "bare-pipe") {
      const env = decodeEnvelope(data);
      if (!env.ok) return;
      payload = env.value.payload;
    }
    const d = decodeFpm(payload);
    if (!d.ok) return;
    const seq = d.value.counterId;
    if (seq >= warm && seq < sentAt.length && sentAt[seq] > 0) latencies.push((now - sentAt[seq]) * 1000);
  });
  // Let the relay's SUB reconnect to the new PUB (the slow joiner) before counting.
  const empty = new Uint8Array(0);
  const before = forwardedFrom(await scrape(metricsPort));
  await waitFor(
    async () => {
      await pub.send([empty, encodeSeqFrame(0), samplePayload(0)]);
      return forwardedFrom(await scrape(metricsPort)) > before;
    },
    15_000,
    "the relay to join the latency engine",
  );
  const buckets0 = bucketsOf(await scrape(metricsPort));
  let seq = 1;
  const start = performance.now();
  let sending = false;
  await new Promise<void>((resolve, reject) => {
    const tick = setInterval(async () => {
      // zeromq.js allows one send in flight: a tick that finds the previous one busy skips.
      if (sending) return;
      sending = true;
      try {
        const due = Math.min(warm + total, Math.floor(((performance.now() - start) / 1000) * LATENCY_RATE) + 1);
        while (seq < due) {
          const payload = samplePayload(seq);
          sentAt[seq] = performance.now();
          await pub.send([empty, encodeSeqFrame(seq), payload]);
          seq++;
        }
      } catch (err) {
        clearInterval(tick);
        reject(err);
      } finally {
        sending = false;
      }
      if (seq >= warm + total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await sleep(500);
  const text = await scrape(metricsPort);
  await close();
  pub.close();
  // The relay's histogram also holds the warm-up second; at 10k msg/s that is a quarter of the samples.
  return {
    e2eP50Us: percentile(latencies, 50),
    e2eP99Us: percentile(latencies, 99),
    relayP50Us: mode === "bare-pipe" ? null : histogramQuantileUs(text, 0.5, buckets0),
    relayP99Us: mode === "bare-pipe" ? null : histogramQuantileUs(text, 0.99, buckets0),
    latencyDelivered: latencies.length / total,
  };
}

function fmt(n: number | null, digits = 0): string {
  return n === null || Number.isNaN(n) ? "-" : n.toFixed(digits);
}

async function orchestrate(): Promise<void> {
  const m = machineInfo("npm run bench:relay");
  printMachine(m);
  console.log(
    `# generator: ${PYTHON ? `pyzmq (${PYTHON})` : "zeromq.js (no python with pyzmq found)"}; bare pipe batches NATS writes per ZMQ burst like the relay`,
  );
  console.log(
    `# ${RUNS} runs per contender, alternating; throughput window ${WINDOW_MS} ms after ${WARMUP_MS} ms warm-up; latency at ${LATENCY_RATE} msg/s for ${LATENCY_MS} ms; medians`,
  );
  // The machine is shared: the load average says how much of it the contenders really had.
  const loadBefore = os.loadavg();
  console.log(`# load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  const nats = await NatsServer.start();
  const results: RunResult[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const mode of MODES) {
        const res = await oneRun(mode, nats.url);
        results.push(res);
        console.log(
          `  run ${r + 1} ${mode.padEnd(12)} ${fmt(res.msgPerSec)} msg/s, ${fmt(res.cpuUsPerMsg, 2)} us CPU/msg, RSS ${fmt(res.rssMiB, 1)} MiB, e2e p50/p99 ${fmt(res.e2eP50Us)}/${fmt(res.e2eP99Us)} us, relay p50/p99 ${fmt(res.relayP50Us)}/${fmt(res.relayP99Us)} us, delivered ${(res.latencyDelivered * 100).toFixed(1)}%`,
        );
      }
    }
  } finally {
    await nats.cleanup();
  }
  const med = (mode: Mode, k: keyof RunResult) => {
    const v = results
      .filter((x) => x.mode === mode)
      .map((x) => x[k])
      .filter((x): x is number => typeof x === "number");
    return v.length ? median(v) : null;
  };
  const summary = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      {
        msgPerSec: med(mode, "msgPerSec"),
        cpuUsPerMsg: med(mode, "cpuUsPerMsg"),
        rssMiB: med(mode, "rssMiB"),
        e2eP50Us: med(mode, "e2eP50Us"),
        e2eP99Us: med(mode, "e2eP99Us"),
        relayP50Us: med(mode, "relayP50Us"),
        relayP99Us: med(mode, "relayP99Us"),
      },
    ]),
  ) as unknown as Record<Mode, Record<string, number | null>>;
  const bare = summary["bare-pipe"];
  const ratio = (mode: Mode) => (summary[mode].msgPerSec ?? 0) / (bare.msgPerSec ?? 1);
  const added = (mode: Mode, k: "e2eP50Us" | "e2eP99Us") => (summary[mode][k] ?? NaN) - (bare[k] ?? NaN);
  console.log("");
  // One core's worth of messages at the measured CPU cost: what the process could sustain
  // if the scheduler gave it a whole core, which this shared machine does not.
  const capacity = (mode: Mode) => 1e6 / (summary[mode].cpuUsPerMsg ?? Infinity);
  const capacityRatio = (mode: Mode) => capacity(mode) / capacity("bare-pipe");
  console.log(
    "| contender | msg/s measured | vs bare | CPU us/msg | msg/s per CPU core (1e6 / CPU us) | vs bare | RSS MiB | relay p50 / p99 us (ZMQ recv -> event-plane publish) | e2e p50 / p99 us | added e2e vs bare p50 / p99 us |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  const rows: string[] = [];
  for (const mode of MODES) {
    const s = summary[mode];
    const row = `| ${mode} | ${fmt(s.msgPerSec)} | ${(ratio(mode) * 100).toFixed(0)}% | ${fmt(s.cpuUsPerMsg, 2)} | ${fmt(capacity(mode))} | ${(capacityRatio(mode) * 100).toFixed(0)}% | ${fmt(s.rssMiB, 1)} | ${fmt(s.relayP50Us)} / ${fmt(s.relayP99Us)} | ${fmt(s.e2eP50Us)} / ${fmt(s.e2eP99Us)} | ${mode === "bare-pipe" ? "-" : `${fmt(added(mode, "e2eP50Us"))} / ${fmt(added(mode, "e2eP99Us"))}`} |`;
    rows.push(row);
    console.log(row);
  }
  const v = summary.validated;
  const targets = {
    validatedMsgPerSec: { value: v.msgPerSec, target: ">= 100000", met: (v.msgPerSec ?? 0) >= 100_000 },
    validatedVsBare: { value: ratio("validated"), target: ">= 0.70", met: ratio("validated") >= 0.7 },
    validatedPerCoreMsgPerSec: {
      value: capacity("validated"),
      target: ">= 100000 (CPU-bound, one core)",
      met: capacity("validated") >= 100_000,
    },
    validatedVsBarePerCore: {
      value: capacityRatio("validated"),
      target: ">= 0.70 (CPU-bound)",
      met: capacityRatio("validated") >= 0.7,
    },
    p99AddedLatencyUs: { value: v.relayP99Us, target: "<= 1000", met: (v.relayP99Us ?? Infinity) <= 1000 },
    rssMiB: { value: v.rssMiB, target: "<= 100", met: (v.rssMiB ?? Infinity) <= 100 },
    rssMiBSemi4: {
      value: summary["validated-semi4"].rssMiB,
      target: "<= 100",
      met: (summary["validated-semi4"].rssMiB ?? Infinity) <= 100,
    },
  };
  console.log("");
  for (const [k, t] of Object.entries(targets))
    console.log(
      `${k.padEnd(26)} ${fmt(t.value as number, k.startsWith("validatedVsBare") ? 2 : 0).padStart(8)}  target ${t.target}: ${t.met ? "met" : "MISSED"}`,
    );
  const loadAfter = os.loadavg();
  console.log(`# load average at end: ${loadAfter.map((x) => x.toFixed(2)).join(" ")}`);
  const out = {
    machine: m,
    loadAverage: { start: loadBefore, end: loadAfter },
    settings: {
      runs: RUNS,
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      latencyRate: LATENCY_RATE,
      latencyMs: LATENCY_MS,
    },
    summary,
    targets,
    runs: results,
    table: rows,
  };
  fs.mkdirSync(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
  fs.writeFileSync(path.join(REPO_ROOT, "bench", "results", "relay.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/relay.json`);
}

// ---------------------------------------------------------------- memory (--rss)
const RSS_RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FLOOD_MS = Number(process.env.BENCH_FLOOD_MS ?? 12_000);
const IDLE_MS = 3000;
const MIB = 1024 * 1024;

interface RssScenario {
  name: string;
  mode: Mode;
  /** Frame size the generator sends; undefined: the ~400-byte FPM payload; null: no generator (idle). */
  payloadBytes?: number | null;
  /** More `fpm relay` flags. */
  args?: string[];
}
const RSS_SCENARIOS: RssScenario[] = [
  { name: "relay idle (baseline)", mode: "validated", payloadBytes: null },
  { name: "relay, flood of 400-byte FPM", mode: "validated" },
  { name: "relay, flood of 1 MiB frames", mode: "validated", payloadBytes: MIB },
  { name: "relay semi-space 4 MiB, flood of 400-byte FPM", mode: "validated-semi4" },
  { name: "relay semi-space 4 MiB, flood of 1 MiB frames", mode: "validated-semi4", payloadBytes: MIB },
  {
    name: "relay --receive-hwm 100, flood of 1 MiB frames",
    mode: "validated",
    payloadBytes: MIB,
    args: ["--receive-hwm", "100"],
  },
  { name: "bare pipe, flood of 400-byte FPM", mode: "bare-pipe" },
];

interface RssRun {
  scenario: string;
  maxRssMiB: number;
  endRssMiB: number;
  /** Messages the contender received per second (relay) or forwarded (bare pipe). */
  msgPerSec: number;
  droppedOversize: number;
}

async function rssRun(sc: RssScenario, natsUrl: string): Promise<RssRun> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const metricsPort = await freePort();
  const proc = startContender(sc.mode, endpoint, natsUrl, metricsPort, sc.args);
  const rss = rssSampler(proc.pid!);
  try {
    await untilListening(sc.name, metricsPort);
    const gen = sc.payloadBytes === null ? null : startGenerator(endpoint, sc.payloadBytes);
    const t0 = performance.now();
    await sleep(sc.payloadBytes === null ? IDLE_MS : FLOOD_MS);
    const text = await scrape(metricsPort);
    const seconds = (performance.now() - t0) / 1000;
    if (gen) await gen.stop(5000);
    const received = sc.mode === "bare-pipe" ? forwardedFrom(text) : sumSamples(text, "fpm_relay_received_total");
    return {
      scenario: sc.name,
      maxRssMiB: rss.max(),
      endRssMiB: procRssMiB(proc.pid!),
      msgPerSec: received / seconds,
      droppedOversize: sumSamples(text, "fpm_relay_dropped_total", { reason: "oversize" }),
    };
  } finally {
    rss.stop();
    await proc.stop(5000);
  }
}

async function orchestrateRss(): Promise<void> {
  const m = machineInfo("npm run bench:relay-rss");
  printMachine(m);
  console.log(`# generator: ${PYTHON ? `pyzmq (${PYTHON})` : "zeromq.js (no python with pyzmq found)"}`);
  console.log(
    `# ${RSS_RUNS} runs, scenarios alternating, each its own process: idle ${IDLE_MS} ms, floods ${FLOOD_MS} ms; largest VmRSS sampled every 100 ms`,
  );
  const loadBefore = os.loadavg();
  console.log(`# load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  const nats = await NatsServer.start();
  const runs: RssRun[] = [];
  try {
    for (let r = 0; r < RSS_RUNS; r++) {
      for (const sc of RSS_SCENARIOS) {
        const res = await rssRun(sc, nats.url);
        runs.push(res);
        console.log(
          `  run ${r + 1} ${sc.name.padEnd(48)} max RSS ${fmt(res.maxRssMiB, 1)} MiB (end ${fmt(res.endRssMiB, 1)}), ${fmt(res.msgPerSec)} msg/s, oversize ${res.droppedOversize}`,
        );
      }
    }
  } finally {
    await nats.cleanup();
  }
  console.log("");
  console.log("| scenario | max RSS MiB, median | range (min - max) | msg/s received, median |");
  console.log("|---|---:|---:|---:|");
  const summary = RSS_SCENARIOS.map((sc) => {
    const mine = runs.filter((x) => x.scenario === sc.name);
    const rssValues = mine.map((x) => x.maxRssMiB);
    const row = {
      scenario: sc.name,
      medianMiB: median(rssValues),
      minMiB: Math.min(...rssValues),
      maxMiB: Math.max(...rssValues),
      msgPerSec: median(mine.map((x) => x.msgPerSec)),
    };
    console.log(
      `| ${row.scenario} | ${fmt(row.medianMiB, 1)} | ${fmt(row.minMiB, 1)} - ${fmt(row.maxMiB, 1)} | ${sc.payloadBytes === null ? "-" : fmt(row.msgPerSec)} |`,
    );
    return row;
  });
  const loadAfter = os.loadavg();
  console.log(`# load average at end: ${loadAfter.map((x) => x.toFixed(2)).join(" ")}`);
  const out = {
    machine: m,
    loadAverage: { start: loadBefore, end: loadAfter },
    settings: { runs: RSS_RUNS, floodMs: FLOOD_MS, idleMs: IDLE_MS, generator: PYTHON ? "pyzmq" : "zeromq.js" },
    summary,
    runs,
  };
  fs.mkdirSync(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
  fs.writeFileSync(path.join(REPO_ROOT, "bench", "results", "relay-rss.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/relay-rss.json`);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "--generator") await runGenerator(rest[0], rest[1] === undefined ? undefined : Number(rest[1]));
else if (mode === "--bare-pipe") await runBarePipe(rest[0], rest[1], Number(rest[2]));
else if (mode === "--rss") await orchestrateRss();
else await orchestrate();
