/**
 * Runs the real `fpm` executable (bin/fpm.js -> dist) as a child process for the CLI,
 * tool, demo and ops tests: captures stdout/stderr, waits for log lines or exit, polls
 * its /health and /metrics, reads its RSS from /proc, and stops it with SIGTERM (SIGKILL
 * after a grace period).
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type LabelSelector, sumMetric } from "../../src/util/prometheus-text.js";
import { stopChild } from "./child-process.js";
import { waitFor } from "./ports.js";
import { REPO_ROOT } from "./vectors.js";

export const FPM_BIN = path.join(REPO_ROOT, "bin", "fpm.js");

export interface FpmProcessOptions {
  /** Extra environment, merged over process.env (DYN_LOG defaults to info; undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Port of its /metrics + /health, when it serves them. */
  metricsPort?: number;
}

export class FpmProcess {
  readonly proc: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;
  exitCode: number | null = null;

  constructor(
    readonly args: string[],
    readonly opts: FpmProcessOptions = {},
  ) {
    const env: Record<string, string | undefined> = { ...process.env, DYN_LOG: "info", ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    this.proc = spawn(process.execPath, [FPM_BIN, ...args], {
      cwd: REPO_ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Keep the whole output (tests search it for secrets), bounded to 8 MB.
    this.proc
      .stdout!.setEncoding("utf8")
      .on("data", (d: string) => (this.stdout = (this.stdout + d).slice(-8_000_000)));
    this.proc
      .stderr!.setEncoding("utf8")
      .on("data", (d: string) => (this.stderr = (this.stderr + d).slice(-8_000_000)));
    this.exited = new Promise((resolve) =>
      this.proc.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : 1);
        resolve(this.exitCode);
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === null && this.proc.exitCode === null;
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

  /** Waits until stderr contains `text`; fails with the output if the process exits first. */
  async waitForLog(text: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      () => this.stderr.includes(text) || this.exitCode !== null,
      timeoutMs,
      `fpm to log ${JSON.stringify(text)}`,
    );
    if (!this.stderr.includes(text))
      throw new Error(`fpm exited (${this.exitCode}) before logging ${JSON.stringify(text)}:\n${this.stderr}`);
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

  /** Its stdout's JSON lines, parsed. */
  jsonLines(): Record<string, unknown>[] {
    return this.stdout
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
    await stopChild(this.proc, graceMs);
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
