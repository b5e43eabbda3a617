/** `fpm planner`: the load-adjusting planner on a Dynamo deployment's event plane (NATS or ZMQ), until SIGINT/SIGTERM. */
import fs from "node:fs";
import { type Command, Option } from "commander";
import type { NatsConnection } from "@nats-io/transport-node";
import { addNatsCliOptions, type EventPlaneConnection } from "../eventplane/connection.js";
import { openEnvelopeSource } from "../eventplane/open-source.js";
import type { EnvelopeSource } from "../eventplane/plane.js";
import { namespaceFrom } from "../eventplane/subject.js";
import { type MetricsServer, serveMetrics } from "../metrics/http-server.js";
import { DEFAULT_MAX_ENGINE_SERIES } from "../planner/planner-metrics.js";
import { CommandConnector, SCALE_COMMAND_VARIABLES } from "../planner/connectors/command-connector.js";
import { VirtualConnector } from "../planner/connectors/virtual-connector.js";
import { DECISION_REASONS, type PlannerDecision } from "../planner/decision.js";
import { decisionRecordText } from "../planner/decision-record.js";
import { FpmPlanner } from "../planner/fpm-planner.js";
import { OfflinePlanner } from "../planner/offline-planner.js";
import type { PlannerConfig } from "../planner/planner-config.js";
import { FPM_OPTION_KEYS, IMPLEMENTED_KEYS } from "../planner/planner-config-keys.js";
import { type PlannerCliFlags, plannerOptionsFromFlags, warnIgnoredKeys } from "../planner/planner-options.js";
import { openNdjsonLines } from "../recording/ndjson-file.js";
import { SUBSCRIBER_DROP_REASONS } from "../subscriber/drop-reasons.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import { untilStopped } from "../util/stop-signal.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { eventPlaneOption } from "./tail-command.js";

const HELP_AFTER = `
Examples:
  # agg workers of component "backend", SLA mode, on the deployment's NATS
  NATS_SERVER=nats://nats:4222 fpm planner --optimization-target sla --ttft 500 --itl 50 \\
      --max-num-batched-tokens 8192 --component backend:agg
  # disaggregated: prefill and decode components, kubectl as the actuator
  fpm planner --component prefill:prefill --component backend:decode --optimization-target sla \\
      --max-num-batched-tokens 8192 --connector command \\
      --scale-command 'kubectl scale "deployment/$FPM_COMPONENT" --replicas="$FPM_REPLICAS"'
  # replay a recorded trace offline in parity mode (no NATS)
  fpm planner --mode parity --optimization-target sla --max-num-batched-tokens 2048 --replay-trace trace.jsonl

Config file (--config, JSON; flags win): a Dynamo 1.6.1 planner config. Implemented keys
(old names accepted as aliases): ${IMPLEMENTED_KEYS.map((k) => (k.aliases.length ? `${k.key} (${k.aliases.join(", ")})` : k.key)).join(", ")}, mode (Dynamo's disagg|prefill|decode|agg),
namespace, metric_reporting_prometheus_port; fpm's own: ${FPM_OPTION_KEYS.join(", ")}.
The other 1.6.1 keys are accepted and named in one warning at start (docs/design/planner-parity.md);
any other key stops the start (exit 2) with the nearest known name.

Scale command (--connector command): run as /bin/sh -c COMMAND fpm-scale COMPONENT REPLICAS;
no value is pasted into the command text. It reads ${Object.keys(SCALE_COMMAND_VARIABLES).join(", ")}
(or "$1" "$2"), double-quoted. Component names: letters, digits, '.', '_', '-' (not first: '.', '-').
The old {component} and {replicas} placeholders are refused (exit 2).

Output: one JSON decision record per component per tick on stdout (or --decisions-file):
time, component, kind, mode, target, replicas, desired, direction (up|down|hold), reason,
engines (per-engine ttftMs / itlMs / loadRatio), model (status, intercept, coef, samples), and
rule, pending, predicted; every field in schemas/planner_decision.v1.schema.json (in the package).
Reasons: ${DECISION_REASONS.join(", ")}.

Event plane: --event-plane, else DYN_EVENT_PLANE, else zmq when a discovery backend is
configured (DYN_DISCOVERY_BACKEND, ETCD_ENDPOINTS, DYN_FILE_KV), else nats. On zmq the
virtual connector has no NATS: decisions go to stdout / --decisions-file only.

Environment:
  NATS_SERVER, NATS_AUTH_*, NATS_TLS_* (as fpm relay), DYN_NAMESPACE (default dynamo),
  DYN_EVENT_PLANE, DYN_DISCOVERY_BACKEND, ETCD_ENDPOINTS, DYN_FILE_KV,
  DYN_SYSTEM_PORT (/metrics and /health; unset or -1: off), DYN_LOG, DYN_LOGGING_JSONL

Dropped messages (fpm_planner_messages_dropped_total{reason}):
  ${SUBSCRIBER_DROP_REASONS.join(", ")}, recv_overflow`;

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export function registerPlannerCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("planner")
    .description(
      "Load-adjusting planner: fits a latency model from FPM and decides replica counts (Dynamo planner parity mode, improved default mode)",
    );
  addPlannerSelectionOptions(cmd);
  addModelOptions(cmd);
  addScalingOptions(cmd);
  addTrackingOptions(cmd);
  addNatsCliOptions(cmd);
  cmd.addHelpText("after", HELP_AFTER);
  cmd.action(async (flags: PlannerCliFlags) => {
    ctx.exitCode = await runPlannerCommand(flags, ctx);
  });
}

