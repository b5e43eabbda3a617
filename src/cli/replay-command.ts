/**
 * `fpm replay`: sends a recording made by `fpm record` back into NATS at the original pace
 * (or faster), or, with `--to-planner`, straight into the planner core offline, printing
 * the decision of every tick. A malformed recording line is reported with its line number
 * and skipped.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import type { Command } from "commander";
import { addNatsCliOptions, connectNats, type NatsCliFlags, natsOptionsFromFlags } from "../eventplane/connection.js";
import { type PlannerConfig, resolvePlannerConfig } from "../planner/planner-config.js";
import { IMPLEMENTED_KEYS } from "../planner/planner-config-keys.js";
import type { ModelKind } from "../planner/regression-model.js";
import { OfflinePlanner } from "../sim/offline-planner.js";
import { untilStopped } from "../util/stop-signal.js";
import { MAX_TIMER_MS, numberOption, optionalNumberOption } from "../util/number-option.js";
import { readRecording, recordedBytes } from "../sim/stream-recording.js";
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

/** Reference (snake_case) config keys accepted in --planner-config, mapped to PlannerConfig fields. */
const CONFIG_KEYS: Record<string, keyof PlannerConfig> = {
  mode: "mode",
  load_adjustment_interval: "loadAdjustmentIntervalS",
  max_num_fpm_samples: "maxNumFpmSamples",
  fpm_sample_bucket_size: "fpmSampleBucketSize",
  load_min_observations: "loadMinObservations",
  load_scaling_down_sensitivity: "loadScalingDownSensitivity",
  ttft: "ttftMs",
  itl: "itlMs",
  min_endpoint: "minEndpoint",
  max_gpu_budget: "maxGpuBudget",
  gpus_per_replica: "gpusPerReplica",
  optimization_target: "optimizationTarget",
  max_num_batched_tokens: "maxNumBatchedTokens",
  context_length: "contextLength",
  max_kv_tokens: "maxKvTokens",
  enable_load_scaling: "enableLoadScaling",
  cold_start_iterations: "coldStartIterations",
};

function plannerConfigFrom(flags: ReplayFlags): PlannerConfig {
  const partial: Record<string, unknown> = {};
  if (flags.plannerConfig) {
    let obj: unknown;
    try {
      obj = JSON.parse(fs.readFileSync(flags.plannerConfig, "utf8"));
    } catch (err) {
      throw new ConfigError(
        `--planner-config ${flags.plannerConfig}: not a readable JSON file (${(err as Error).message})`,
      );
    }
    if (typeof obj !== "object" || obj === null)
      throw new ConfigError(`--planner-config ${flags.plannerConfig}: must hold a JSON object`);
    for (const [k, v] of Object.entries(obj)) {
      const field =
        CONFIG_KEYS[k] ??
        (Object.values(CONFIG_KEYS).includes(k as keyof PlannerConfig) ? (k as keyof PlannerConfig) : undefined);
      if (!field)
        throw new ConfigError(
          `--planner-config: unknown key ${JSON.stringify(k)}; known: ${Object.keys(CONFIG_KEYS).join(", ")}`,
        );
      partial[field] = v;
    }
  }
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
      "planner settings as JSON (reference keys: load_adjustment_interval, ttft, itl, optimization_target, ...)",
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

function openLines(file: string): AsyncIterable<string> {
  if (file !== "-" && !fs.existsSync(file)) throw new ConfigError(`recording ${file} does not exist`);
  const input = file === "-" ? process.stdin : fs.createReadStream(file, { encoding: "utf8" });
  return readline.createInterface({ input, crlfDelay: Infinity });
}

async function runReplay(file: string, flags: ReplayFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm::replay" });
  const speed =
    flags.speed === "max" ? Infinity : numberOption(flags.speed, "--speed (or max)", { min: 0, above: true });
  if (!["prefill", "decode", "agg"].includes(flags.kind))
    throw new ConfigError(`--kind ${flags.kind}: must be prefill, decode or agg`);
  let problems = 0;
  const onProblem = (p: { line: number; reason: string }) => {
    problems++;
    logger.limited("bad-line", "warn", "skipped a malformed recording line", { line: p.line, reason: p.reason });
  };

  if (flags.toPlanner) {
    const config = plannerConfigFrom(flags);
    const offline = new OfflinePlanner({
      config,
      kind: flags.kind as ModelKind,
      onDecision: (d) => ctx.stdout(JSON.stringify(d)),
    });
    for await (const m of readRecording(openLines(file), onProblem))
      offline.feed(m, flags.subject ? componentOfSubject(flags.subject) : componentOfSubject(m.subject));
    offline.finish();
    logger.info("replayed offline into the planner", { ...offline.totals, malformedLines: problems });
    return EXIT.OK;
  }

  if (file !== "-" && !fs.existsSync(file)) throw new ConfigError(`recording ${file} does not exist`);
  const conn = await connectNats(natsOptionsFromFlags(flags, process.env, "fpm-replay"), logger);
  // Opened only now: readline drops lines emitted before its iterator is being read.
  const lines = openLines(file);
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
  logger.info("replayed", { messages: sent, malformedLines: problems });
  return EXIT.OK;
}
