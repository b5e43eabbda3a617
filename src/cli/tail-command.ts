/**
 * `fpm tail`: a live, decoded view of the FPM stream on the event plane (NATS or ZMQ). On a
 * terminal, a table with one row per engine that updates in place; with `--json`, one JSON
 * object per message.
 */
import { type Command, Option } from "commander";
import { decodeEnvelope } from "../codec/envelope.js";
import type { EventEnvelope } from "../schema/envelope.js";
import { decodeFpm } from "../codec/fpm-decode.js";
import { addNatsCliOptions, type NatsCliFlags } from "../eventplane/connection.js";
import { openEnvelopeSource } from "../eventplane/open-source.js";
import { componentOfSubject, DEFAULT_NAMESPACE, namespaceFrom } from "../eventplane/subject.js";
import { type ForwardPassMetrics, toWireObject } from "../schema/forward-pass-metrics.js";
import { untilStopped } from "../util/stop-signal.js";
import { MAX_TIMER_MS, numberOption, optionalNumberOption, TIMER_SECONDS } from "../util/number-option.js";
import { Logger } from "../util/log.js";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { stringifyExact } from "./io.js";

interface TailFlags extends NatsCliFlags {
  eventPlane?: string;
  namespace?: string;
  component?: string;
  worker?: string[];
  json?: boolean;
  interval: string;
  count?: string;
  duration?: string;
  maxEngines: string;
}

interface EngineRow {
  component: string;
  fpm: ForwardPassMetrics;
  messages: number;
  windowMessages: number;
  lastAtMs: number;
}

export function registerTailCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("tail")
    .description(
      "Show the FPM stream on the event plane live: a table per engine updating in place, or JSON lines with --json",
    )
    .addOption(eventPlaneOption())
    .option("--namespace <ns>", `namespace (env DYN_NAMESPACE; default ${DEFAULT_NAMESPACE}); * for all (NATS only)`)
    .option("--component <name>", "only this component (default: all)")
    .option("--worker <id...>", "only these worker ids")
    .option("--json", "one JSON object per message (subject, envelope fields, decoded payload, payload hex)")
    .option("--interval <ms>", "table refresh period", "500")
    .option("--count <n>", "stop after n messages shown")
    .option("--duration <s>", "stop after s seconds")
    .option("--max-engines <n>", "most engines kept in the table; more are counted, not shown", "1000");
  addNatsCliOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  fpm tail                                  # live table of every engine in namespace dynamo
  fpm tail --component backend --worker 7587890424512 --json | jq .payload.wall_time