/** What is planned: the deployment, its components, the mode and the target. */
function addPlannerSelectionOptions(cmd: Command): void {
  cmd
    .option("--config <file>", "JSON config file (reference key names); flags override it")
    .addOption(eventPlaneOption())
    .option("--namespace <ns>", "namespace (env DYN_NAMESPACE; default dynamo)")
    .option(
      "--component <name[:kind]>",
      "component to plan, kind prefill|decode|agg (default: from the name, else agg); repeatable; default backend:agg",
      collect,
    )
    .addOption(
      new Option(
        "--mode <mode>",
        "default: improved sampling, expiry, cold start, idle step-down; parity: the reference's behaviour",
      ).choices(["default", "parity"]),
    )
    .addOption(
      new Option(
        "--parity-rules <version>",
        "parity mode: Dynamo 1.6.1's rules (default) or the rules before 1.6",
      ).choices(["1.6.1", "pre-1.6"]),
    )
    .addOption(
      new Option(
        "--deployment-mode <mode>",
        "Dynamo's mode, for the default components: agg (backend:agg), disagg (prefill + backend:decode), prefill, decode",
      ).choices(["agg", "disagg", "prefill", "decode"]),
    )
    .addOption(
      new Option(
        "--optimization-target <t>",
        "sla: regression against --ttft/--itl; throughput/latency/load: static thresholds (default throughput)",
      ).choices(["sla", "throughput", "latency", "load"]),
    );
}

/** The latency model: sampling, the SLA and the engine facts its formulas need. */
function addModelOptions(cmd: Command): void {
  cmd
    .option("--load-adjustment-interval <s>", "seconds between decisions (default 5)")
    .option("--max-num-fpm-samples <n>", "samples kept per model, and moving-average window (default 64)")
    .option("--fpm-sample-bucket-size <n>", "total buckets, a perfect square (default 16)")
    .option("--load-min-observations <n>", "samples before a model is fitted (default 5)")
    .option(
      "--load-scaling-down-sensitivity <pct>",
      "scale down when every engine is under this percent of the SLA (default 80)",
    )
    .option("--ttft <ms>", "TTFT SLA in ms (default 500)")
    .option("--itl <ms>", "ITL SLA in ms (default 50)")
    .option("--max-num-batched-tokens <n>", "engine's max_num_batched_tokens (sla on prefill/agg)")
    .option("--context-length <n>", "engine's context length (throughput/latency on prefill)")
    .option("--max-kv-tokens <n>", "engine's KV cache capacity in tokens (throughput/latency on decode/agg)")
    .option(
      "--speculative-nextn <n>",
      "speculative decoding depth: ITL is divided by the accept length, clamped to [1, n+1] (default 0: off)",
    );
}

