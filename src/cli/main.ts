/** The `fpm` executable: one program, one subcommand per job. */
import { Command, CommanderError } from "commander";
import { type RegisterCommands, loadCommands } from "./commands.js";
import { type CommandContext, processContext } from "./context.js";
import { EXIT, EXIT_CODES_HELP } from "./exit-codes.js";
import { ConfigError, DiscoveryConnectError, NatsConnectError, UsageError } from "../util/errors.js";
import { PACKAGE_VERSION } from "../util/version.js";

export function buildProgram(ctx: CommandContext, commands: readonly RegisterCommands[]): Command {
  const program = new Command("fpm")
    .description(
      "Forward Pass Metrics: engine ZMQ -> relay -> NATS event plane -> subscriber -> load-adjusting planner",
    )
    .version(PACKAGE_VERSION)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText("after", EXIT_CODES_HELP);
  for (const register of commands) register(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride().addHelpText("after", EXIT_CODES_HELP);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], ctx: CommandContext = processContext()): Promise<number> {
  try {
    const program = buildProgram(ctx, await loadCommands(argv));
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything commander rejects is usage.
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version")
        return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof ConfigError) {
      ctx.stderr(`fpm: configuration error: ${err.message}`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      ctx.stderr(`fpm: ${err.message}`);
      return EXIT.USAGE;
    }
    if (err instanceof NatsConnectError || err instanceof DiscoveryConnectError) {
      ctx.stderr(`fpm: ${err.message}`);
      return EXIT.NATS_CONNECT;
    }
    ctx.stderr(`fpm: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.FAILURE;
  }
}
