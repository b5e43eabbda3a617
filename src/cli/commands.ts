/**
 * Every `fpm` subcommand, registered in one list. Add a command by adding its module here
 * (the names it registers and how to load it).
 *
 * Modules are loaded on demand: `fpm relay` loads only the relay's module, so the relay
 * process never carries the planner, the simulator or zod (about 14 MiB of RSS for zod
 * alone). `fpm --help`, an unknown command, or no command loads them all, so help always
 * lists every command.
 */
import type { Command } from "commander";
import type { CommandContext } from "./context.js";

export type RegisterCommands = (program: Command, ctx: CommandContext) => void;

interface CommandModule {
  /** The subcommand names the module registers. */
  names: readonly string[];
  load(): Promise<RegisterCommands>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ["decode", "encode"], load: async () => (await import("./codec-commands.js")).registerCodecCommands },
  { names: ["relay"], load: async () => (await import("./relay-command.js")).registerRelayCommand },
  { names: ["simulate"], load: async () => (await import("./simulate-command.js")).registerSimulateCommand },
  { names: ["tail"], load: async () => (await import("./tail-command.js")).registerTailCommand },
  { names: ["record"], load: async () => (await import("./record-command.js")).registerRecordCommand },
  { names: ["replay"], load: async () => (await import("./replay-command.js")).registerReplayCommand },
  { names: ["demo"], load: async () => (await import("./demo.js")).registerDemoCommand },
  { names: ["planner"], load: async () => (await import("./planner-command.js")).registerPlannerCommand },
  { names: ["evaluate"], load: async () => (await import("./evaluate-command.js")).registerEvaluateCommand },
];

/**
 * The register functions `argv` needs: the one module that defines the subcommand named
 * by the first argument, or every module when there is no such subcommand (help, version,
 * a typo that commander will report with the full list).
 */
export async function loadCommands(argv: readonly string[]): Promise<RegisterCommands[]> {
  const name = argv[2];
  const owner = COMMAND_MODULES.find((m) => name !== undefined && m.names.includes(name));
  return Promise.all((owner ? [owner] : COMMAND_MODULES).map((m) => m.load()));
}