/** How far it may scale, the load thresholds, and the default policy's own settings. */
function addScalingOptions(cmd: Command): void {
  cmd
    .option("--min-endpoint <n>", "replica floor (default 1; 0 allows scale to zero)")
    .option("--prefill-min-endpoint <n>", "replica floor of prefill components (default: --min-endpoint)")
    .option("--decode-min-endpoint <n>", "replica floor of decode and agg components (default: --min-endpoint)")
    .option("--max-gpu-budget <n>", "GPU ceiling per component (default 8; -1: none)")
    .option("--min-gpu-budget <n>", "GPU floor per component (default -1: none)")
    .option("--gpus-per-replica <n>", "GPUs one replica uses (default 1)")
    .option("--prefill-scale-up-queue-tokens <n>", "load target: queued prefill tokens that ask for a replica more")
    .option(
      "--prefill-scale-down-queue-tokens <n>",
      "load target: queued prefill tokens every engine must be at or under to scale down",
    )
    .option("--decode-scale-up-kv-rate <pct>", "load target: KV use percent that asks for a replica more")
    .option(
      "--decode-scale-down-kv-rate <pct>",
      "load target: KV use percent every engine must be at or under to scale down",
    )
    .option("--advisory", "compute and record decisions, never hand them to the connector")
    .option(
      "--cold-start-iterations <n>",
      "default mode: first iterations of a new or restarted engine kept out of the model (default 10)",
    )
    .option(
      "--scale-down-stabilization <s>",
      "default mode, sla: a scale-down respects the largest need of the last s seconds (scale_down_stabilization_seconds, default 60)",
    )
    .option("--no-load-scaling", "observe and report only; every tick says disabled");
}

/** The engines it tracks, the connector that actuates, and where records and metrics go. */
function addTrackingOptions(cmd: Command): void {
  cmd
    .option("--stale-after-ms <ms>", "default mode: expire an engine silent this long (default 5000)")
    .option("--max-engines <n>", "engines tracked at most; new ones on probation make room first (default 10000)")
    .option(
      "--max-engine-series <n>",
      `engines with per-engine /metrics series at most, those past probation first (default ${DEFAULT_MAX_ENGINE_SERIES})`,
    )
    .addOption(
      new Option("--connector <name>", "virtual: publish decisions on NATS; command: run --scale-command").choices([
        "virtual",
        "command",
      ]),
    )
    .option("--scale-command <cmd>", 'command connector: shell command reading "$FPM_COMPONENT" and "$FPM_REPLICAS"')
    .option("--command-timeout <s>", "command connector: kill the command after this, 0 < s <= 2147483 (default 60)")
    .option("--scale-timeout <s>", "stop waiting for a scale to complete after this, 0 < s <= 2147483 (default 600)")
    .option(
      "--decisions-subject <subject>",
      "virtual connector: where decisions go (default namespace.{ns}.planner.decisions)",
    )
    .option(
      "--replicas-subject <subject>",
      "virtual connector: where a deployer reports {component, replicas} (default namespace.{ns}.planner.replicas)",
    )
    .option("--decisions-file <path>", "append decision records here instead of stdout")
    .option("--metrics-port <port>", "serve /metrics and /health (env DYN_SYSTEM_PORT; -1: off; 0: a free port)")
    .option("--metrics-host <host>", "address for /metrics and /health (default 0.0.0.0)")
    .option(
      "--replay-trace <file>",
      "offline: replay a JSON-lines FPM trace through the planner core and exit (no NATS)",
    );
}

type PlannerCommandOptions = ReturnType<typeof plannerOptionsFromFlags>;

/** Where decision records go: stdout, or appended to --decisions-file. */
function openDecisionOutput(
  opts: PlannerCommandOptions,
  ctx: CommandContext,
): { write: (d: PlannerDecision) => void; close: () => void } {
  if (!opts.decisionsFile) return { write: (d) => ctx.stdout(decisionRecordText(d)), close: () => {} };
  let fd: number;
  try {
    fd = fs.openSync(opts.decisionsFile, "a");
  } catch (err) {
    throw new ConfigError(`cannot open --decisions-file ${opts.decisionsFile}: ${(err as Error).message}`);
  }
  return { write: (d) => fs.writeSync(fd, `${decisionRecordText(d)}\n`), close: () => fs.closeSync(fd) };
}

async function runPlannerCommand(flags: PlannerCliFlags, ctx: CommandContext): Promise<number> {
  const opts = plannerOptionsFromFlags(flags);
  const output = openDecisionOutput(opts, ctx);
  try {
    if (opts.replayTrace) {
      warnIgnoredKeys(opts.ignoredKeys, new Logger({ target: "fpm.planner" }));
      await replay(opts.replayTrace, opts.config, output.write);
      return EXIT.OK;
    }
    return await run(opts, flags, output.write);
  } finally {
    output.close();
  }
}

