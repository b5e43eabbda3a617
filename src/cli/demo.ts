/**
 * `fpm demo` (what `npm run demo` runs): the whole pipeline on one machine, no GPU. It
 * starts nats-server on a free port, `fpm planner` (SLA mode, virtual connector),
 * `fpm simulate` in closed loop (2 workers x 2 ranks by default) and one `fpm relay` per
 * simulated worker, applies a load step, and shows the engines, the planner's estimates and
 * its decisions live; after `--duration` it prints a summary and exits 0. Every child runs
 * in its own process group and is stopped on exit, Ctrl-C or failure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { decodeEnvelope } from "../codec/envelope.js";
import { decodeFpm } from "../codec/fpm-decode.js";
import { connectNats, type EventPlaneConnection } from "../eventplane/connection.js";
import { fpmSubscriptionSubjects } from "../eventplane/subject.js";
import { untilStopped } from "../util/stop-signal.js";
import { numberOption, TIMER_SECONDS } from "../util/number-option.js";
import { canConnect, freePort, freePortBlock } from "../util/ports.js";
import { findNatsServer } from "../util/nats-server-binary.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import type { CommandContext } from "./context.js";
import { type ManagedProcess, ProcessRegistry } from "./demo-processes.js";
import {
  type DemoDecision,
  type DemoEngineState,
  type DemoState,
  type DemoSummary,
  describeDecision,
  renderLiveView,
  renderSummary,
} from "./demo-view.js";
import { EXIT } from "./exit-codes.js";

const FPM_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/fpm.js");
const NAMESPACE = "demo";
const COMPONENT = "backend";
/** Engines shown at most in the live view. */
const MAX_VIEW_ENGINES = 64;

export const NATS_INSTALL_HINT =
  "nats-server was not found. Install it, then run the demo again:\n" +
  "  Debian/Ubuntu:  sudo apt-get install nats-server      (or run `npm run setup`, which does it)\n" +
  "  elsewhere:      download a release from https://github.com/nats-io/nats-server/releases and put nats-server on PATH\n" +
  "  or point NATS_SERVER_BIN at the binary.";

interface DemoFlags {
  duration: string;
  workers: string;
  dpRanks: string;
  maxWorkers: string;
  baseRate: string;
  stepRate: string;
  stepAt?: string;
  stepUntil?: string;
  interval: string;
  ttft: string;
  itl: string;
  startupDelay: string;
  seed: string;
  headless?: boolean;
  summaryJson?: string;
  stateFile?: string;
  logDir?: string;
}

const num = (text: string, flag: string, min: number, integer = false) => numberOption(text, flag, { min, integer });

export function registerDemoCommand(program: Command, ctx: CommandContext): void {
  program
    .command("demo")
    .description(
      "Run the whole pipeline locally: nats-server, simulated engines, one relay per worker and the planner in closed loop, under a load step",
    )
    .option("--duration <s>", "seconds to run before the summary", "60")
    .option("--workers <n>", "simulated workers at start", "2")
    .option("--dp-ranks <n>", "engines (data-parallel ranks) per worker", "2")
    .option("--max-workers <n>", "most workers the planner may ask for (max_gpu_budget = this x dp ranks)", "4")
    .option("--base-rate <req/s>", "load before and after the step", "10")
    .option("--step-rate <req/s>", "load during the step", "110")
    .option("--step-at <s>", "start of the step (default 20% of --duration)")
    .option("--step-until <s>", "end of the step (default 60% of --duration)")
    .option("--interval <s>", "planner tick period (load_adjustment_interval)", "2")
    .option("--ttft <ms>", "planner TTFT SLA", "100")
    .option("--itl <ms>", "planner ITL SLA", "50")
    .option("--startup-delay <s>", "seconds before a worker the planner added takes requests", "2")
    .option("--seed <n>", "seed of the simulated load", "1")
    .option("--headless", "no live view: plain log lines (for CI and logs)")
    .option("--summary-json <file>", "also write the summary as JSON here")
    .option("--state-file <file>", "write the child process ids here (tests check none is left behind)")
    .option("--log-dir <dir>", "where each process's log goes (default: a new temp dir)")
    .addHelpText(
      "after",
      `
What it shows: engines publish FPM over ZMQ -> one fpm relay per worker -> NATS -> fpm planner
(SLA mode). The planner fits wall_time from the FPM, estimates TTFT and ITL per engine, and
publishes decisions; fpm simulate follows them, adding workers (ready after --startup-delay)
or removing them. Expect a scale-down while the load is light, scale-ups during the step,
and scale-downs after it.`,
    )
    .action(async (flags: DemoFlags) => {
      ctx.exitCode = await runDemo(flags, ctx);
    });
}

