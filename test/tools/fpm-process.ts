/** Runs `fpm <args>` as a real child process (bin/fpm.js) for the stream-tool and demo tests. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "../harness/ports.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const FPM_BIN = path.join(ROOT, "bin", "fpm.js");

export class FpmProcess {
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  readonly proc: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [FPM_BIN, ...args], { env: { ...process.env, DYN_LOG: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    this.proc.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr = (this.stderr + d).slice(-200_000)));
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, sig) => resolve((this.exitCode = code ?? (sig ? 128 : 1)))));
  }

  /** Waits until stderr contains `text`. */
  async waitForLog(text: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(() => this.stderr.includes(text) || this.exitCode !== null, timeoutMs, `fpm to log ${JSON.stringify(text)}`);
    if (!this.stderr.includes(text)) throw new Error(`fpm exited (${this.exitCode}) before logging ${JSON.stringify(text)}:\n${this.stderr}`);
  }

  async wait(timeoutMs = 30_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, reject) => (timer = setTimeout(() => reject(new Error(`fpm did not exit within ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it is still there after 5 s. */
  async stop(): Promise<void> {
    if (this.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }

  jsonLines(): Record<string, unknown>[] {
    return this.stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
  }
}
