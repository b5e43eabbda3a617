/**
 * Child processes for the demo, the benchmarks and the test harnesses: one way to start a
 * program (arguments as an array, never shell text), follow its output line by line or
 * keep a bounded copy of it, wait for a line, and stop it (SIGTERM, SIGKILL after a grace
 * period; the whole process group when it has its own). A `ProcessRegistry` stops every
 * process it started, in reverse order, and kills what is left if this process exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { LineSplitter } from "./line-splitter.js";

/** What becomes of a stream of the child: read here (`pipe`), shared with ours (`inherit`) or dropped. */
export type ChildStdio = "pipe" | "inherit" | "ignore";

/** Stderr lines kept for error messages, by default. */
export const DEFAULT_KEEP_STDERR_LINES = 40;
/** How long `waitForLine` waits, by default (ms). */
export const DEFAULT_WAIT_FOR_LINE_MS = 20_000;

export interface ManagedProcessOptions {
  /** Short name for logs, summaries and errors (`relay-1`, `planner`). */
  name: string;
  command: string;
  args: readonly string[];
  /** Merged over this process's environment; a variable set to `undefined` is removed. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start from `env` alone instead of this process's environment. Default false. */
  replaceEnv?: boolean;
  cwd?: string;
  /** A process group of its own, so that `stop()` reaches everything it started. Default false. */
  ownProcessGroup?: boolean;
  /** Default `pipe` (read here). */
  stdout?: ChildStdio;
  /** Default `pipe` (read here). */
  stderr?: ChildStdio;
  /** An IPC channel: a child can exit when it closes (`process.on("disconnect")`). Default false. */
  ipc?: boolean;
  /** Called with each complete stdout line; a throwing callback is ignored. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line; a throwing callback is ignored. */
  onStderrLine?: (line: string) => void;
  /** Keep the last this many characters of stdout and of stderr (`stdoutText`, `stderrText`). Default 0: none. */
  keepOutputChars?: number;
  /** Append every stderr chunk to this file (the process's log). */
  logPath?: string;
  /** Stderr lines kept for error messages (`recentStderr()`). Default DEFAULT_KEEP_STDERR_LINES (40). */
  keepStderrLines?: number;
}

