/** `fpm relay`: run an `FpmEventRelay` beside an inference worker until SIGINT/SIGTERM. */
import { type Command, Option } from "commander";
import { addNatsCliOptions } from "../eventplane/connection.js";
import { DEFAULT_COMPONENT, DEFAULT_NAMESPACE } from "../eventplane/subject.js";
import { logEventPlane } from "../eventplane/plane-selection.js";
import { type MetricsServer, serveMetrics } from "../metrics/http-server.js";
import { RELAY_DROP_REASONS } from "../relay/relay-metrics.js";
import { RELAY_DEFAULTS, type RelayCliFlags, relayOptionsFromFlags } from "../relay/options.js";
import { FpmEventRelay } from "../relay/relay.js";
import { Logger } from "../util/log.js";
import { untilStopped } from "../util/stop-signal.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";

/** The whole shutdown (stop receiving, flush NATS, close) fits in this; the issue allows 5 s. */
const SHUTDOWN_BUDGET_MS = 4000;

const HELP_AFTER = `
Endpoints (one per dp_rank):
  vLLM:    DYN_FORWARDPASS_METRIC_PORT=20380 fpm relay --dp-size 2
           -> tcp://127.0.0.1:20380 (rank 0), tcp://127.0.0.1:20381 (rank 1)
  SGLang:  fpm relay --zmq-endpoint 'ipc:///tmp/sglang_fpm.{rank}' --dp-size 2
           ({rank} is replaced by each rank from --dp-start)

Environment:
  DYN_FORWARDPASS_METRIC_PORT  base port (rank N on base+N), like the vLLM worker
  DYN_FPM_TRACE                also turns FPM on: base port 20380 when DYN_FORWARDPASS_METRIC_PORT is unset
  DYN_NAMESPACE                namespace (default dynamo)
  DYN_EVENT_PLANE              nats or zmq (unset: zmq with a discovery backend, else nats)
  DYN_DISCOVERY_BACKEND        etcd or file; ETCD_ENDPOINTS (etcd), DYN_FILE_KV (file directory)
  DYN_EVENT_PLANE_HOST         address the ZMQ plane advertises (default: the host's address)
  DYN_SYSTEM_PORT              port of /metrics and /health (unset or -1: off)
  NATS_SERVER                  NATS URL(s), comma-separated (default nats://127.0.0.1:4222)
  NATS_AUTH_TOKEN | NATS_AUTH_USERNAME + NATS_AUTH_PASSWORD | NATS_AUTH_NKEY | NATS_AUTH_CREDENTIALS_FILE
  NATS_TLS_CA_CERT_PATH, NATS_TLS_CLIENT_CERT_PATH, NATS_TLS_CLIENT_KEY_PATH
  DYN_LOG (error|warn|info|debug|trace), DYN_LOGGING_JSONL=true for JSON lines

Drop reasons (fpm_relay_dropped_total{reason}):
  ${RELAY_DROP_REASONS.join(", ")}`;

export function registerRelayCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("relay")
    .description(
      "Relay Forward Pass Metrics from an engine's ZMQ PUB sockets to the event plane (NATS or ZMQ), validated and accounted",
    );
  addEngineOptions(cmd);
  addScopeOptions(cmd);
  addLimitOptions(cmd);
  cmd
    .option(
      "--metrics-port <port>",
      "serve /metrics and /health on this port (env DYN_SYSTEM_PORT; -1: off; 0: a free port)",
    )
    .option("--metrics-host <host>", "address for /metrics and /health", RELAY_DEFAULTS.metricsHost);
  addNatsCliOptions(cmd);
  cmd.addHelpText("after", HELP_AFTER);
  cmd.action(async (flags: RelayCliFlags) => {
    ctx.exitCode = await runRelay(flags);
  });
}

