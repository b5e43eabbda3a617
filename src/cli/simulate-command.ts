/**
 * `fpm simulate`: simulated engines (no GPU) that publish real FPM over ZMQ, as vLLM or
 * SGLang workers would, driven by a request load. With `--follow-planner` it is also the
 * planner's actuator: it adds and removes workers as the planner's decisions ask.
 */
import type { Command } from "commander";
import { type StopSignal, untilStopped } from "../util/stop-signal.js";
import { numberOption, TIMER_SECONDS } from "../util/number-option.js";
import { checkFpmPort, checkZmqEndpoint, DEFAULT_FPM_BASE_PORT } from "../engine/endpoints.js";
import {
  addNatsCliOptions,
  connectNats,
  type EventPlaneConnection,
  type NatsCliFlags,
  natsOptionsFromFlags,
} from "../eventplane/connection.js";
import {
  DEFAULT_COMPONENT,
  DEFAULT_NAMESPACE,
  namespaceFrom,
  plannerDecisionsSubject,
  plannerReplicasSubject,
} from "../eventplane/subject.js";
import { ARRIVALS_HELP, parseArrivalSpec, parseTokenRange } from "../sim/arrival-spec.js";
import { DEFAULT_COST_MODEL } from "../sim/cost-model.js";
import { DEFAULT_WORKER_ID_PREFIX, SimulatedDeployment, type WorkerEventKind } from "../sim/deployment.js";
import { DEFAULT_ENGINE_SCHEDULER } from "../sim/engine-scheduler.js";
import { SimulatedEngineFleet } from "../sim/engine-fleet.js";
import { PlannerFollower } from "../sim/planner-follower.js";
import { RealtimeSimulation } from "../sim/realtime-runner.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import type { SimulateEventBody, SimulateStatus, SimulateWorkerEvent } from "./simulate-events.js";

/** The `--events` name of each worker event of the deployment. */
const WORKER_EVENTS: Record<WorkerEventKind, SimulateWorkerEvent["event"]> = {
  starting: "worker_starting",
  ready: "worker_ready",
  draining: "worker_draining",
  stopped: "worker_stopped",
};

interface SimulateFlags extends NatsCliFlags {
  workers: string;
  dpRanks: string;
  portBase?: string;
  ipcPrefix?: string;
  arrivals: string;
  poisson?: boolean;
  inputTokens: string;
  outputTokens: string;
  maxNumBatchedTokens: string;
  maxNumSeqs: string;
  kvCapacityTokens: string;
  chunkedPrefill: boolean;
  costA: string;
  costB: string;
  costC: string;
  costD: string;
  noise: string;
  seed: string;
  speed: string;
  duration?: string;
  heartbeatIntervalMs?: string;
  followPlanner?: boolean;
  namespace?: string;
  component: string;
  decisionsSubject?: string;
  replicasSubject?: string;
  startupDelay: string;
  maxWorkers: string;
  workerIdPrefix: string;
  events?: boolean;
  sendLog?: string;
  statusInterval: string;
}

const int = (text: string, flag: string, min: number, max?: number) =>
  numberOption(text, flag, { integer: true, min, max });
const real = (text: string, flag: string, min: number, above = false) => numberOption(text, flag, { min, above });

export function registerSimulateCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("simulate")
    .description(
      "Run simulated engines (workers x dp ranks) that publish real FPM over ZMQ, driven by a request load; optionally follow the planner's decisions",
    );
  addEngineOptions(cmd);
  addLoadOptions(cmd);
  addFollowOptions(cmd);
  cmd
    .option("--events", "print worker events and a status line every --status-interval as JSON lines on stdout")
    .option(
      "--send-log <file>",
      "append `worker_id dp_rank counter_id send_time_ms` per message (for latency benchmarks)",
    )
    .option("--status-interval <s>", "seconds between status lines", "5");
  addNatsCliOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  fpm simulate --workers 2 --dp-ranks 2 --arrivals poisson:8
  fpm simulate --arrivals step:4:30:20:80 --speed 2 --port-base 21000
  fpm simulate --ipc-prefix /tmp/fpm-sim --arrivals file:arrivals.ndjson
  fpm simulate --follow-planner --nats nats://127.0.0.1:4222 --startup-delay 5

