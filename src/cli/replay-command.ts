/**
 * `fpm replay`: sends a recording made by `fpm record` back into NATS at the original pace
 * (or faster), or, with `--to-planner`, straight into the planner core offline, printing
 * the decision of every tick. A malformed recording line is reported with its line number
 * and skipped.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { addNatsCliOptions, connectNats, type NatsCliFlags, natsOptionsFromFlags } from "../eventplane/connection.js";
import { type PlannerConfig, resolvePlannerConfig } from "../planner/planner-config.js";
import { IMPLEMENTED_KEYS } from "../planner/planner-config-keys.js";
import { readPlannerConfigFile, warnIgnoredKeys } from "../planner/planner-options.js";
import type { ModelKind } from "../planner/regression-model.js";
import { decisionRecordText } from "../planner/decision-record.js";
import { OfflinePlanner } from "../planner/offline-planner.js";
import { untilStopped } from "../util/stop-signal.js";
import { MAX_TIMER_MS, numberOption, optionalNumberOption } from "../util/number-option.js";
import { type LineProblem, openNdjsonLines } from "../recording/ndjson-file.js";
import { readRecording, recordedBytes } from "../recording/stream-recording.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import { componentOfSubject } from "../eventplane/subject.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";

interface ReplayFlags extends NatsCliFlags {
  speed: string;
  subject?: string;
  restamp?: boolean;
  toPlanner?: boolean;
  plannerConfig?: string;
  kind: string;
  interval?: string;
  mode?: string;
  optimizationTarget?: string;
  ttft?: string;
  itl?: string;
  maxNumBatchedTokens?: string;
  maxKvTokens?: string;
  contextLength?: string;
  minEndpoint?: string;
  maxGpuBudget?: string;
}

/** The planner's settings: the --planner-config file (the planner's config keys), then the flags. */
function plannerConfigFrom(flags: ReplayFlags, logger: Logger): PlannerConfig {
  const file = flags.plannerConfig ? readPlannerConfigFile(flags.plannerConfig, "--planner-config") : undefined;
  warnIgnoredKeys(file?.ignored ?? [], logger);
  const partial: Record<string, unknown> = { ...file?.partial };
  const set = (field: keyof PlannerConfig, v: unknown) => {
    if (v !== undefined) partial[field] = v;
  };
  // The same range as the planner's flag and config key for that field.
  const num = (field: keyof PlannerConfig, text: string | undefined, flag: string) =>
    set(field, optionalNumberOption(text, flag, IMPLEMENTED_KEYS.find((k) => k.field === field)?.rule));
  num("loadAdjustmentIntervalS", flags.interval, "--interval");
  set("mode", flags.mode);
  set("optimizationTarget", flags.optimizationTarget);
  num("ttftMs", flags.ttft, "--ttft");
  num("itlMs", flags.itl, "--itl");
  num("maxNumBatchedTokens", flags.maxNumBatchedTokens, "--max-num-batched-tokens");
  num("maxKvTokens", flags.maxKvTokens, "--max-kv-tokens");
  num("contextLength", flags.contextLength, "--context-length");
  num("minEndpoint", flags.minEndpoint, "--min-endpoint");
  num("maxGpuBudget", flags.maxGpuBudget, "--max-gpu-budget");
  return resolvePlannerConfig(partial as Partial<PlannerConfig>);
}

export function registerReplayCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("replay")
    .description(
      "Replay a recording (from fpm record) into NATS at the original or an accelerated pace, or offline into the planner with --to-planner",
    )
    .argument("<file>", "the NDJSON recording; - for stdin")
    .option("--speed <factor>", "pace: 1 = original timing, 10 = ten times faster, max = as fast as possible", "1")
    .option("--subject <subject>", "publish every message on this subject instead of its recorded one")
    .option("--restamp", "set published_at to the replay time instead of the recorded one")
    .option("--to-planner", "no NATS: feed the planner core offline and print one decision JSON line per tick")
    .option(
      "--planner-config <file>",
      "planner settings as JSON: the keys of fpm planner --config (Dynamo 1.6.1's planner keys; see fpm planner --help)",
    )
    .option("--kind <kind>", "planner model of every component: prefill, decode or agg", "agg")
    .option("--interval <s>", "planner tick period, seconds (load_adjustment_interval)")
    .option("--mode <mode>", "default or parity")
    .option("--optimization-target <t>", "sla, throughput or latency")
    .option("--ttft <ms>", "TTFT SLA, ms")
    .option("--itl <ms>", "ITL SLA, ms")
    .option("--max-num-batched-tokens <n>", "engine's token budget (sla prefill/agg)")
    .option("--max-kv-tokens <n>", "engine's KV capacity (throughput/latency decode/agg)")
    .option("--context-length <n>", "engine's context length (throughput/latency prefill)")
    .option("--min-endpoint <n>", "replica floor")
    .option("--max-gpu-budget <n>", "GPU ceiling");
  addNatsCliOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  fpm replay fpm.ndjson --nats nats://127.0.0.1:4222            # original pace
  fpm replay fpm.ndjson --speed 20 --restamp
  fpm replay fpm.ndjson --to-planner --optimization-target sla --ttft 200 --itl 20 \\
      --max-num-batched-tokens 2048 --interval 5 | jq -c '{time,replicas,desired,reason}'
