/**
 * `fpm simulate`: simulated engines (no GPU) that publish real FPM over ZMQ, as vLLM or
 * SGLang workers would, driven by a request load. With `--follow-planner` it is also the
 * planner's actuator: it adds and removes workers as the planner's decisions ask.
 */
import type { Command } from "commander";
import { untilStopped } from "../util/stop-signal.js";
import { numberOption, TIMER_SECONDS } from "../util/number-option.js";
import { checkFpmPort, checkZmqEndpoint, DEFAULT_FPM_BASE_PORT } from "../engine/endpoints.js";
import {
  addNatsCliOptions,
  connectNats,
  type EventPlaneConnection,
  type NatsCliFlags,
  natsOptionsFromFlags,
} from "../eventplane/connection.js";
import { DEFAULT_COMPONENT, DEFAULT_NAMESPACE } from "../eventplane/subject.js";
import { ARRIVALS_HELP, parseArrivalSpec, parseTokenRange } from "../sim/arrival-spec.js";
import { SimulatedDeployment, type WorkerEventKind } from "../sim/deployment.js";
import { SimulatedEngineFleet } from "../sim/engine-fleet.js";
import { PlannerFollower, plannerDecisionsSubject, plannerReplicasSubject } from "../sim/planner-follower.js";
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
    )
    .option("--workers <n>", "workers at start", "2")
    .option("--dp-ranks <n>", "data-parallel ranks (engines) per worker", "2")
    .option(
      "--port-base <port>",
      `tcp base port: rank r of worker slot s binds base + s*dp_ranks + r (env DYN_FORWARDPASS_METRIC_PORT; default ${DEFAULT_FPM_BASE_PORT})`,
    )
    .option("--ipc-prefix <path>", "bind ipc://{path}-{slot}.{rank} (SGLang style) instead of tcp")
    .option(
      "--arrivals <spec>",
      `request load for the whole deployment, req/s and simulated seconds: ${ARRIVALS_HELP}`,
      "poisson:8",
    )
    .option("--poisson", "Poisson arrivals for step and ramp shapes (default: evenly spaced)")
    .option("--input-tokens <min[:max]>", "prompt length range, tokens", "256:1024")
    .option("--output-tokens <min[:max]>", "output length range, tokens", "32:128")
    .option("--max-num-batched-tokens <n>", "token budget per iteration (vLLM max_num_batched_tokens)", "2048")
    .option("--max-num-seqs <n>", "most running requests per engine (vLLM max_num_seqs)", "256")
    .option("--kv-capacity-tokens <n>", "KV cache capacity per engine, tokens; a full cache preempts", "65536")
    .option("--no-chunked-prefill", "schedule a prompt only when it fits one iteration's budget")
    .option("--cost-a <s>", "cost model: fixed seconds per iteration", "0.005")
    .option("--cost-b <s>", "cost model: seconds per prefill token", "0.00002")
    .option("--cost-c <s>", "cost model: seconds per decode KV token", "0.0000005")
    .option("--cost-d <s>", "cost model: seconds per decoding request", "0")
    .option("--noise <fraction>", "cost model: relative standard deviation of the wall time", "0.02")
    .option("--seed <n>", "seed of arrivals, lengths and noise", "1")
    .option("--speed <factor>", "simulated seconds per wall second", "1")
    .option("--duration <s>", "stop after this many wall seconds (default: run until SIGINT/SIGTERM)")
    .option("--heartbeat-interval-ms <ms>", "idle heartbeat interval (env DYN_FPM_HEARTBEAT_INTERVAL_MS; default 1000)")
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
    .option("--worker-id-prefix <text>", "worker ids are this prefix and a counter", "sim-worker-")
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