/** Longest partial line held while waiting for its newline. */
const MAX_LINE = 1_000_000;

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it or it never started). */
  readonly exited: Promise<number | null>;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  /** The error that kept it from starting (for example ENOENT), if any. */
  spawnError: Error | null = null;
  stdoutText = "";
  stderrText = "";
  private readonly stderrTail: string[] = [];
  private logFd: number | null = null;

  constructor(readonly opts: ManagedProcessOptions) {
    this.name = opts.name;
    if (opts.logPath) this.logFd = fs.openSync(opts.logPath, "a");
    const stdio: ("pipe" | "inherit" | "ignore" | "ipc")[] = ["ignore", opts.stdout ?? "pipe", opts.stderr ?? "pipe"];
    if (opts.ipc) stdio.push("ipc");
    this.child = spawn(opts.command, opts.args, {
      env: childEnv(opts),
      cwd: opts.cwd,
      stdio,
      detached: opts.ownProcessGroup ?? false,
    });
    this.follow();
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        this.closeLog();
        resolve(code);
      });
      this.child.once("error", (err) => {
        this.spawnError = err;
        this.closeLog();
        resolve(null);
      });
    });
  }

  private follow(): void {
    const keep = this.opts.keepOutputChars ?? 0;
    const out = new LineSplitter(MAX_LINE);
    this.child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      if (keep > 0) this.stdoutText = (this.stdoutText + d).slice(-keep);
      if (this.opts.onStdoutLine) for (const line of out.push(d)) callSafely(this.opts.onStdoutLine, line);
    });
    const err = new LineSplitter(MAX_LINE);
    const keepLines = this.opts.keepStderrLines ?? DEFAULT_KEEP_STDERR_LINES;
    this.child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      if (this.logFd !== null) fs.writeSync(this.logFd, d);
      if (keep > 0) this.stderrText = (this.stderrText + d).slice(-keep);
      for (const line of err.push(d)) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > keepLines) this.stderrTail.shift();
        if (this.opts.onStderrLine) callSafely(this.opts.onStderrLine, line);
      }
    });
  }

  private closeLog(): void {
    if (this.logFd !== null) fs.closeSync(this.logFd);
    this.logFd = null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Started and not yet exited. */
  get running(): boolean {
    return this.child.pid !== undefined && !hasExited(this.child) && this.spawnError === null;
  }

  /** The last stderr lines (`keepStderrLines`), for error messages. */
  recentStderr(): string {
    return this.stderrTail.join("\n");
  }

  /**
   * Waits until a complete line of the kept output (`keepOutputChars`) matches, and returns it.
   * Fails when the process exits first or `timeoutMs` (default DEFAULT_WAIT_FOR_LINE_MS) passes, with its recent stderr.
   */
  async waitForLine(
    match: RegExp | string,
    opts: { stream?: "stdout" | "stderr"; timeoutMs?: number } = {},
  ): Promise<string> {
    const stream = opts.stream ?? "stdout";
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_FOR_LINE_MS;
    const test = typeof match === "string" ? (l: string) => l.includes(match) : (l: string) => match.test(l);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.keptLines(stream).find(test);
      if (found !== undefined) return found;
      const why = !this.running ? `exited (${this.exitCode ?? this.signal})` : Date.now() > deadline ? "timed out" : "";
      if (why)
        throw new Error(
          `${this.name} ${why} before printing ${String(match)} on ${stream} (${timeoutMs} ms):\n${this.recentStderr()}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Complete lines of the kept output: not the one still being written, nor one cut by the bound. */
  private keptLines(stream: "stdout" | "stderr"): string[] {
    const text = stream === "stdout" ? this.stdoutText : this.stderrText;
    const lines = text.split("\n");
    lines.pop();
    if (text.length >= (this.opts.keepOutputChars ?? 0)) lines.shift();
    return lines;
  }

  /** Sends `signal` to the process (its group when it has one). */
  kill(signal: NodeJS.Signals): void {
    if (this.opts.ownProcessGroup) killGroup(this.child, signal);
    else if (!hasExited(this.child)) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; with its own group, whatever is left in it goes too. */
  async stop(graceMs = 6000): Promise<void> {
    if (this.running) {
      this.kill("SIGTERM");
      const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.opts.ownProcessGroup) killGroup(this.child, "SIGKILL");
  }

  /** Synchronous last resort (a process "exit" handler). */
  killNow(): void {
    this.kill("SIGKILL");
  }
}

function childEnv(opts: ManagedProcessOptions): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...(opts.replaceEnv ? {} : process.env), ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env as NodeJS.ProcessEnv;
}

function callSafely(fn: (line: string) => void, line: string): void {
  try {
    fn(line);
  } catch {
    // A consumer bug must not take the orchestrator down with it.
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Whether a process with this id exists (signal 0 probes without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True once the child has exited, by itself or by a signal. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. A child that
 * already died (its exit code or the signal that ended it is set) resolves at once,
 * rather than waiting for an "exit" event that has already been emitted.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Every process started through it. `stopAll` stops them in reverse start order, the
 * processes named in `lastNames` (servers their clients need) after the others; anything
 * still running when this process exits is killed.
 */
export class ProcessRegistry {
  private readonly procs: ManagedProcess[] = [];
  private readonly onExit = () => this.killAllNow();

  constructor(private readonly lastNames: readonly string[] = ["nats-server"]) {
    process.on("exit", this.onExit);
  }

  start(opts: ManagedProcessOptions): ManagedProcess {
    const p = new ManagedProcess(opts);
    this.procs.push(p);
    return p;
  }

  all(): readonly ManagedProcess[] {
    return this.procs;
  }

  async stopAll(except: (p: ManagedProcess) => boolean = () => false, graceMs?: number): Promise<void> {
    const order = [...this.procs].reverse().filter((p) => !except(p));
    const last = (p: ManagedProcess) => this.lastNames.includes(p.name);
    await Promise.all(order.filter((p) => !last(p)).map((p) => p.stop(graceMs)));
    await Promise.all(order.filter(last).map((p) => p.stop(graceMs)));
  }

  killAllNow(): void {
    for (const p of this.procs) p.killNow();
  }

  /** Stops watching this process's exit (after `stopAll`). */
  dispose(): void {
    process.off("exit", this.onExit);
  }
}
