/**
 * The orchestrator of `fpm demo`: starts nats-server, the planner, one relay per simulated
 * worker and the simulator (demo-children.ts), turns what it observes into demo events -
 * engines from the library's FpmEventSubscriber, the children's structured output through
 * demo-input.ts, the relays' /metrics - and applies them to the demo state (demo-state.ts),
 * which the view renders. Every child runs in its own process group and is stopped on
 * exit, Ctrl-C or failure.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connectNats, type EventPlaneConnection } from "../eventplane/connection.js";
import { cloneFpm } from "../schema/forward-pass-metrics.js";
import { FpmEventSubscriber } from "../subscriber/fpm-event-subscriber.js";
import { type ManagedProcess, ProcessRegistry } from "../util/child-process.js";
import { Logger } from "../util/log.js";
import { canConnect, freePort, freePortBlock } from "../util/ports.js";
import { scrapeMetrics } from "../util/prometheus-text.js";
import { type StopSignal, untilStopped } from "../util/stop-signal.js";
import { natsServerArgs, plannerArgs, relayArgs, simulateArgs, DEMO_NAMESPACE } from "./demo-children.js";
import { plannerLineEvent, relayCountsFrom, simulatorLineEvent } from "./demo-input.js";
import {
  applyDemoEvent,
  type DemoEvent,
  type DemoSettings,
  type DemoState,
  type DemoSummary,
  demoDecision,
  initialDemoState,
  isScaling,
  statusLine,
  summarizeDemo,
} from "./demo-state.js";
import { describeDecision, renderLiveView } from "./demo-view.js";

const FPM_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/fpm.js");
/** Engines shown at most in the live view. */
const MAX_VIEW_ENGINES = 64;
/** An engine silent this long leaves the view. */
const ENGINE_GONE_MS = 3000;
const HEADLESS_STATUS_EVERY_MS = 5000;

export interface DemoRunOptions {
  natsBin: string;
  logDir: string;
  /** Where the child process ids go (tests check none is left behind). */
  stateFile?: string;
  /** Redraw a live terminal view; otherwise print plain lines. */
  live: boolean;
  /** Where plain lines and the summary go. */
  print: (line: string) => void;
}

interface RunningRelay {
  proc: ManagedProcess;
  metricsPort: number;
  name: string;
}

export class DemoRun {
  private state: DemoState;
  private readonly procs = new ProcessRegistry();
  private readonly stopSignal: StopSignal;
  private readonly t0 = Date.now();
  private conn: EventPlaneConnection | null = null;
  private subscriber: FpmEventSubscriber | null = null;
  private readonly relays = new Map<number, RunningRelay>();
  private relayGeneration = 0;
  private portBase = 0;
  private timers: NodeJS.Timeout[] = [];
  private lastStatusLineMs = 0;

  constructor(
    settings: DemoSettings,
    private readonly opts: DemoRunOptions,
  ) {
    this.state = initialDemoState(settings);
    this.stopSignal = untilStopped({ durationS: settings.durationS });
  }

  get current(): DemoState {
    return this.state;
  }

  private get settings(): DemoSettings {
    return this.state.settings;
  }

  private elapsedS(): number {
    return (Date.now() - this.t0) / 1000;
  }

  private dispatch(event: DemoEvent): void {
    this.state = applyDemoEvent(this.state, event);
  }

  private say(line: string): void {
    if (!this.opts.live) this.opts.print(line);
  }

  /** Runs until --duration, a signal or a failure; everything it started is stopped when it resolves. */
  async run(): Promise<void> {
    try {
      await this.startPipeline();
      this.watch();
      await this.stopSignal.done;
      this.stopWatching();
      await this.stopInOrder();
    } catch (err) {
      this.dispatch({ type: "failed", detail: err instanceof Error ? err.message : String(err) });
    } finally {
      this.stopWatching();
      this.stopSignal.stop("cleanup");
      await this.conn?.close().catch(() => undefined);
      await this.procs.stopAll();
      this.procs.dispose();
      this.dispatch({ type: "clock", atS: this.elapsedS() });
    }
  }

