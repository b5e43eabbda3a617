/**
 * `fpm record`: saves the FPM stream of a namespace from the event plane (NATS or ZMQ) to
 * NDJSON, one message per line with its envelope metadata and payload bytes as hex (format:
 * src/recording/stream-recording.ts). ZMQ messages are recorded under their scope's NATS subject.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { addNatsCliOptions, type NatsCliFlags } from "../eventplane/connection.js";
import { openEnvelopeSource } from "../eventplane/open-source.js";
import { DEFAULT_NAMESPACE, namespaceFrom } from "../eventplane/subject.js";
import { recordLine } from "../recording/stream-recording.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { untilStopped } from "../util/stop-signal.js";
import { optionalNumberOption, TIMER_SECONDS } from "../util/number-option.js";
import { eventPlaneOption } from "./tail-command.js";

interface RecordFlags extends NatsCliFlags {
  eventPlane?: string;
  output?: string;
  namespace?: string;
  component?: string;
  subject?: string[];
  count?: string;
  duration?: string;
}

export function registerRecordCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("record")
    .description(
      "Record the FPM stream from the event plane to NDJSON (subject, publisher_id, sequence, published_at, payload hex per line)",
    )
    .addOption(eventPlaneOption())
    .option("-o, --output <file>", "write here (default: stdout)")
    .option("--namespace <ns>", `namespace (env DYN_NAMESPACE; default ${DEFAULT_NAMESPACE}); * for all`)
    .option("--component <name>", "only this component (default: all)")
    .option("--subject <subject...>", "NATS plane: record these subjects instead (wildcards allowed)")
    .option("--count <n>", "stop after n messages")
    .option("--duration <s>", "stop after s seconds");
  addNatsCliOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  fpm record -o fpm.ndjson --duration 600
  fpm record --component backend --count 1000 > sample.ndjson
Stops on SIGINT/SIGTERM, --count or --duration, then prints how many messages it wrote on stderr.`,
  );
  cmd.action(async (flags: RecordFlags) => {
    ctx.exitCode = await runRecord(flags, ctx);
  });
}

/** The recording's lines, written in batches to --output (created or truncated) or stdout. */
function openRecordOutput(output: string | undefined, ctx: CommandContext) {
  let fd: number | null = null;
  if (output) {
    try {
      fd = fs.openSync(output, "w");
    } catch (err) {
      throw new ConfigError(`--output ${output}: cannot write it (${(err as Error).message})`);
    }
  }
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join("\n")}\n`;
    pending = [];
    if (fd !== null) fs.writeSync(fd, text);
    else ctx.stdout(text.slice(0, -1));
  };
  return {
    flush,
    push: (line: string) => {
      pending.push(line);
      if (pending.length >= 1024) flush();
    },
    close: () => {
      flush();
      if (fd !== null) fs.closeSync(fd);
    },
  };
}

async function runRecord(flags: RecordFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm.record" });
  const count = optionalNumberOption(flags.count, "--count", { integer: true, min: 1 }) ?? Infinity;
  const durationS = optionalNumberOption(flags.duration, "--duration", TIMER_SECONDS);
  const out = openRecordOutput(flags.output, ctx);
  const { source, choice } = await openEnvelopeSource({
    flags,
    namespace: namespaceFrom(flags.namespace),
    components: flags.component ? [flags.component] : [],
    subjects: flags.subject,
    natsName: "fpm-record",
    logger,
  });
  if (flags.subject && choice.plane === "zmq") {
    await source.stop();
    throw new ConfigError("--subject picks NATS subjects: on the ZMQ plane use --namespace and --component");
  }
  let written = 0;
  let invalid = 0;
  const stopped = untilStopped({ durationS, logger });
  let frameDrops = 0;
  try {
    await source.start({
      envelope: (subject, data) => {
        if (written >= count) return;
        const line = recordLine(subject, data, performance.timeOrigin + performance.now());
        if (line.includes('"invalid"')) invalid++;
        out.push(line);
        written++;
        if (written >= count) stopped.stop("count");
      },
      dropped: (reason, detail) => {
        frameDrops++;
        logger.limited(`bad-${reason}`, "warn", "dropped a malformed ZMQ message", { reason, detail });
      },
    });
  } catch (err) {
    await source.stop();
    throw err;
  }
  const flusher = setInterval(out.flush, 200);
  logger.info("recording", { from: source.describe(), output: flags.output ?? "stdout" });
  await stopped.done;
  clearInterval(flusher);
  await source.stop();
  out.close();
  logger.info("recorded", { messages: written, invalid_envelopes: invalid, dropped_frames: frameDrops });
  return EXIT.OK;
}