/** `--replay-trace`: the trace's ticks through the offline planner, line by line as they are read. */
async function replay(path: string, config: PlannerConfig, write: (d: PlannerDecision) => void): Promise<void> {
  const offline = new OfflinePlanner({ config, onDecision: write });
  for await (const line of openNdjsonLines(path, `--replay-trace ${path}`)) offline.replayTraceLine(line);
}

/** The connector that actuates: the scale command, or decisions on NATS for an external actuator. */
function makeConnector(opts: PlannerCommandOptions, namespace: string, nc: NatsConnection | undefined, logger: Logger) {
  return opts.connector === "command"
    ? new CommandConnector({
        command: opts.scaleCommand!,
        commandTimeoutMs: opts.commandTimeoutMs,
        scaleTimeoutMs: opts.scaleTimeoutMs,
        logger: logger.child("connector"),
      })
    : new VirtualConnector({
        connection: nc,
        namespace,
        decisionsSubject: opts.decisionsSubject,
        replicasSubject: opts.replicasSubject,
        scaleTimeoutMs: opts.scaleTimeoutMs,
        logger: logger.child("connector"),
      });
}

/** /metrics and /health of a running planner, when a port is set; null when off. */
async function servePlannerMetrics(
  opts: PlannerCommandOptions,
  planner: FpmPlanner,
  source: EnvelopeSource,
  conn: EventPlaneConnection | null,
  logger: Logger,
): Promise<MetricsServer | null> {
  if (opts.metricsPort === null) return null;
  const health = () => {
    const h = planner.health();
    const problems = source.problems();
    return { ...h, healthy: h.healthy && problems.length === 0, plane: source.plane, problems, nats: conn?.state };
  };
  try {
    return await serveMetrics(
      { registry: planner.metrics.registry, health, host: opts.metricsHost, port: opts.metricsPort },
      logger,
    );
  } catch (err) {
    await source.stop();
    throw err;
  }
}

/** The planner on its event plane (and discovery), with its connector; not started yet. */
async function openPlanner(
  opts: PlannerCommandOptions,
  flags: PlannerCliFlags,
  write: (d: PlannerDecision) => void,
  logger: Logger,
) {
  const namespace = namespaceFrom(opts.namespace);
  const components = opts.components.map((c) => c.component);
  const {
    source,
    nats: conn,
    choice,
    discovery,
  } = await openEnvelopeSource({
    flags,
    namespace,
    components,
    natsName: "fpm-planner",
    logger,
    withDiscovery: true,
    keepNats: true,
  });
  const connector = makeConnector(opts, namespace, conn?.nc, logger);
  const planner = new FpmPlanner({
    connection: conn?.nc,
    source,
    discovery: discovery ?? undefined,
    namespace,
    components: opts.components,
    config: opts.config,
    connector,
    staleAfterMs: opts.staleAfterMs,
    maxEngines: opts.maxEngines,
    maxEngineSeries: opts.maxEngineSeries,
    onDecision: write,
    logger,
  });
  return { planner, source, conn, choice, discovery, connector, namespace };
}

async function run(
  opts: PlannerCommandOptions,
  flags: PlannerCliFlags,
  write: (d: PlannerDecision) => void,
): Promise<number> {
  const logger = new Logger({ target: "fpm.planner" });
  warnIgnoredKeys(opts.ignoredKeys, logger);
  const { planner, source, conn, choice, discovery, connector, namespace } = await openPlanner(
    opts,
    flags,
    write,
    logger,
  );
  const server = await servePlannerMetrics(opts, planner, source, conn ?? null, logger);
  // Listening before start: a SIGTERM right after "planner running" must stop it cleanly.
  const stopped = untilStopped();
  planner.start();
  try {
    await planner.subscriber.ready();
    await planner.watchModelCards();
  } catch (err) {
    stopped.stop("start failed");
    await planner.stop();
    await server?.stop();
    throw err;
  }
  logger.info("planner running", {
    namespace,
    components: opts.components.map((c) => `${c.component}:${c.kind}`).join(","),
    mode: opts.config.mode,
    optimization_target: opts.config.optimizationTarget,
    interval_s: opts.config.loadAdjustmentIntervalS,
    connector: connector.name,
    from: source.describe(),
  });
  const why = await stopped.done;
  logger.info("stopping", { why });
  const force = setTimeout(() => process.exit(EXIT.OK), 5000);
  force.unref();
  await planner.stop();
  await Promise.all([conn?.close(), server?.stop(), choice.plane === "nats" ? discovery?.close() : undefined]);
  clearTimeout(force);
  return EXIT.OK;
}
