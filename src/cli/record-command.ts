/**
 * `fpm record`: saves the FPM stream of a namespace from NATS to NDJSON, one message per
 * line with its envelope metadata and payload bytes as hex (format: src/sim/stream-recording.ts).
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { addNatsCliOptions, connectNats, type NatsCliFlags, natsOptionsFromFlags } from "../eventplane/connection.js";
import { DEFAULT_NAMESPACE, fpmSubscriptionSubjects } from "../eventplane/subject.js";
import { recordLine } from "../sim/stream-recording.js";
import { ConfigError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { untilStopped } from "../util/stop-signal.js";
import { optionalNumberOption, TIMER_SECONDS } from "../util/number-option.js";

interface RecordFlags extends NatsCliFlags {
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
      "Record the FPM stream from NATS to NDJSON (subject, publisher_id, sequence, published_at, payload hex per line)",
    )
    .option("-o, --output <file>", "write here (default: stdout)")
    .option("--namespace <ns>", `namespace (env DYN_NAMESPACE; default ${DEFAULT_NAMESPACE}); * for all`)
    .option("--component <name>", "only this component (default: all)")
    .option("--subject <subject...>", "record these subjects instead (NATS wildcards allowed)")
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

async function runRecord(flags: RecordFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm::record" });
  const count = optionalNumberOption(flags.count, "--count", { integer: true, min: 1 }) ?? Infinity;
  const durationS = optionalNumberOption(flags.duration, "--duration", TIMER_SECONDS);
  const subjects = flags.subject ?? fpmSubscriptionSubjects({ namespace: flags.namespace, component: flags.component });
  const conn = await connectNats(natsOptionsFromFlags(flags, process.env, "fpm-record"), logger);
  let fd: number | null = null;
  if (flags.output) {
    try {
      fd = fs.openSync(flags.output, "w");
    } catch (err) {
      await conn.close();
      throw new ConfigError(`--output ${flags.output}: cannot write it (${(err as Error).message})`);
    }
  }
  let written = 0;
  let invalid = 0;
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join("\n")}\n`;
    pending = [];
    if (fd !== null) fs.writeSync(fd, text);
    else ctx.stdout(text.slice(0, -1));
  };
  const stopped = untilStopped({ durationS, logger });
  const subs = subjects.map((s) =>
    conn.nc.subscribe(s, {
      callback: (err, msg) => {
        if (err || written >= count) return;
        const line = recordLine(msg.subject, msg.data, performance.timeOrigin + performance.now());
        if (line.includes('"invalid"')) invalid++;
        pending.push(line);
        written++;
        if (pending.length >= 1024) flush();
        if (written >= count) stopped.stop("count");
      },
    }),
  );
  const flusher = setInterval(flush, 200);
  await conn.flush();
  logger.info("recording", { subjects: subjects.join(","), output: flags.output ?? "stdout" });
  await stopped.done;
  for (const s of subs) s.unsubscribe();
  clearInterval(flusher);
  flush();
  if (fd !== null) fs.closeSync(fd);
  await conn.close();
  logger.info("recorded", { messages: written, invalidEnvelopes: invalid });
  return EXIT.OK;
}
