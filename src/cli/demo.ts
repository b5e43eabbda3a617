/**
 * `fpm demo` (what `npm run demo` runs): the whole pipeline on one machine, no GPU. It
 * starts nats-server on a free port, `fpm planner` (SLA mode, virtual connector),
 * `fpm simulate` in closed loop (2 workers x 2 ranks by default) and one `fpm relay` per
 * simulated worker, applies a load step, and shows the engines, the planner's estimates and
 * its decisions live; after `--duration` it prints a summary and exits 0. This file holds
 * the command and its flags; demo-run.ts runs the processes, demo-state.ts is what it knows.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import { findNatsServer } from "../util/nats-server-binary.js";
import { numberOption, TIMER_SECONDS } from "../util/number-option.js";
import type { CommandContext } from "./context.js";
import { DemoRun } from "./demo-run.js";
import type { DemoSettings } from "./demo-state.js";
import { renderSummary } from "./demo-view.js";
import { EXIT } from "./exit-codes.js";

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

/** The run's settings from the flags; a bad value is a ConfigError naming the flag. */
export function demoSettings(flags: DemoFlags): DemoSettings {
  const durationS = numberOption(flags.duration, "--duration", { ...TIMER_SECONDS, min: 5, above: false });
  const workers = num(flags.workers, "--workers", 1, true);
  const stepAt = flags.stepAt !== undefined ? num(flags.stepAt, "--step-at", 0) : +(durationS * 0.2).toFixed(1);
  return {
    durationS,
    workers,
    dpRanks: num(flags.dpRanks, "--dp-ranks", 1, true),
    maxWorkers: Math.max(workers, num(flags.maxWorkers, "--max-workers", 1, true)),
    baseRate: num(flags.baseRate, "--base-rate", 0),
    stepRate: num(flags.stepRate, "--step-rate", 0),
    stepAt,
    stepUntil:
      flags.stepUntil !== undefined ? num(flags.stepUntil, "--step-until", stepAt) : +(durationS * 0.6).toFixed(1),
    intervalS: num(flags.interval, "--interval", 0.5),
    ttftMs: num(flags.ttft, "--ttft", 1),
    itlMs: num(flags.itl, "--itl", 1),
    startupDelayS: num(flags.startupDelay, "--startup-delay", 0),
    seed: num(flags.seed, "--seed", 0, true),
  };
}

function requireNatsServer(): string {
  const natsBin = findNatsServer();
  if (natsBin) return natsBin;
  throw new ConfigError(
    process.env.NATS_SERVER_BIN
      ? `NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} does not exist. ${NATS_INSTALL_HINT}`
      : NATS_INSTALL_HINT,
  );
}

async function runDemo(flags: DemoFlags, ctx: CommandContext): Promise<number> {
  const settings = demoSettings(flags);
  const natsBin = requireNatsServer();
  const logDir = flags.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "fpm-demo-"));
  fs.mkdirSync(logDir, { recursive: true });
  const live = !flags.headless && process.stdout.isTTY === true;
  const run = new DemoRun(settings, { natsBin, logDir, stateFile: flags.stateFile, live, print: ctx.stdout });
  await run.run();
  const summary = run.summary();
  if (live) process.stdout.write("\n");
  ctx.stdout(renderSummary(summary));
  if (flags.summaryJson) fs.writeFileSync(flags.summaryJson, JSON.stringify(summary, null, 2));
  const failure = run.current.failure;
  if (failure === null) return EXIT.OK;
  new Logger({ target: "fpm.demo" }).error("the demo failed", { detail: failure });
  return EXIT.FAILURE;
}
