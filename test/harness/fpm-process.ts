/**
 * Runs the real `fpm` executable (bin/fpm.js -> dist) as a child process for the CLI,
 * tool, demo and ops tests, on the shared ManagedProcess: keeps its stdout/stderr, waits
 * for log lines or exit, polls its /health and /metrics, reads its RSS from /proc, and
 * stops it with SIGTERM (SIGKILL after a grace period).
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ManagedProcess } from "../../src/util/child-process.js";
import { type LabelSelector, sumMetric } from "../../src/util/prometheus-text.js";
import { waitFor } from "./ports.js";
import { REPO_ROOT } from "./vectors.js";

export const FPM_BIN = path.join(REPO_ROOT, "bin", "fpm.js");

/** Output kept per stream (tests search all of it for secrets). */
const KEEP_OUTPUT_CHARS = 8_000_000;

export interface FpmProcessOptions {
  /** Extra environment, merged over process.env (DYN_LOG defaults to info; undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Port of its /metrics + /health, when it serves them. */
  metricsPort?: number;
}

export class FpmProcess {
  readonly managed: ManagedProcess;
  /** Resolves with the exit code; 128 when a signal ended it. */
  readonly exited: Promise<number>;
  exitCode: number | null = null;

  constructor(
    readonly args: string[],
    readonly opts: FpmProcessOptions = {},
  ) {
    this.managed = new ManagedProcess({
      name: `fpm ${args[0] ?? ""}`.trim(),
      command: process.execPath,
      args: [FPM_BIN, ...args],
      cwd: REPO_ROOT,
      env: { DYN_LOG: "info", ...opts.env },
      keepOutputChars: KEEP_OUTPUT_CHARS,
    });
    this.exited = this.managed.exited.then((code) => {
      this.exitCode = code ?? (this.managed.signal ? 128 : 1);
      return this.exitCode;
    });
  }

  get proc(): ChildProcess {
    return this.managed.child;
  }

  get stdout(): string {
    return this.managed.stdoutText;
  }

  get stderr(): string {
    return this.managed.stderrText;
  }

  get running(): boolean {
    return this.managed.running;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  private base(): string {
    if (!this.opts.metricsPort) throw new Error(`fpm ${this.args[0]}: no metricsPort given`);
    return `http://127.0.0.1:${this.opts.metricsPort}`;
  }

  /** GET a path of its metrics server; null while it does not answer. */
  async get(p: string): Promise<{ status: number; body: string } | null> {
    try {
      const res = await fetch(this.base() + p);
      return { status: res.status, body: await res.text() };
    } catch {
      return null;
    }
  }

  /** Waits until a stderr line contains `text`; fails with the output if the process exits first. */
  async waitForLog(text: string, timeoutMs = 20_000): Promise<void> {
    await this.managed.waitForLine(text, { stream: "stderr", timeoutMs });
  }

  /** Waits for the process to exit by itself; resolves to its exit code. */
  async wait(timeoutMs = 30_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`fpm did not exit within ${timeoutMs} ms:\n${this.stderr}`)),
          timeoutMs,
        )),
    );
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Its stdout's JSON lines, parsed; while it runs, only the lines it has finished writing. */
  jsonLines(): Record<string, unknown>[] {
    const out = this.stdout;
    return (this.running ? out.slice(0, out.lastIndexOf("\n") + 1) : out)
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l));
  }

  /** Waits until /health answers 200; fails early with the output if the process exits. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running)
          throw new Error(`fpm ${this.args.join(" ")} exited with ${this.exitCode}:\n${this.output.slice(-4000)}`);
        return (await this.get("/health"))?.status === 200;
      },
      timeoutMs,
      `fpm ${this.args[0]} /health 200`,
    );
  }

  /** Sum of every sample of a metric (optionally only those with the labels of `selector`, e.g. `reason="decode"`); NaN while /metrics does not answer. */
  async metricSum(name: string, selector: LabelSelector = {}): Promise<number> {
    const r = await this.get("/metrics");
    if (!r) return NaN;
    return sumMetric(r.body, name, selector);
  }

  /** Resident set size in bytes, from /proc (Linux). */
  rssBytes(): number {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, "utf8");
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    } catch {
      return NaN;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code. */
  async stop(graceMs = 8000): Promise<number> {
    await this.managed.stop(graceMs);
    return this.exited;
  }
}

/** Runs `fpm args` to completion (for --help and start-up failures); kills it after `timeoutMs`. */
export async function runFpm(
  args: string[],
  opts: FpmProcessOptions = {},
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = new FpmProcess(args, opts);
  const timer = setTimeout(() => p.proc.kill("SIGKILL"), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