A malformed line is reported on stderr with its line number and skipped.`,
  );
  cmd.action(async (file: string, flags: ReplayFlags) => {
    ctx.exitCode = await runReplay(file, flags, ctx);
  });
}

/** `--to-planner`: the recording through the offline planner, its decision records on stdout. */
async function replayToPlanner(
  file: string,
  flags: ReplayFlags,
  ctx: CommandContext,
  logger: Logger,
  onProblem: (p: LineProblem) => void,
) {
  const offline = new OfflinePlanner({
    config: plannerConfigFrom(flags, logger),
    kind: flags.kind as ModelKind,
    onDecision: (d) => ctx.stdout(decisionRecordText(d)),
  });
  for await (const m of readRecording(openNdjsonLines(file, `recording ${file}`), onProblem))
    offline.feed(m, flags.subject ? componentOfSubject(flags.subject) : componentOfSubject(m.subject));
  offline.finish();
  const { messages, invalid, ticks, componentsRefused } = offline.totals;
  return { messages, invalid, ticks, components_refused: componentsRefused };
}

async function runReplay(file: string, flags: ReplayFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm.replay" });
  const speed =
    flags.speed === "max" ? Infinity : numberOption(flags.speed, "--speed (or max)", { min: 0, above: true });
  if (!["prefill", "decode", "agg"].includes(flags.kind))
    throw new ConfigError(`--kind ${flags.kind}: must be prefill, decode or agg`);
  let problems = 0;
  const onProblem = (p: LineProblem) => {
    problems++;
    logger.limited("bad-line", "warn", "skipped a malformed recording line", { line: p.line, reason: p.reason });
  };

  if (flags.toPlanner) {
    const totals = await replayToPlanner(file, flags, ctx, logger, onProblem);
    logger.info("replayed offline into the planner", { ...totals, malformed_lines: problems });
    return EXIT.OK;
  }

  if (file !== "-" && !fs.existsSync(file)) throw new ConfigError(`recording ${file}: cannot read it (no such file)`);
  const conn = await connectNats(natsOptionsFromFlags(flags, process.env, "fpm-replay"), logger);
  // Opened only now: readline drops lines emitted before its iterator is being read.
  const lines = openNdjsonLines(file, `recording ${file}`);
  const stopped = untilStopped({ logger });
  let stop = false;
  void stopped.done.then(() => (stop = true));
  let sent = 0;
  let firstRecMs = NaN;
  let startMs = 0;
  for await (const m of readRecording(lines, onProblem)) {
    if (stop) break;
    if (speed !== Infinity && Number.isFinite(m.receivedAtMs)) {
      if (Number.isNaN(firstRecMs)) {
        firstRecMs = m.receivedAtMs;
        startMs = performance.now();
      }
      const dueMs = startMs + (m.receivedAtMs - firstRecMs) / speed;
      const waitMs = dueMs - performance.now();
      // In steps Node's timer can hold: a longer delay would fire after 1 ms.
      for (let left = waitMs; left > 1; left = dueMs - performance.now())
        await new Promise((r) => setTimeout(r, Math.min(left, MAX_TIMER_MS)));
    }
    conn.nc.publish(flags.subject ?? m.subject, recordedBytes(m, flags.restamp ? BigInt(Date.now()) : undefined));
    sent++;
    // Yield now and then so a large file at max speed does not starve the socket writer.
    if (sent % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  stopped.stop("done");
  await conn.flush(10_000);
  await conn.close();
  logger.info("replayed", { messages: sent, malformed_lines: problems });
  return EXIT.OK;
}