Columns: msgs/s, wall time of the last iteration (ms), scheduled prefill requests/tokens,
decode requests/KV tokens, queued prefill requests/tokens, queued (preempted) decodes, age.`,
  );
  cmd.action(async (flags: TailFlags) => {
    ctx.exitCode = await runTail(flags, ctx);
  });
}

/** What `fpm tail` has seen: the engines' rows, the drops by reason, and how many messages were shown. */
class TailView {
  readonly rows = new Map<string, EngineRow>();
  readonly dropped = new Map<string, number>();
  refused = 0;
  shown = 0;
  private lastDrawMs = Date.now();

  constructor(private readonly maxEngines: number) {}

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** The engine's row takes its latest message; a new engine past --max-engines is counted, not shown. */
  update(subject: string, v: ForwardPassMetrics): void {
    const key = `${subject}\u0000${v.workerId}\u0000${v.dpRank}`;
    const row = this.rows.get(key);
    if (row) {
      row.fpm = v;
      row.messages++;
      row.windowMessages++;
      row.lastAtMs = Date.now();
    } else if (this.rows.size < this.maxEngines) {
      const component = componentOfSubject(subject) || "?";
      this.rows.set(key, { component, fpm: v, messages: 1, windowMessages: 1, lastAtMs: Date.now() });
    } else {
      this.refused++;
    }
  }

  /** The table since the last one; message rates are over the time between them. */
  table(): string {
    const now = Date.now();
    const windowS = (now - this.lastDrawMs) / 1000;
    const text = renderEngineTable([...this.rows.values()], windowS, now, {
      dropped: this.dropped,
      refused: this.refused,
    });
    this.lastDrawMs = now;
    for (const r of this.rows.values()) r.windowMessages = 0;
    return text;
  }
}

/** One `--json` line: the subject, the envelope's fields and the decoded payload. */
function tailJsonLine(subject: string, env: EventEnvelope, v: ForwardPassMetrics): string {
  return stringifyExact({
    subject,
    publisher_id: env.publisherId.toString(),
    sequence: env.sequence,
    published_at: env.publishedAtMs,
    payload: toWireObject(v),
    payload_hex: Buffer.from(env.payload).toString("hex"),
  });
}

/** The decoded message, or null when it was dropped (counted by reason, logged rate-limited). */
function decodeTailMessage(
  subject: string,
  data: Uint8Array,
  view: TailView,
  logger: Logger,
): { env: EventEnvelope; fpm: ForwardPassMetrics } | null {
  const env = decodeEnvelope(data);
  if (!env.ok) {
    view.drop(`envelope_${env.reason}`);
    const fields = { subject, reason: env.reason, detail: env.detail };
    logger.limited("bad-envelope", "warn", "dropped a malformed envelope", fields);
    return null;
  }
  const fpm = decodeFpm(env.value.payload);
  if (!fpm.ok) {
    view.drop(fpm.reason);
    const fields = { subject, reason: fpm.reason, detail: fpm.detail };
    logger.limited("bad-payload", "warn", "dropped a malformed payload", fields);
    return null;
  }
  return { env: env.value, fpm: fpm.value };
}

async function runTail(flags: TailFlags, ctx: CommandContext): Promise<number> {
  const logger = new Logger({ target: "fpm.tail" });
  const count = optionalNumberOption(flags.count, "--count", { integer: true, min: 1 }) ?? Infinity;
  const durationS = optionalNumberOption(flags.duration, "--duration", TIMER_SECONDS);
  const intervalMs = numberOption(flags.interval, "--interval", { min: 50, max: MAX_TIMER_MS });
  const view = new TailView(numberOption(flags.maxEngines, "--max-engines", { integer: true, min: 1 }));
  const workers = flags.worker ? new Set(flags.worker) : null;
  const { source } = await openEnvelopeSource({
    flags,
    namespace: namespaceFrom(flags.namespace),
    components: flags.component ? [flags.component] : [],
    natsName: "fpm-tail",
    logger,
  });
  const stopped = untilStopped({ durationS, logger });
  const onMessage = (subject: string, data: Uint8Array) => {
    if (view.shown >= count) return;
    const m = decodeTailMessage(subject, data, view, logger);
    if (!m || (workers && !workers.has(m.fpm.workerId))) return;
    view.shown++;
    if (flags.json) ctx.stdout(tailJsonLine(subject, m.env, m.fpm));
    else view.update(subject, m.fpm);
    if (view.shown >= count) stopped.stop("count");
  };
  try {
    await source.start({
      envelope: onMessage,
      dropped: (reason, detail) => {
        view.drop(reason);
        logger.limited(`bad-${reason}`, "warn", "dropped a malformed ZMQ message", { reason, detail });
      },
    });
  } catch (err) {
    await source.stop();
    throw err;
  }
  logger.info("tailing", { from: source.describe() });
  const tty = !flags.json && process.stdout.isTTY === true;
  // In place on a terminal (home + clear to end); a plain snapshot per period otherwise.
  const draw = () => (tty ? process.stdout.write(`\x1b[H\x1b[2J${view.table()}\n`) : ctx.stdout(`${view.table()}\n`));
  const timer = flags.json ? null : setInterval(draw, intervalMs);
  await stopped.done;
  if (timer) clearInterval(timer);
  if (!flags.json) draw();
  await source.stop();
  return EXIT.OK;
}

/** `--event-plane`, shared by the commands that read the plane. */
export function eventPlaneOption(): Option {
  return new Option(
    "--event-plane <plane>",
    "nats or zmq (env DYN_EVENT_PLANE; unset: zmq when a discovery backend is configured, else nats)",
  ).choices(["nats", "zmq"]);
}

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  if (t.length >= n) return t.slice(0, n);
  return left ? t.padEnd(n) : t.padStart(n);
}

/** The per-engine table of `fpm tail` (and the demo's live view). */
export function renderEngineTable(
  rows: EngineRow[],
  windowS: number,
  nowMs: number,
  extra: { dropped: Map<string, number>; refused: number },
): string {
  const header = `${pad("component", 10, true)} ${pad("worker", 18, true)} ${pad("rank", 4)} ${pad("counter", 8)} ${pad("msg/s", 6)} ${pad("wall ms", 8)} ${pad("pf req", 6)} ${pad("pf tok", 7)} ${pad("dec req", 7)} ${pad("dec kv", 8)} ${pad("q pf", 5)} ${pad("q tok", 7)} ${pad("q dec", 5)} ${pad("age s", 6)}`;
  const lines = [header];
  rows.sort(
    (a, b) =>
      a.component.localeCompare(b.component) ||
      a.fpm.workerId.localeCompare(b.fpm.workerId) ||
      a.fpm.dpRank - b.fpm.dpRank,
  );
  for (const r of rows) {
    const f = r.fpm;
    const s = f.scheduledRequests;
    const q = f.queuedRequests;
    lines.push(
      `${pad(r.component, 10, true)} ${pad(f.workerId, 18, true)} ${pad(f.dpRank, 4)} ${pad(f.counterId, 8)} ${pad((r.windowMessages / Math.max(windowS, 1e-3)).toFixed(0), 6)} ${pad(f.wallTimeS === 0 ? "idle" : (f.wallTimeS * 1000).toFixed(2), 8)} ${pad(s.numPrefillRequests, 6)} ${pad(s.sumPrefillTokens, 7)} ${pad(s.numDecodeRequests, 7)} ${pad(s.sumDecodeKvTokens, 8)} ${pad(q.numPrefillRequests, 5)} ${pad(q.sumPrefillTokens, 7)} ${pad(q.numDecodeRequests, 5)} ${pad(((nowMs - r.lastAtMs) / 1000).toFixed(1), 6)}`,
    );
  }
  if (rows.length === 0) lines.push("(no FPM yet)");
  const drops = [...extra.dropped.entries()].map(([k, v]) => `${k}=${v}`).join(" ");
  if (drops || extra.refused)
    lines.push(
      `dropped: ${drops || "none"}${extra.refused ? `; engines not shown (table full): ${extra.refused}` : ""}`,
    );
  return lines.join("\n");
}