Arrivals file (NDJSON): {"t": 0.25, "input_tokens": 512, "output_tokens": 128, "cached_tokens": 0}
A malformed line is reported with its line number and skipped.`,
  );
  cmd.action(async (flags: SimulateFlags) => {
    ctx.exitCode = await runSimulate(flags, ctx);
  });
}

/** The simulated engines: how many, where they bind, their scheduler and cost model. */
function addEngineOptions(cmd: Command): void {
  const sched = DEFAULT_ENGINE_SCHEDULER;
  cmd
    .option("--workers <n>", "workers at start", "2")
    .option("--dp-ranks <n>", "data-parallel ranks (engines) per worker", "2")
    .option(
      "--port-base <port>",
      `tcp base port: rank r of worker slot s binds base + s*dp_ranks + r (env DYN_FORWARDPASS_METRIC_PORT; default ${DEFAULT_FPM_BASE_PORT})`,
    )
    .option("--ipc-prefix <path>", "bind ipc://{path}-{slot}.{rank} (SGLang style) instead of tcp")
    .option(
      "--max-num-batched-tokens <n>",
      "token budget per iteration (vLLM max_num_batched_tokens)",
      String(sched.maxNumBatchedTokens),
    )
    .option("--max-num-seqs <n>", "most running requests per engine (vLLM max_num_seqs)", String(sched.maxNumSeqs))
    .option(
      "--kv-capacity-tokens <n>",
      "KV cache capacity per engine, tokens; a full cache preempts",
      String(sched.kvCapacityTokens),
    )
    .option("--no-chunked-prefill", "schedule a prompt only when it fits one iteration's budget")
    .option("--cost-a <s>", "cost model: fixed seconds per iteration", String(DEFAULT_COST_MODEL.a))
    .option("--cost-b <s>", "cost model: seconds per prefill token", String(DEFAULT_COST_MODEL.b))
    .option("--cost-c <s>", "cost model: seconds per decode KV token", String(DEFAULT_COST_MODEL.c))
    .option("--cost-d <s>", "cost model: seconds per decoding request", String(DEFAULT_COST_MODEL.d))
    .option(
      "--noise <fraction>",
      "cost model: relative standard deviation of the wall time",
      String(DEFAULT_COST_MODEL.noise),
    )
    .option(
      "--heartbeat-interval-ms <ms>",
      "idle heartbeat interval (env DYN_FPM_HEARTBEAT_INTERVAL_MS; default 1000)",
    );
}

/** The request load and the clock. */
function addLoadOptions(cmd: Command): void {
  cmd
    .option(
      "--arrivals <spec>",
      `request load for the whole deployment, req/s and simulated seconds: ${ARRIVALS_HELP}`,
      "poisson:8",
    )
    .option("--poisson", "Poisson arrivals for step and ramp shapes (default: evenly spaced)")
    .option("--input-tokens <min[:max]>", "prompt length range, tokens", "256:1024")
    .option("--output-tokens <min[:max]>", "output length range, tokens", "32:128")
    .option("--seed <n>", "seed of arrivals, lengths and noise", "1")
    .option("--speed <factor>", "simulated seconds per wall second", "1")
    .option("--duration <s>", "stop after this many wall seconds (default: run until SIGINT/SIGTERM)");
}

/** The closed loop: following the planner's decisions as its actuator. */
function addFollowOptions(cmd: Command): void {
  cmd
    .option("--follow-planner", "closed loop: add/remove workers as the planner's decisions on NATS ask")
    .option(
      "--namespace <ns>",
      `namespace of the planner's decisions (env DYN_NAMESPACE; default ${DEFAULT_NAMESPACE})`,
    )
    .option("--component <name>", "component whose decisions are followed", DEFAULT_COMPONENT)
    .option("--decisions-subject <subject>", "subject of the decisions (default namespace.{ns}.planner.decisions)")
    .option(
      "--replicas-subject <subject>",
      'where the replica counts are reported as the planner\'s virtual connector reads them (default namespace.{ns}.planner.replicas; "" for none)',
    )
    .option("--startup-delay <s>", "simulated seconds before an added worker takes requests and publishes", "5")
    .option("--max-workers <n>", "most workers the closed loop may run", "8")
    .option("--worker-id-prefix <text>", "worker ids are this prefix and a counter", DEFAULT_WORKER_ID_PREFIX);
}