async function runSimulate(flags: SimulateFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm::simulate" });
  const workers = int(flags.workers, "--workers", 1, 1024);
  const dpRanks = int(flags.dpRanks, "--dp-ranks", 1, 1024);
  const maxWorkers = Math.max(workers, int(flags.maxWorkers, "--max-workers", 1, 1024));
  const envPort = process.env.DYN_FORWARDPASS_METRIC_PORT;
  const portBase =
    flags.portBase !== undefined
      ? int(flags.portBase, "--port-base", 1024, 49151)
      : envPort
        ? int(envPort, "DYN_FORWARDPASS_METRIC_PORT", 1024, 49151)
        : DEFAULT_FPM_BASE_PORT;
  const [inputMin, inputMax] = parseTokenRange(flags.inputTokens, "--input-tokens");
  const [outputMin, outputMax] = parseTokenRange(flags.outputTokens, "--output-tokens");
  const seed = int(flags.seed, "--seed", 0);
  const speed = real(flags.speed, "--speed", 0, true);
  const durationS =
    flags.duration !== undefined ? numberOption(flags.duration, "--duration", TIMER_SECONDS) : undefined;
  const startupDelayS = real(flags.startupDelay, "--startup-delay", 0);
  const statusEveryS = real(flags.statusInterval, "--status-interval", 0, true);
  const heartbeatIntervalMs =
    flags.heartbeatIntervalMs !== undefined
      ? int(flags.heartbeatIntervalMs, "--heartbeat-interval-ms", 1, 300_000)
      : undefined;
  const arrivals = parseArrivalSpec(flags.arrivals, {
    lengths: { inputMin, inputMax, outputMin, outputMax },
    seed,
    poisson: !!flags.poisson,
  });
  for (const p of arrivals.problems.slice(0, 20))
    logger.warn("skipped a malformed arrivals line", { line: p.line, reason: p.reason });
  if (arrivals.problems.length > 20)
    logger.warn("more malformed arrivals lines skipped", { count: arrivals.problems.length - 20 });

  const fleet = new SimulatedEngineFleet({
    dpRanks,
    portBase,
    ipcPrefix: flags.ipcPrefix,
    heartbeatIntervalMs,
    sendLogPath: flags.sendLog,
    logger,
  });
  // Every endpoint the run may bind is checked now, so a bad port or ipc path fails at start.
  for (let s = 0; s < maxWorkers; s++)
    for (const e of fleet.endpoints(s)) checkZmqEndpoint(e, flags.ipcPrefix ? "--ipc-prefix" : "--port-base");
  // vLLM's rule for DYN_FORWARDPASS_METRIC_PORT applies to every base + rank of every worker slot.
  if (!flags.ipcPrefix)
    checkFpmPort(
      portBase + maxWorkers * dpRanks - 1,
      `--port-base ${portBase} with ${maxWorkers} worker slots (--max-workers) x ${dpRanks} ranks: the last`,
    );

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
      workers,
      dpRanks,
      seed,
      startupDelayS,
      maxWorkers,
      workerIdPrefix: flags.workerIdPrefix,
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
      onForwardPass: (ev) => fleet.publish(ev),
      onWorkerEvent: (ev) => {
        emit({
          event: WORKER_EVENTS[ev.kind],
          worker_id: ev.workerId,
          slot: ev.slot,
          simulated_s: +ev.atS.toFixed(3),
          endpoints: fleet.endpoints(ev.slot),
        });
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
  const stopped = untilStopped({ durationS });

  let conn: EventPlaneConnection | null = null;
  if (flags.followPlanner) {
    const natsOpts = natsOptionsFromFlags(flags, process.env, "fpm-simulate");
    conn = await connectNats(natsOpts, logger);
    const namespace = flags.namespace ?? (process.env.DYN_NAMESPACE || DEFAULT_NAMESPACE);
    const subject = flags.decisionsSubject ?? plannerDecisionsSubject(namespace);
    const reportSubject = flags.replicasSubject ?? plannerReplicasSubject(namespace);
    follower = new PlannerFollower({
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
      startupDelayS,
    });
  }

  logger.info("simulating", {
    workers,
    dpRanks,
    arrivals: arrivals.description,
    speed,
    transport: flags.ipcPrefix ? `ipc://${flags.ipcPrefix}-{slot}.{rank}` : `tcp://127.0.0.1:${portBase}+`,
  });
  let nextStatusS = statusEveryS * speed;
  const status = (): SimulateStatus => {
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
      waiting: views.reduce((s, v) => s + v.waiting, 0),
      running: views.reduce((s, v) => s + v.running, 0),
    };
  };
  const runner = new RealtimeSimulation({
    deployment,
    speed,
    onTick: (simS) => {
      if (simS < nextStatusS) return;
      nextStatusS += statusEveryS * speed;
      const s = status();
      emit({ event: "status", ...s });
      logger.debug("status", { ...s });
    },
  });

  runner.start();
  logger.info("stopping", { why: await stopped.done });
  runner.stop();
  follower?.stop();
  const final = status();
  emit({ ...final, event: "summary" });
  await fleet.close();
  await conn?.close();
  logger.info("stopped", { ...final });
  return EXIT.OK;
}
