/**
 * Logging as Dynamo does it: level from DYN_LOG (error, warn, info, debug, trace; default
 * info), text lines or one JSON object per line when DYN_LOGGING_JSONL=true, on stderr.
 * `limited()` bounds a flood (for example of malformed messages) to a few lines per window
 * and reports how many it suppressed. One vocabulary everywhere: targets are
 * `fpm.<command or component>[.<part>]` (`fpm.relay`, `fpm.relay.nats`, `fpm.planner.connector`),
 * field names snake_case like the wire names and the Prometheus labels (`dp_rank`,
 * `publisher_id`, `retry_in_ms`); test/util/log-vocabulary.test.ts checks real runs.
 */

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export type LogFields = Record<string, unknown>;

/** Lines `limited()` lets through per key and window, and the window (ms), by default. */
export const DEFAULT_LOG_LIMIT_PER_WINDOW = 5;
export const DEFAULT_LOG_LIMIT_WINDOW_MS = 10_000;

export interface LoggerOptions {
  /** Component name shown on every line (`target` in JSON): `fpm.<command or component>`. */
  target: string;
  /** Default: from DYN_LOG, else info. */
  level?: LogLevel;
  /** Default: DYN_LOGGING_JSONL === "true". */
  json?: boolean;
  /** Default: process.stderr. */
  sink?: (line: string) => void;
  /** Lines allowed per key and window by `limited()`. Default DEFAULT_LOG_LIMIT_PER_WINDOW (5). */
  limitPerWindow?: number;
  /** Window of `limited()` in ms. Default DEFAULT_LOG_LIMIT_WINDOW_MS (10000). */
  limitWindowMs?: number;
}

/** Parses DYN_LOG: a bare level, or a Rust-style filter whose first bare word is the level. */
export function levelFromEnv(value: string | undefined): LogLevel {
  if (!value) return "info";
  for (const part of value.split(",")) {
    const word = part.trim().toLowerCase();
    if (word in ORDER) return word as LogLevel;
  }
  return "info";
}

interface LimitState {
  windowStart: number;
  count: number;
  suppressed: number;
}

/** At most this many distinct keys are rate-limited separately; beyond it they share one. */
const MAX_LIMIT_KEYS = 256;

export class Logger {
  readonly target: string;
  readonly level: LogLevel;
  readonly json: boolean;
  private readonly sink: (line: string) => void;
  private readonly limitPerWindow: number;
  private readonly limitWindowMs: number;
  private readonly limits = new Map<string, LimitState>();

  constructor(opts: LoggerOptions) {
    this.target = opts.target;
    this.level = opts.level ?? levelFromEnv(process.env.DYN_LOG);
    this.json = opts.json ?? process.env.DYN_LOGGING_JSONL?.toLowerCase() === "true";
    this.sink = opts.sink ?? ((line) => process.stderr.write(`${line}\n`));
    this.limitPerWindow = opts.limitPerWindow ?? DEFAULT_LOG_LIMIT_PER_WINDOW;
    this.limitWindowMs = opts.limitWindowMs ?? DEFAULT_LOG_LIMIT_WINDOW_MS;
  }

  /** A logger for a part of this one: target `<this target>.<part>`, the same level, format, sink and limits. */
  child(part: string): Logger {
    return new Logger({
      target: `${this.target}.${part}`,
      level: this.level,
      json: this.json,
      sink: this.sink,
      limitPerWindow: this.limitPerWindow,
      limitWindowMs: this.limitWindowMs,
    });
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] <= ORDER[this.level];
  }

  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  trace(msg: string, fields?: LogFields): void {
    this.log("trace", msg, fields);
  }

  /** Logs at most `limitPerWindow` lines per `key` per window; the next line says how many were suppressed. */
  limited(key: string, level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const now = Date.now();
    if (!this.limits.has(key) && this.limits.size >= MAX_LIMIT_KEYS) key = "(other)";
    let st = this.limits.get(key);
    if (!st) {
      st = { windowStart: now, count: 0, suppressed: 0 };
      this.limits.set(key, st);
    }
    if (now - st.windowStart >= this.limitWindowMs) {
      const suppressed = st.suppressed;
      st.windowStart = now;
      st.count = 0;
      st.suppressed = 0;
      if (suppressed > 0) fields = { ...fields, suppressed };
    }
    if (st.count >= this.limitPerWindow) {
      st.suppressed++;
      return;
    }
    st.count++;
    this.log(level, msg, fields);
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    if (this.json) {
      const line = { time, level: level.toUpperCase(), target: this.target, message: msg, ...fields };
      // A field may not pass for the line's own keys (a `target` field once hid the logger's target).
      Object.assign(line, { time, level: level.toUpperCase(), target: this.target, message: msg });
      this.sink(JSON.stringify(line, jsonSafe));
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${this.target}: ${msg}`;
    if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${formatValue(v)}`;
    this.sink(line);
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v, jsonSafe) ?? String(v);
}
