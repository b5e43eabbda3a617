/**
 * Every `fpm` subcommand, registered in one list. Add a command by adding its register
 * function here (one line per module).
 */
import type { Command } from "commander";
import { registerCodecCommands } from "./codec-commands.js";
import { registerRelayCommand } from "./relay-command.js";
import type { CommandContext } from "./context.js";
import { registerSimulateCommand } from "./simulate-command.js";
import { registerTailCommand } from "./tail-command.js";
import { registerRecordCommand } from "./record-command.js";
import { registerReplayCommand } from "./replay-command.js";
import { registerDemoCommand } from "./demo.js";
import { registerPlannerCommand } from "./planner-command.js";

export type RegisterCommands = (program: Command, ctx: CommandContext) => void;

export const COMMANDS: RegisterCommands[] = [
  registerCodecCommands,
  registerRelayCommand,
  registerSimulateCommand,
  registerTailCommand,
  registerRecordCommand,
  registerReplayCommand,
  registerDemoCommand,
  registerPlannerCommand,
];