/** The numbers of a run, checked: a bad one is a ConfigError naming its flag. */
function simulateSettings(flags: SimulateFlags) {
  const workers = int(flags.workers, "--workers", 1, 1024);
  const envPort = process.env.DYN_FORWARDPASS_METRIC_PORT;
  const portBase =
    flags.portBase !== undefined
      ? int(flags.portBase, "--port-base", 1024, 49151)
      : envPort
        ? int(envPort, "DYN_FORWARDPASS_METRIC_PORT", 1024, 49151)
        : DEFAULT_FPM_BASE_PORT;
  const [inputMin, inputMax] = parseTokenRange(flags.inputTokens, "--input-tokens");
  const [outputMin, outputMax] = parseTokenRange(flags.outputTokens, "--output-tokens");
  return {
    workers,
    dpRanks: int(flags.dpRanks, "--dp-ranks", 1, 1024),
    maxWorkers: Math.max(workers, int(flags.maxWorkers, "--max-workers", 1, 1024)),
    portBase,
    lengths: { inputMin, inputMax, outputMin, outputMax },
    seed: int(flags.seed, "--seed", 0),
    speed: real(flags.speed, "--speed", 0, true),
    durationS: flags.duration !== undefined ? numberOption(flags.duration, "--duration", TIMER_SECONDS) : undefined,
    startupDelayS: real(flags.startupDelay, "--startup-delay", 0),
    statusEveryS: real(flags.statusInterval, "--status-interval", 0, true),
    heartbeatIntervalMs:
      flags.heartbeatIntervalMs !== undefined
        ? int(flags.heartbeatIntervalMs, "--heartbeat-interval-ms", 1, 300_000)
        : undefined,
    scheduler: {
      maxNumBatchedTokens: int(flags.maxNumBatchedTokens, "--max-num-batched-tokens", 1),
      maxNumSeqs: int(flags.maxNumSeqs, "--max-num-seqs", 1),
      kvCapacityTokens: int(flags.kvCapacityTokens, "--kv-capacity-tokens", 1),
      chunkedPrefill: flags.chunkedPrefill,
    },
    cost: {
      a: real(flags.costA, "--cost-a", 0),
      b: real(flags.costB, "--cost-b", 0),
      c: real(flags.costC, "--cost-c", 0),
      d: real(flags.costD, "--cost-d", 0),
      noise: real(flags.noise, "--noise", 0),
    },
  };
}

type SimulateSettings = ReturnType<typeof simulateSettings>;

/** The engines' publishers; every endpoint the run may bind is checked now, so a bad port or ipc path fails at start. */
function openFleet(flags: SimulateFlags, s: SimulateSettings, logger: Logger): SimulatedEngineFleet {
  const fleet = new SimulatedEngineFleet({
    dpRanks: s.dpRanks,
    portBase: s.portBase,
    ipcPrefix: flags.ipcPrefix,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    sendLogPath: flags.sendLog,
    logger,
  });
  for (let slot = 0; slot < s.maxWorkers; slot++)
    for (const e of fleet.endpoints(slot)) checkZmqEndpoint(e, flags.ipcPrefix ? "--ipc-prefix" : "--port-base");
  // vLLM's rule for DYN_FORWARDPASS_METRIC_PORT applies to every base + rank of every worker slot.
  if (!flags.ipcPrefix)
    checkFpmPort(
      s.portBase + s.maxWorkers * s.dpRanks - 1,
      `--port-base ${s.portBase} with ${s.maxWorkers} worker slots (--max-workers) x ${s.dpRanks} ranks: the last`,
    );
  return fleet;
}

/** What the deployment and its engines have done so far, as the `--events` status line. */
function simulateStatus(deployment: SimulatedDeployment, fleet: SimulatedEngineFleet): SimulateStatus {
  const t = deployment.totals;
  const f = fleet.stats();
  const views = deployment.engineViews();
  return {
    simulated_s: +deployment.nowS.toFixed(3),
    workers: deployment.workerCount(),
    ready_workers: deployment.readyWorkerCount(),
    arrivals: t.arrivals,
    finished: t.finished,
    rejected: t.rejected,
    preemptions: t.preemptions,
    forward_passes: t.forwardPasses,
    published: f.published,
    dropped: f.dropped,
    waiting: views.reduce((n, v) => n + v.waiting, 0),
    running: views.reduce((n, v) => n + v.running, 0),
  };
}

/** `--follow-planner`: connects NATS and follows the decisions for `--component`. */
async function followPlanner(
  flags: SimulateFlags,
  startupDelayS: number,
  deployment: SimulatedDeployment,
  emit: (obj: SimulateEventBody) => void,
  logger: Logger,
): Promise<{ conn: EventPlaneConnection; follower: PlannerFollower }> {
  const conn = await connectNats(natsOptionsFromFlags(flags, process.env, "fpm-simulate"), logger);
  const namespace = namespaceFrom(flags.namespace);
  const subject = flags.decisionsSubject ?? plannerDecisionsSubject(namespace);
  const reportSubject = flags.replicasSubject ?? plannerReplicasSubject(namespace);
  const follower = new PlannerFollower({
    nc: conn.nc,
    deployment,
    subject,
    component: flags.component,
    reportSubject,
    logger,
    onScale: (from, to, reason) => emit({ event: "scale", from, to, reason }),
  });
  follower.start();
  // The subscription reaches the server before the line says so (a decision sent after it is seen).
  await conn.flush();
  logger.info("following planner decisions", {
    subject,
    replicas_subject: reportSubject,
    component: flags.component,
    startup_delay_s: startupDelayS,
  });
  return { conn, follower };
}