async function runDemo(flags: DemoFlags, ctx: CommandContext): Promise<number> {
  const durationS = numberOption(flags.duration, "--duration", { ...TIMER_SECONDS, min: 5, above: false });
  const workers = num(flags.workers, "--workers", 1, true);
  const dpRanks = num(flags.dpRanks, "--dp-ranks", 1, true);
  const maxWorkers = Math.max(workers, num(flags.maxWorkers, "--max-workers", 1, true));
  const baseRate = num(flags.baseRate, "--base-rate", 0);
  const stepRate = num(flags.stepRate, "--step-rate", 0);
  const stepAt = flags.stepAt !== undefined ? num(flags.stepAt, "--step-at", 0) : +(durationS * 0.2).toFixed(1);
  const stepUntil =
    flags.stepUntil !== undefined ? num(flags.stepUntil, "--step-until", stepAt) : +(durationS * 0.6).toFixed(1);
  const intervalS = num(flags.interval, "--interval", 0.5);
  const ttftMs = num(flags.ttft, "--ttft", 1);
  const itlMs = num(flags.itl, "--itl", 1);
  const startupDelayS = num(flags.startupDelay, "--startup-delay", 0);
  const seed = num(flags.seed, "--seed", 0, true);
  const live = !flags.headless && process.stdout.isTTY === true;
  const logger = new Logger({ target: "fpm::demo" });
  const say = (line: string) => {
    if (!live) ctx.stdout(line);
  };

  const natsBin = findNatsServer();
  if (!natsBin)
    throw new ConfigError(
      process.env.NATS_SERVER_BIN
        ? `NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} does not exist. ${NATS_INSTALL_HINT}`
        : NATS_INSTALL_HINT,
    );
  const logDir = flags.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "fpm-demo-"));
  fs.mkdirSync(logDir, { recursive: true });
  const procs = new ProcessRegistry();
  const stopSignal = untilStopped({ durationS });
  const writeState = () => {
    if (!flags.stateFile) return;
    // Written aside and renamed, so a reader never sees a half-written file.
    const tmp = `${flags.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ pids: procs.all().map((p) => ({ name: p.name, pid: p.pid })) }));
    fs.renameSync(tmp, flags.stateFile);
  };
  const fpm = (name: string, args: string[], onStdoutLine?: (l: string) => void): ManagedProcess => {
    const p = procs.start({
      name,
      command: process.execPath,
      args: [FPM_BIN, ...args],
      env: { DYN_LOG: process.env.DYN_LOG ?? "info", DYN_LOGGING_JSONL: "false" },
      onStdoutLine,
      logPath: path.join(logDir, `${name}.log`),
    });
    writeState();
    return p;
  };

  let conn: EventPlaneConnection | null = null;
  let renderTimer: NodeJS.Timeout | null = null;
  let scrapeTimer: NodeJS.Timeout | null = null;
  const t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  const state: DemoState = {
    elapsedS: 0,
    durationS,
    natsUrl: "",
    loadRate: baseRate,
    loadPhase: "base",
    replicas: workers,
    readyWorkers: 0,
    relays: 0,
    engines: [],
    replicaHistory: [],
    decisions: [],
    ttftSlaMs: ttftMs,
    itlSlaMs: itlMs,
    relayed: 0,
    dropped: 0,
  };
  const engines = new Map<string, DemoEngineState>();
  const changes: DemoSummary["changes"] = [];
  let scaleUps = 0;
  let scaleDowns = 0;
  let simStatus: Record<string, number> = {};
  let simSummary: Record<string, number> | null = null;
  /** Last scraped counters of every relay ever started, by relay name. */
  const relayCounts = new Map<string, { forwarded: number; lost: number; dropped: Record<string, number> }>();
  const relays = new Map<number, { proc: ManagedProcess; metricsPort: number; name: string }>();
  let relayGeneration = 0;
  let failure: string | null = null;

  const scrapeRelay = async (r: { metricsPort: number; name: string }) => {
    try {
      const res = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`, { signal: AbortSignal.timeout(1500) });
      const text = await res.text();
      const c = { forwarded: 0, lost: 0, dropped: {} as Record<string, number> };
      for (const line of text.split("\n")) {
        const m = /^(fpm_relay_(?:forwarded|lost|dropped)_total)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
        if (!m) continue;
        const v = Number(m[3]);
        if (m[1] === "fpm_relay_forwarded_total") c.forwarded += v;
        else if (m[1] === "fpm_relay_lost_total") c.lost += v;
        else {
          const reason = /reason="([^"]*)"/.exec(m[2])?.[1] ?? "unknown";
          c.dropped[reason] = (c.dropped[reason] ?? 0) + v;
        }
      }
      relayCounts.set(r.name, c);
    } catch {
      // Not up yet, or already gone: keep the last counts.
    }
  };
  const relayTotals = () => {
    let forwarded = 0;
    let lost = 0;
    const dropped: Record<string, number> = {};
    for (const c of relayCounts.values()) {
      forwarded += c.forwarded;
      lost += c.lost;
      for (const [k, v] of Object.entries(c.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    }
    return { forwarded, lost, dropped };
  };

  try {
    // 1. NATS
    const natsPort = await freePort();
    state.natsUrl = `nats://127.0.0.1:${natsPort}`;
    const nats = procs.start({
      name: "nats-server",
      command: natsBin,
      args: ["-a", "127.0.0.1", "-p", String(natsPort)],
      logPath: path.join(logDir, "nats-server.log"),
    });
    writeState();
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(natsPort))) {
      if (!nats.running) throw new Error(`nats-server exited at start:\n${nats.recentStderr()}`);
      if (Date.now() > deadline) throw new Error("nats-server did not listen within 15 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    say(`demo: nats-server on ${state.natsUrl}; logs in ${logDir}`);
    conn = await connectNats(
      { servers: [state.natsUrl], name: "fpm-demo" },
      new Logger({ target: "fpm::demo", level: "warn" }),
    );

    // 2. The demo's own view of the FPM stream (queue and wall time per engine).
    for (const subject of fpmSubscriptionSubjects({ namespace: NAMESPACE })) {
      conn.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          const env = decodeEnvelope(msg.data);
          if (!env.ok) return;
          const r = decodeFpm(env.value.payload);
          if (!r.ok) return;
          const key = `${r.value.workerId}/${r.value.dpRank}`;
          const e = engines.get(key);
          if (e) {
            e.fpm = r.value;
            e.lastAtMs = Date.now();
          } else if (engines.size < MAX_VIEW_ENGINES) {
            engines.set(key, {
              workerId: r.value.workerId,
              dpRank: r.value.dpRank,
              fpm: r.value,
              lastAtMs: Date.now(),
            });
          }
        },
      });
    }

    // 3. The planner, SLA mode, deciding every --interval seconds.
    const onDecision = (line: string) => {
      if (!line.startsWith("{")) return;
      const d = JSON.parse(line) as {
        replicas: number;
        desired: number;
        direction: string;
        reason: string;
        engines?: { workerId: string; dpRank: number; ttftMs?: number; itlMs?: number }[];
      };
      const ttfts = (d.engines ?? []).map((e) => e.ttftMs).filter((v): v is number => typeof v === "number");
      const itls = (d.engines ?? []).map((e) => e.itlMs).filter((v): v is number => typeof v === "number");
      const dd: DemoDecision = {
        atS: elapsed(),
        replicas: d.replicas,
        desired: d.desired,
        direction: d.direction,
        reason: d.reason,
        maxTtftMs: ttfts.length ? Math.max(...ttfts) : undefined,
        minTtftMs: ttfts.length ? Math.min(...ttfts) : undefined,
        maxItlMs: itls.length ? Math.max(...itls) : undefined,
      };
      for (const e of d.engines ?? []) {
        const v = engines.get(`${e.workerId}/${e.dpRank}`);
        if (v) {
          v.ttftMs = e.ttftMs;
          v.itlMs = e.itlMs;
        }
      }
      state.decisions.push(dd);
      if (state.decisions.length > 500) state.decisions.shift();
      state.replicaHistory.push({ atS: dd.atS, replicas: d.replicas });
      if (state.replicaHistory.length > 5000) state.replicaHistory.shift();
      state.replicas = d.replicas;
      if (d.direction === "up" || d.direction === "down") {
        if (d.direction === "up") scaleUps++;
        else scaleDowns++;
        changes.push({ atS: dd.atS, from: d.replicas, to: d.desired, reason: d.reason });
        say(`demo: decision ${describeDecision(dd, ttftMs, itlMs)}`);
      }
    };
    const planner = fpm(
      "planner",
      [
        "planner",
        "--nats",
        state.natsUrl,
        "--namespace",
        NAMESPACE,
        "--component",
        `${COMPONENT}:agg`,
        "--optimization-target",
        "sla",
        "--ttft",
        String(ttftMs),
        "--itl",
        String(itlMs),
        "--load-adjustment-interval",
        String(intervalS),
        "--max-num-batched-tokens",
        "2048",
        "--gpus-per-replica",
        String(dpRanks),
        "--max-gpu-budget",
        String(maxWorkers * dpRanks),
        "--min-endpoint",
        "1",
        "--stale-after-ms",
        "2500",
        "--metrics-port",
        "-1",
      ],
      onDecision,
    );

    // 4. The simulated deployment, following the planner; one relay per worker slot.
    const portBase = await freePortBlock(maxWorkers * dpRanks);
    const startRelay = async (slot: number) => {
      if (relays.has(slot)) return;
      const metricsPort = await freePort();
      const name = `relay-${slot}-${relayGeneration++}`;
      const proc = fpm(name, [
        "relay",
        "--base-port",
        String(portBase + slot * dpRanks),
        "--dp-size",
        String(dpRanks),
        "--nats",
        state.natsUrl,
        "--namespace",
        NAMESPACE,
        "--component",
        COMPONENT,
        "--metrics-port",
        String(metricsPort),
        "--metrics-host",
        "127.0.0.1",
      ]);
      relays.set(slot, { proc, metricsPort, name });
      state.relays = relays.size;
    };
    const stopRelay = async (slot: number) => {
      const r = relays.get(slot);
      if (!r) return;
      relays.delete(slot);
      state.relays = relays.size;
      // Its engines have stopped; give the last messages a moment, count them, then stop it.
      await new Promise((res) => setTimeout(res, 300));
      await scrapeRelay(r);
      await r.proc.stop();
    };
    const onSimEvent = (line: string) => {
      if (!line.startsWith("{")) return;
      const ev = JSON.parse(line) as Record<string, unknown>;
      if (ev.event === "worker_starting") void startRelay(ev.slot as number);
      else if (ev.event === "worker_stopped") void stopRelay(ev.slot as number);
      else if (ev.event === "status") simStatus = ev as Record<string, number>;
      else if (ev.event === "summary") simSummary = ev as Record<string, number>;
    };
    // Relays of the first workers start before the engines, as beside real workers, so that
    // the engines' first messages are not published into a void (ZMQ PUB drops without a subscriber).
    for (let slot = 0; slot < workers; slot++) await startRelay(slot);
    for (const r of relays.values()) {
      for (const until = Date.now() + 15_000; Date.now() < until && r.proc.running; ) {
        const up = await fetch(`http://127.0.0.1:${r.metricsPort}/health`, { signal: AbortSignal.timeout(1000) }).then(
          () => true,
          () => false,
        );
        if (up) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    const sim = fpm(
      "simulate",
      [
        "simulate",
        "--workers",
        String(workers),
        "--dp-ranks",
        String(dpRanks),
        "--port-base",
        String(portBase),
        "--arrivals",
        `step:${baseRate}:${stepRate}:${stepAt}:${stepUntil}`,
        "--poisson",
        "--seed",
        String(seed),
        "--follow-planner",
        "--nats",
        state.natsUrl,
        "--namespace",
        NAMESPACE,
        "--component",
        COMPONENT,
        "--startup-delay",
        String(startupDelayS),
        "--max-workers",
        String(maxWorkers),
        "--events",
        "--status-interval",
        "1",
        "--heartbeat-interval-ms",
        "500",
      ],
      onSimEvent,
    );
    say(
      `demo: ${workers} workers x ${dpRanks} ranks; load ${baseRate} req/s, ${stepRate} req/s from ${stepAt} s to ${stepUntil} s; planner every ${intervalS} s, TTFT SLA ${ttftMs} ms, ITL SLA ${itlMs} ms`,
    );

    // 5. Show it.
    scrapeTimer = setInterval(() => {
      for (const r of relays.values()) void scrapeRelay(r);
      for (const p of [planner, sim, nats]) {
        if (!p.running && failure === null) {
          failure = `${p.name} exited unexpectedly (code ${p.exitCode}):\n${p.recentStderr()}`;
          stopSignal.stop("failure");
        }
      }
    }, 1000);
    let lastStatusLine = 0;
    const refresh = () => {
      const now = Date.now();
      for (const [k, e] of engines) if (now - e.lastAtMs > 3000) engines.delete(k);
      const t = elapsed();
      state.elapsedS = t;
      const inStep = t >= stepAt && t < stepUntil;
      state.loadRate = inStep ? stepRate : baseRate;
      state.loadPhase = inStep ? "step" : t < stepAt ? "before the step" : "after the step";
      state.readyWorkers = simStatus.ready_workers ?? 0;
      state.engines = [...engines.values()];
      const rt = relayTotals();
      state.relayed = rt.forwarded;
      state.dropped = Object.values(rt.dropped).reduce((a, b) => a + b, 0);
      if (live) process.stdout.write(`\x1b[H\x1b[2J${renderLiveView(state)}\n`);
      else if (now - lastStatusLine >= 5000) {
        lastStatusLine = now;
        const queued = state.engines.reduce((s, e) => s + e.fpm.queuedRequests.numPrefillRequests, 0);
        say(
          `demo: ${t.toFixed(0)} s load ${state.loadRate} req/s, replicas ${state.replicas}, ready workers ${state.readyWorkers}, queued requests ${queued}, relayed ${state.relayed}`,
        );
      }
    };
    renderTimer = setInterval(refresh, live ? 500 : 250);
    await stopSignal.done;
    // From here on children exit because we stop them: no more liveness checks.
    if (renderTimer) clearInterval(renderTimer);
    if (scrapeTimer) clearInterval(scrapeTimer);
    renderTimer = null;
    scrapeTimer = null;

    // 6. Stop in order: the simulator (it prints its totals), relays (counted first), planner, NATS.
    await sim.stop();
    await Promise.all([...relays.values()].map((r) => scrapeRelay(r)));
    await procs.stopAll((p) => p.name === "nats-server");
    await conn.close();
    conn = null;
    await procs.stopAll();
  } catch (err) {
    failure = failure ?? (err instanceof Error ? err.message : String(err));
  } finally {
    if (renderTimer) clearInterval(renderTimer);
    if (scrapeTimer) clearInterval(scrapeTimer);
    stopSignal.stop("cleanup");
    await conn?.close().catch(() => undefined);
    await procs.stopAll();
    procs.dispose();
  }

  const rt = relayTotals();
  const fin = (simSummary ?? simStatus) as Record<string, number>;
  const history = state.replicaHistory;
  const summary: DemoSummary = {
    durationS: +elapsed().toFixed(1),
    scaleUps,
    scaleDowns,
    changes,
    replicaHistory: history,
    decisions: state.decisions.length,
    enginesPublished: fin.published ?? 0,
    enginesDropped: fin.dropped ?? 0,
    relayed: rt.forwarded,
    relayDropped: rt.dropped,
    relayLost: rt.lost,
    requests: { arrived: fin.arrivals ?? 0, finished: fin.finished ?? 0, rejected: fin.rejected ?? 0 },
    maxReplicas: history.length ? Math.max(...history.map((h) => h.replicas)) : workers,
    minReplicas: history.length ? Math.min(...history.map((h) => h.replicas)) : workers,
    logDir,
  };
  if (live) process.stdout.write("\n");
  ctx.stdout(renderSummary(summary));
  if (flags.summaryJson) fs.writeFileSync(flags.summaryJson, JSON.stringify(summary, null, 2));
  if (failure) {
    logger.error("the demo failed", { detail: failure });
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}
