/**
 * Child processes of `fpm demo` (and the end-to-end benchmark), each in its own process
 * group so that stopping it stops everything it started, and a registry that stops them
 * all on exit, on Ctrl-C, or if the orchestrator itself fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { LineSplitter } from "../util/line-splitter.js";

export interface ManagedProcessOptions {
  /** Short name for logs and summaries (`relay-1`, `planner`). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Called with each complete stdout line. */
  onStdoutLine?: (line: string) => void;
  /** Every stderr line is appended here (the process's log file). */
  logPath?: string;
  /** Stderr lines kept in memory for error messages. Default 40. */
  keepStderrLines?: number;
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  private readonly stderrTail: string[] = [];
  private logFd: number | null = null;

  constructor(readonly opts: ManagedProcessOptions) {
    this.name = opts.name;
    if (opts.logPath) this.logFd = fs.openSync(opts.logPath, "a");
    // detached: a new process group, so a group kill reaches grandchildren too.
    this.child = spawn(opts.command, opts.args, {
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out = new LineSplitter(1_000_000);
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      for (const line of out.push(d)) {
        try {
          opts.onStdoutLine?.(line);
        } catch {
          // A consumer bug must not take the orchestrator down with it.
        }
      }
    });
    const err = new LineSplitter(100_000);
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      if (this.logFd !== null) fs.writeSync(this.logFd, d);
      for (const line of err.push(d)) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > (opts.keepStderrLines ?? 40)) this.stderrTail.shift();
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        if (this.logFd !== null) fs.closeSync(this.logFd);
        this.logFd = null;
        resolve(code);
      });
      this.child.once("error", () => resolve(null));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === null && this.signal === null && this.child.pid !== undefined;
  }

  recentStderr(): string {
    return this.stderrTail.join("\n");
  }

  /** SIGTERM to the whole group; SIGKILL to it after `timeoutMs`. */
  async stop(timeoutMs = 6000): Promise<void> {
    if (!this.running) return;
    this.killGroup("SIGTERM");
    const timer = setTimeout(() => this.killGroup("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    // Anything the child left in its group goes too.
    this.killGroup("SIGKILL");
  }

  /** Synchronous last resort (process "exit" handler). */
  killNow(): void {
    this.killGroup("SIGKILL");
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }
}

/** Every process started; `stopAll` in reverse start order (consumers before the server). */
export class ProcessRegistry {
  private readonly procs: ManagedProcess[] = [];
  private readonly onExit = () => this.killAllNow();

  constructor() {
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

  async stopAll(except: (p: ManagedProcess) => boolean = () => false): Promise<void> {
    const order = [...this.procs].reverse().filter((p) => !except(p));
    await Promise.all(order.filter((p) => p.name !== "nats-server").map((p) => p.stop()));
    await Promise.all(order.filter((p) => p.name === "nats-server").map((p) => p.stop()));
  }

  killAllNow(): void {
    for (const p of this.procs) p.killNow();
  }

  dispose(): void {
    process.off("exit", this.onExit);
  }
}
