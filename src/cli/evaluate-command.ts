/**
 * `fpm evaluate`: the planner judged in closed loop over whole scenarios (src/eval) against
 * a fixed deployment and an oracle: SLA attainment, cost, stability. Scenario files, or the
 * standard set when none is given, or a user's own traffic reconstructed from an
 * `fpm record` recording (`--from-recording`).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { type ContenderSpec, DEFAULT_CONTENDERS } from "../eval/contenders.js";
import { evaluate } from "../eval/evaluation.js";
import { renderPlot } from "../eval/plot.js";
import { renderJsonLines, renderTable } from "../eval/report.js";
import { loadScenarioFile, parseScenario, type Scenario, scenarioPlannerIgnored } from "../eval/scenario.js";
import { scenarioLoad } from "../eval/scenario-load.js";
import { readNdjsonText } from "../recording/ndjson-file.js";
import { engineConfig } from "../sim/engine-presets.js";
import { arrivalsFromRecording } from "../sim/recording-arrivals.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import { numberOption } from "../util/number-option.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";

/** The standard scenario set shipped with the package. */
export const STANDARD_SCENARIOS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../scenarios/standard.json",
);

interface EvaluateFlags {
  scenario?: string[];
  contenders?: string;
  contender?: string[];
  engine?: string;
  plannerConfig?: string;
  json?: boolean;
  plot?: string;
  fromRecording?: string;
  arrivalsOut?: string;
  workers?: string;
  maxWorkers?: string;
  startupDelay?: string;
  scaleDown?: string;
  threads?: string;
  quiet?: boolean;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

const HELP_AFTER = `
Examples:
  fpm evaluate                                   # the standard set, every contender
  fpm evaluate scenarios/standard.json --scenario step-4min --plot plots/
  fpm evaluate my-scenarios.json --engine a100-8b --json > results.ndjson
  fpm evaluate --from-recording rec.ndjson --planner-config planner.json --engine h100-8b
  fpm evaluate --contender window-60=candidate.json --contenders default,window-60,oracle

Scenario file (JSON, one object or an array): name, description, group, duration_s, seed,
arrivals (as fpm simulate --arrivals, plus recording:PATH), poisson, input_tokens,
output_tokens, engine (a preset: default, h100-8b, a100-8b, 4xh100-70b; or an object of
preset, cost_a, cost_b, cost_c, cost_d, noise, kv_capacity_tokens, max_num_batched_tokens,
max_num_seqs, chunked_prefill, gpus_per_engine), workers, dp_ranks, max_workers,
startup_delay_s, scale_down (kill|drain), planner (planner config keys, as fpm planner
--config). An unknown key is an error.

Contenders: ${DEFAULT_CONTENDERS.join(", ")} built in; NAME=FILE adds the planner with FILE's
planner keys over each scenario's. The oracle always runs: cost is measured against it.

Table columns (--json fields): both/ttft/itl (both_within_sla, ttft_within_sla,
itl_within_sla: shares of finished requests within the SLAs; ITL is each request's mean),
ttft_p50_ms..itl_p99_ms, replica-s (replica_seconds), x oracle (cost_vs_oracle), actions
(scale_actions), flaps (reversals within 3 ticks), react s (reaction_time_s), under s
(under_provisioned_s), restarted, rejected, unfinished (requests_*). Definitions:
docs/guides/evaluating-the-planner.md.`;

export function registerEvaluateCommand(program: Command, ctx: CommandContext): void {
  program
    .command("evaluate")
    .description(
      "Judge the planner in closed loop on simulated time: SLA attainment, cost and stability per scenario, against a fixed deployment and an oracle",
    )
    .argument("[files...]", "scenario files (default: the standard set, scenarios/standard.json)")
    .option("--scenario <name>", "only this scenario (repeatable)", collect)
    .option("--contenders <list>", `comma-separated contenders (default ${DEFAULT_CONTENDERS.join(",")})`)
    .option(
      "--contender <name=file>",
      "add a contender: the planner with this file's planner keys (repeatable)",
      collect,
    )
    .option("--engine <preset>", "run every scenario on this engine preset instead of its own")
    .option("--planner-config <file>", "planner keys (JSON) over every scenario's planner keys")
    .option("--json", "one JSON object per scenario x contender, one per line, instead of the table")
    .option("--plot <dir>", "write one SVG per scenario here (load, ready workers, p95 TTFT, SLA)")
    .option("--from-recording <file>", "evaluate on traffic reconstructed from an fpm record recording")
    .option("--arrivals-out <file>", "with --from-recording: also write the reconstructed arrivals (NDJSON)")
    .option("--workers <n>", "with --from-recording: workers at start (default: seen in the recording)")
    .option("--max-workers <n>", "with --from-recording: most workers (default 8)")
    .option("--startup-delay <s>", "with --from-recording: seconds before a new worker takes requests (default 20)")
    .option("--scale-down <mode>", "with --from-recording: kill or drain (default kill)")
    .option("--threads <n>", "worker threads (default: CPU cores, at most 8); the result does not depend on it")
    .option("--quiet", "no progress lines on stderr")
    .addHelpText("after", HELP_AFTER)
    .action(async (files: string[], flags: EvaluateFlags) => {
      ctx.exitCode = await runEvaluate(files, flags, ctx);
    });
}

function readJsonObject(file: string, flag: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`${flag} ${file}: not a readable JSON file (${(err as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ConfigError(`${flag} ${file}: must hold a JSON object of planner keys`);
  return v as Record<string, unknown>;
}

/** `--contenders` and `--contender NAME=FILE` as specs, in the order given. */
export function contenderSpecs(flags: Pick<EvaluateFlags, "contenders" | "contender">): ContenderSpec[] {
  const byFile = new Map<string, Record<string, unknown>>();
  for (const c of flags.contender ?? []) {
    const at = c.indexOf("=");
    if (at <= 0 || at === c.length - 1) throw new ConfigError(`--contender ${JSON.stringify(c)}: give NAME=FILE.json`);
    const name = c.slice(0, at);
    if (byFile.has(name) || DEFAULT_CONTENDERS.includes(name))
      throw new ConfigError(`--contender ${name}: the name is already taken`);
    byFile.set(name, readJsonObject(c.slice(at + 1), `--contender ${name}`));
  }
  const names =
    flags.contenders !== undefined
      ? flags.contenders
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== "")
      : [...DEFAULT_CONTENDERS, ...byFile.keys()];
  if (names.length === 0) throw new ConfigError("--contenders: name at least one contender");
  if (new Set(names).size !== names.length) throw new ConfigError("--contenders: each contender may appear once");
  for (const n of byFile.keys())
    if (!names.includes(n)) throw new ConfigError(`--contender ${n} is not in --contenders ${flags.contenders}`);
  return names.map((name) => (byFile.has(name) ? { name, planner: byFile.get(name) } : { name }));
}

function recordingScenario(flags: EvaluateFlags, logger: Logger): Scenario {
  const file = flags.fromRecording!;
  const text = readNdjsonText(file, `--from-recording ${file}`);
  const traffic = arrivalsFromRecording(text.split("\n"));
  for (const p of traffic.problems.slice(0, 10))
    logger.warn("skipped a recording line", { line: p.line, reason: p.reason });
  if (traffic.arrivals.length === 0)
    throw new ConfigError(`--from-recording ${file}: no request arrivals could be reconstructed (no busy FPM in it)`);
  if (flags.arrivalsOut) {
    const lines = traffic.arrivals.map((a) =>
      JSON.stringify({ t: a.atS, input_tokens: a.inputTokens, output_tokens: a.outputTokens }),
    );
    fs.writeFileSync(flags.arrivalsOut, `${lines.join("\n")}\n`);
  }
  const int = (v: string | undefined, flag: string, min: number) =>
    v === undefined ? undefined : numberOption(v, flag, { integer: true, min });
  const maxWorkers = int(flags.maxWorkers, "--max-workers", 1) ?? 8;
  const name = path
    .basename(file)
    .replace(/\.[^.]*$/, "")
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  logger.info("reconstructed arrivals from the recording", {
    arrivals: traffic.arrivals.length,
    messages: traffic.messages,
    duration_s: Math.ceil(traffic.durationS),
    workers: traffic.workersAtStart,
    dp_ranks: traffic.dpRanks,
  });
  return parseScenario(
    {
      name: name || "recording",
      description: `traffic reconstructed from ${path.basename(file)}`,
      group: "recording",
      duration_s: Math.max(1, Math.ceil(traffic.durationS)),
      arrivals: `recording:${path.resolve(file)}`,
      workers: int(flags.workers, "--workers", 1) ?? Math.min(maxWorkers, Math.max(1, traffic.workersAtStart)),
      dp_ranks: traffic.dpRanks,
      max_workers: maxWorkers,
      startup_delay_s:
        flags.startupDelay === undefined ? 20 : numberOption(flags.startupDelay, "--startup-delay", { min: 0 }),
      scale_down: flags.scaleDown ?? "kill",
    },
    `--from-recording ${file}`,
    process.cwd(),
  );
}

/** The scenarios to run: a recording's, the files' (or the standard set), picked by --scenario, with the overrides. */
function selectScenarios(files: string[], flags: EvaluateFlags, logger: Logger): Scenario[] {
  if (!flags.fromRecording)
    for (const [v, flag] of [
      [flags.arrivalsOut, "--arrivals-out"],
      [flags.workers, "--workers"],
      [flags.maxWorkers, "--max-workers"],
      [flags.startupDelay, "--startup-delay"],
      [flags.scaleDown, "--scale-down"],
    ] as const)
      if (v !== undefined)
        throw new ConfigError(`${flag} goes with --from-recording (scenario files set it per scenario)`);
  let scenarios: Scenario[] = flags.fromRecording ? [recordingScenario(flags, logger)] : [];
  if (!flags.fromRecording || files.length > 0)
    for (const f of files.length > 0 ? files : [STANDARD_SCENARIOS]) scenarios.push(...loadScenarioFile(f));
  if (flags.scenario) {
    const missing = flags.scenario.filter((n) => !scenarios.some((s) => s.name === n));
    if (missing.length > 0)
      throw new ConfigError(
        `--scenario ${missing.join(", ")}: no such scenario; there are ${scenarios.map((s) => s.name).join(", ")}`,
      );
    scenarios = scenarios.filter((s) => flags.scenario!.includes(s.name));
  }
  const engine = flags.engine === undefined ? undefined : engineConfig(flags.engine);
  const plannerKeys = flags.plannerConfig ? readJsonObject(flags.plannerConfig, "--planner-config") : undefined;
  return scenarios.map((s) => ({
    ...s,
    engine: engine ?? s.engine,
    planner: plannerKeys ? { ...s.planner, ...plannerKeys } : s.planner,
  }));
}

async function runEvaluate(files: string[], flags: EvaluateFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm.evaluate", level: flags.quiet ? "warn" : undefined });
  const scenarios = selectScenarios(files, flags, logger);
  const contenders = contenderSpecs(flags);
  const threads =
    flags.threads === undefined
      ? Math.min(8, os.availableParallelism())
      : numberOption(flags.threads, "--threads", { integer: true, min: 1, max: 64 });
  const ignored = [...new Set(scenarios.flatMap((s) => scenarioPlannerIgnored(s)))];
  if (ignored.length > 0)
    logger.warn("planner keys accepted but not implemented by fpm (they change nothing here)", {
      keys: ignored.join("; "),
    });
  for (const s of scenarios) {
    const problems = scenarioLoad(s).problems;
    if (problems.length > 0)
      logger.warn("skipped malformed arrivals lines", {
        scenario: s.name,
        count: problems.length,
        first: problems[0].line,
      });
  }
  let plotDir: string | undefined;
  if (flags.plot) {
    plotDir = flags.plot;
    try {
      fs.mkdirSync(plotDir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`--plot ${plotDir}: cannot create the directory (${(err as Error).message})`);
    }
  }
  const result = await evaluate({
    scenarios,
    contenders,
    threads,
    onProgress: (line) => logger.info(line),
  });
  if (flags.json) ctx.stdoutBytes(Buffer.from(renderJsonLines(result)));
  else ctx.stdoutBytes(Buffer.from(renderTable(result)));
  if (plotDir) {
    for (const e of result) fs.writeFileSync(path.join(plotDir, `${e.scenario.name}.svg`), renderPlot(e));
    logger.info("plots written", { dir: plotDir, files: result.length });
  }
  return EXIT.OK;
}