/** The request load of --arrivals; malformed lines of a file are skipped, the first 20 reported. */
function readArrivals(flags: SimulateFlags, s: SimulateSettings, logger: Logger) {
  const arrivals = parseArrivalSpec(flags.arrivals, { lengths: s.lengths, seed: s.seed, poisson: !!flags.poisson });
  for (const p of arrivals.problems.slice(0, 20))
    logger.warn("skipped a malformed arrivals line", { line: p.line, reason: p.reason });
  if (arrivals.problems.length > 20)
    logger.warn("more malformed arrivals lines skipped", { count: arrivals.problems.length - 20 });
  return arrivals;
}

async function runSimulate(flags: SimulateFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm.simulate" });
  const s = simulateSettings(flags);
  const arrivals = readArrivals(flags, s, logger);
  const fleet = openFleet(flags, s, logger);
  const emit = (obj: SimulateEventBody) => {
    if (flags.events) ctx.stdout(JSON.stringify({ time: new Date().toISOString(), ...obj }));
  };
  const pendingBinds: Promise<void>[] = [];
  // Declared before the deployment: its constructor already reports the first workers' events.
  let follower: PlannerFollower | null = null;
  let deployment: SimulatedDeployment;
  try {
    deployment = new SimulatedDeployment({
      arrivals: arrivals.source,
      workers: s.workers,
      dpRanks: s.dpRanks,
      seed: s.seed,
      startupDelayS: s.startupDelayS,
      maxWorkers: s.maxWorkers,
      workerIdPrefix: flags.workerIdPrefix,
      scheduler: s.scheduler,
      cost: s.cost,
      onForwardPass: (ev) => fleet.publish(ev),
      onWorkerEvent: (ev) => {
        const endpoints = fleet.endpoints(ev.slot);
        const simulated_s = +ev.atS.toFixed(3);
        emit({ event: WORKER_EVENTS[ev.kind], worker_id: ev.workerId, slot: ev.slot, simulated_s, endpoints });
        pendingBinds.push(fleet.onWorkerEvent(ev));
        follower?.report();
      },
    });
  } catch (err) {
    if (err instanceof RangeError) throw new ConfigError(err.message);
    throw err;
  }
  await Promise.all(pendingBinds);
  // Listening before the start-up lines: a SIGTERM right after them must stop it cleanly.
  const stopped = untilStopped({ durationS: s.durationS });
  let loop: SimulateRun["loop"] = null;
  try {
    if (flags.followPlanner) loop = await followPlanner(flags, s.startupDelayS, deployment, emit, logger);
  } catch (err) {
    stopped.stop("start failed");
    throw err;
  }
  follower = loop?.follower ?? null;
  return simulateUntilStopped({
    flags,
    s,
    arrivalsDescription: arrivals.description,
    deployment,
    fleet,
    emit,
    logger,
    loop,
    stopped,
  });
}

/** A started run: its settings, its parts, and the closed loop when it follows the planner. */
interface SimulateRun {
  flags: SimulateFlags;
  s: SimulateSettings;
  arrivalsDescription: string;
  deployment: SimulatedDeployment;
  fleet: SimulatedEngineFleet;
  emit: (obj: SimulateEventBody) => void;
  logger: Logger;
  loop: { conn: EventPlaneConnection; follower: PlannerFollower } | null;
  /** Listening since before the start-up lines. */
  stopped: StopSignal;
}

/** Runs the simulation on the wall clock until --duration or a signal; the summary on the way out. */
async function simulateUntilStopped(run: SimulateRun): Promise<number> {
  const { flags, s, deployment, fleet, emit, logger, loop, stopped } = run;
  logger.info("simulating", {
    workers: s.workers,
    dp_ranks: s.dpRanks,
    arrivals: run.arrivalsDescription,
    speed: s.speed,
    transport: flags.ipcPrefix ? `ipc://${flags.ipcPrefix}-{slot}.{rank}` : `tcp://127.0.0.1:${s.portBase}+`,
  });
  let nextStatusS = s.statusEveryS * s.speed;
  const runner = new RealtimeSimulation({
    deployment,
    speed: s.speed,
    onTick: (simS) => {
      if (simS < nextStatusS) return;
      nextStatusS += s.statusEveryS * s.speed;
      const status = simulateStatus(deployment, fleet);
      emit({ event: "status", ...status });
      logger.debug("status", { ...status });
    },
  });
  runner.start();
  logger.info("stopping", { why: await stopped.done });
  runner.stop();
  loop?.follower.stop();
  const final = simulateStatus(deployment, fleet);
  emit({ ...final, event: "summary" });
  await fleet.close();
  await loop?.conn.close();
  logger.info("stopped", { ...final });
  return EXIT.OK;
}