  summary(): DemoSummary {
    return summarizeDemo(this.state, this.opts.logDir);
  }

  private async startPipeline(): Promise<void> {
    await this.startNats();
    this.followEngines(this.conn!);
    const s = this.settings;
    this.fpm("planner", plannerArgs(s, this.state.natsUrl), (line) => this.onPlannerLine(line));
    this.portBase = await freePortBlock(s.maxWorkers * s.dpRanks);
    // Relays of the first workers start before the engines, as beside real workers, so that
    // the engines' first messages are not published into a void (ZMQ PUB drops without a subscriber).
    for (let slot = 0; slot < s.workers; slot++) await this.startRelay(slot);
    for (const r of this.relays.values()) await this.waitHealthy(r);
    this.fpm("simulate", simulateArgs(s, this.state.natsUrl, this.portBase), (line) => this.onSimulatorLine(line));
    this.say(
      `demo: ${s.workers} workers x ${s.dpRanks} ranks; load ${s.baseRate} req/s, ${s.stepRate} req/s from ${s.stepAt} s to ${s.stepUntil} s; planner every ${s.intervalS} s, TTFT SLA ${s.ttftMs} ms, ITL SLA ${s.itlMs} ms`,
    );
  }

  private async startNats(): Promise<void> {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const nats = this.start({
      name: "nats-server",
      command: this.opts.natsBin,
      args: natsServerArgs(port),
      logPath: path.join(this.opts.logDir, "nats-server.log"),
    });
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(port))) {
      if (!nats.running) throw new Error(`nats-server exited at start:\n${nats.recentStderr()}`);
      if (Date.now() > deadline) throw new Error("nats-server did not listen within 15 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    this.dispatch({ type: "nats_ready", url });
    this.say(`demo: nats-server on ${url}; logs in ${this.opts.logDir}`);
    this.conn = await connectNats(
      { servers: [url], name: "fpm-demo" },
      new Logger({ target: "fpm.demo", level: "warn" }),
    );
  }

  /** The engines' latest FPM, through the library's subscriber (checks, de-duplication, expiry). */
  private followEngines(conn: EventPlaneConnection): void {
    this.subscriber = new FpmEventSubscriber({
      connection: conn.nc,
      namespace: DEMO_NAMESPACE,
      staleAfterMs: ENGINE_GONE_MS,
      expiryCheckIntervalMs: 250,
      maxEngines: MAX_VIEW_ENGINES,
      logger: new Logger({ target: "fpm.demo.subscriber", level: "error" }),
    }).start();
  }

  private start(opts: Parameters<ProcessRegistry["start"]>[0]): ManagedProcess {
    const p = this.procs.start({ ...opts, ownProcessGroup: true });
    this.writeStateFile();
    return p;
  }

  private writeStateFile(): void {
    if (!this.opts.stateFile) return;
    // Written aside and renamed, so a reader never sees a half-written file.
    const tmp = `${this.opts.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ pids: this.procs.all().map((c) => ({ name: c.name, pid: c.pid })) }));
    fs.renameSync(tmp, this.opts.stateFile);
  }

  private fpm(name: string, args: string[], onStdoutLine?: (line: string) => void): ManagedProcess {
    return this.start({
      name,
      command: process.execPath,
      args: [FPM_BIN, ...args],
      env: { DYN_LOG: process.env.DYN_LOG ?? "info", DYN_LOGGING_JSONL: "false" },
      onStdoutLine,
      logPath: path.join(this.opts.logDir, `${name}.log`),
    });
  }

  private onPlannerLine(line: string): void {
    const event = plannerLineEvent(line, this.elapsedS());
    if (!event) return;
    this.dispatch(event);
    const d = demoDecision(event.atS, event.record);
    if (isScaling(d)) this.say(`demo: decision ${describeDecision(d, this.settings.ttftMs, this.settings.itlMs)}`);
  }

  private onSimulatorLine(line: string): void {
    const event = simulatorLineEvent(line);
    if (!event) return;
    this.dispatch(event);
    const e = event.event;
    if (e.event === "worker_starting") void this.startRelay(e.slot);
    else if (e.event === "worker_stopped") void this.stopRelay(e.slot);
  }

  private async startRelay(slot: number): Promise<void> {
    if (this.relays.has(slot)) return;
    const metricsPort = await freePort();
    const name = `relay-${slot}-${this.relayGeneration++}`;
    const proc = this.fpm(name, relayArgs(this.settings, this.state.natsUrl, this.portBase, slot, metricsPort));
    this.relays.set(slot, { proc, metricsPort, name });
    this.dispatch({ type: "relay_started", relay: name });
  }

  private async stopRelay(slot: number): Promise<void> {
    const r = this.relays.get(slot);
    if (!r) return;
    this.relays.delete(slot);
    this.dispatch({ type: "relay_stopped", relay: r.name });
    // Its engines have stopped; give the last messages a moment, count them, then stop it.
    await new Promise((res) => setTimeout(res, 300));
    await this.scrapeRelay(r);
    await r.proc.stop();
  }

  private async waitHealthy(r: RunningRelay): Promise<void> {
    for (const until = Date.now() + 15_000; Date.now() < until && r.proc.running; ) {
      const up = await fetch(`http://127.0.0.1:${r.metricsPort}/health`, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      );
      if (up) return;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  private async scrapeRelay(r: RunningRelay): Promise<void> {
    try {
      const samples = await scrapeMetrics(`http://127.0.0.1:${r.metricsPort}/metrics`, 1500);
      this.dispatch({ type: "relay_counts", relay: r.name, counts: relayCountsFrom(samples) });
    } catch {
      // Not up yet, or already gone: keep the last counts.
    }
  }

  /** Every second: the relays' counters and whether the long-lived children still run; the view redrawn. */
  private watch(): void {
    this.timers.push(
      setInterval(() => {
        for (const r of this.relays.values()) void this.scrapeRelay(r);
        this.checkChildren();
      }, 1000),
      setInterval(() => this.refresh(), this.opts.live ? 500 : 250),
    );
  }

  private stopWatching(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private checkChildren(): void {
    for (const p of this.procs.all()) {
      if (!["planner", "simulate", "nats-server"].includes(p.name) || p.running || this.state.failure !== null)
        continue;
      this.dispatch({
        type: "failed",
        detail: `${p.name} exited unexpectedly (code ${p.exitCode}):\n${p.recentStderr()}`,
      });
      this.stopSignal.stop("failure");
    }
  }

  private refresh(): void {
    this.dispatch({ type: "clock", atS: this.elapsedS() });
    // Snapshot entries are updated in place as messages arrive: the state keeps copies.
    const engines = (this.subscriber?.snapshot() ?? []).map((t) => ({
      workerId: t.workerId,
      dpRank: t.dpRank,
      fpm: cloneFpm(t.fpm),
    }));
    this.dispatch({ type: "engines", engines });
    if (this.opts.live) process.stdout.write(`\x1b[H\x1b[2J${renderLiveView(this.state)}\n`);
    else if (Date.now() - this.lastStatusLineMs >= HEADLESS_STATUS_EVERY_MS) {
      this.lastStatusLineMs = Date.now();
      this.say(statusLine(this.state));
    }
  }

  /** The simulator first (it prints its totals), relays counted, then the planner, NATS last. */
  private async stopInOrder(): Promise<void> {
    await this.procs
      .all()
      .find((p) => p.name === "simulate")
      ?.stop();
    await Promise.all([...this.relays.values()].map((r) => this.scrapeRelay(r)));
    await this.procs.stopAll((p) => p.name === "nats-server");
    await this.subscriber?.stop();
    await this.conn?.close();
    this.conn = null;
    await this.procs.stopAll();
  }
}