/** Where the engines are: ZMQ endpoints, or a base port and the dp_ranks. */
function addEngineOptions(cmd: Command): void {
  cmd
    .option(
      "--zmq-endpoint <url>",
      "engine endpoint, tcp://host:port or ipc://path; repeatable; {rank} expands to each rank",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      "--base-port <port>",
      "base port: rank N connects to tcp://127.0.0.1:{base+N} (env DYN_FORWARDPASS_METRIC_PORT)",
    )
    .option("--dp-start <rank>", "first dp_rank", "0")
    .option("--dp-size <n>", "number of dp_ranks", "1");
}

/** Where FPM goes: the event plane and the scope of its subject or records. */
function addScopeOptions(cmd: Command): void {
  cmd
    .addOption(
      new Option(
        "--event-plane <plane>",
        "nats or zmq (env DYN_EVENT_PLANE; unset: zmq when a discovery backend is configured, else nats)",
      ).choices(["nats", "zmq"]),
    )
    .option("--namespace <ns>", `subject namespace (env DYN_NAMESPACE; default ${DEFAULT_NAMESPACE})`)
    .option("--component <name>", "component", DEFAULT_COMPONENT)
    .option(
      "--endpoint <name>",
      `endpoint; FPM is endpoint-scoped as in Dynamo 1.6.1 (default ${RELAY_DEFAULTS.endpoint})`,
    )
    .option("--component-scope", "publish component-scoped instead (older Dynamo runtimes; NATS plane only)");
}

/** What is checked, and the bounds of every buffer. */
function addLimitOptions(cmd: Command): void {
  cmd
    .addOption(
      new Option(
        "--validate <mode>",
        "on: check frames, size, seq and payload; off: frame count only, like Dynamo's relay",
      )
        .default("on")
        .choices(["on", "off"]),
    )
    .option(
      "--max-payload-bytes <n>",
      "drop payloads larger than this (reason oversize)",
      String(RELAY_DEFAULTS.maxPayloadBytes),
    )
    .option(
      "--max-buffered-bytes <n>",
      "envelope bytes held for NATS, waiting or not yet confirmed by the server (at most half unconfirmed); the oldest waiting beyond it are dropped (reason nats_unavailable)",
      String(RELAY_DEFAULTS.maxBufferedBytes),
    )
    .option(
      "--nats-confirm-timeout-ms <ms>",
      "/health answers 503 when the NATS server leaves a confirmation round-trip unanswered this long",
      String(RELAY_DEFAULTS.natsConfirmTimeoutMs),
    )
    .option(
      "--receive-hwm <n>",
      "ZMQ receive high-water mark per engine, in messages",
      String(RELAY_DEFAULTS.receiveHighWaterMark),
    );
}

async function runRelay(flags: RelayCliFlags): Promise<number> {
  const parsed = relayOptionsFromFlags(flags);
  const logger = new Logger({ target: "fpm.relay" });
  logEventPlane(parsed.plane, logger);
  const relay = new FpmEventRelay({ ...parsed.relay, logger });
  // Listening before start: a SIGTERM right after "relay started" must stop it cleanly.
  const stopped = untilStopped();
  try {
    await relay.start();
  } catch (err) {
    stopped.stop("start failed");
    throw err;
  }
  let server: MetricsServer | null = null;
  if (parsed.metricsPort !== null) {
    try {
      server = await serveMetrics(
        {
          registry: relay.metrics.registry,
          health: () => relay.health(),
          host: parsed.metricsHost,
          port: parsed.metricsPort,
        },
        logger,
      );
    } catch (err) {
      stopped.stop("start failed");
      await relay.stop();
      throw err;
    }
  }
  const signal = await stopped.done;
  logger.info("stopping", { signal });
  // A second signal, or a stuck flush, must not keep the process past the budget.
  const force = setTimeout(() => {
    logger.error("shutdown took too long; exiting");
    process.exit(EXIT.OK);
  }, SHUTDOWN_BUDGET_MS + 500);
  force.unref();
  await Promise.all([relay.stop(SHUTDOWN_BUDGET_MS / 2), server?.stop()]);
  clearTimeout(force);
  return EXIT.OK;
}
