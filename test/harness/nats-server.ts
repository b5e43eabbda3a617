/**
 * A real nats-server per test: free loopback port, own temp dir and config, stopped at the
 * end. `restart()` keeps the port so clients can reconnect. Extra config (auth, TLS,
 * cluster) is passed as nats-server config text.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { canConnect } from "../../src/util/ports.js";
import { findNatsServer } from "../../src/util/nats-server-binary.js";
import { ManagedProcess } from "../../src/util/child-process.js";
import { freePort, sleep } from "./ports.js";

export interface NatsServerOptions {
  /** Extra nats-server config text appended to the generated config. */
  config?: string;
  /** Fixed client port (default: a free one). */
  port?: number;
  /** Extra command-line arguments. */
  args?: string[];
}

export function natsServerBinary(): string {
  const bin = findNatsServer();
  if (!bin)
    throw new Error(
      "nats-server not found: run `npm run setup` (installs Debian's nats-server) or set NATS_SERVER_BIN",
    );
  return bin;
}

export class NatsServer {
  readonly dir: string;
  port = 0;
  private proc: ManagedProcess | null = null;
  /** The latest process started, kept after stop for `output`. */
  private latest: ManagedProcess | null = null;

  private constructor(private readonly opts: NatsServerOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-nats-"));
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const s = new NatsServer(opts);
    s.port = opts.port ?? (await freePort());
    await s.launch();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** What the server printed (the last 20,000 characters of each stream). */
  get output(): string {
    return this.latest ? this.latest.stdoutText + this.latest.stderrText : "";
  }

  private async launch(): Promise<void> {
    const conf = path.join(this.dir, "nats.conf");
    fs.writeFileSync(conf, `listen: 127.0.0.1:${this.port}\n${this.opts.config ?? ""}\n`);
    const proc = new ManagedProcess({
      name: "nats-server",
      command: natsServerBinary(),
      args: ["-c", conf, ...(this.opts.args ?? [])],
      keepOutputChars: 20_000,
    });
    this.proc = proc;
    this.latest = proc;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!proc.running) throw new Error(`nats-server exited with ${proc.exitCode}:\n${this.output}`);
      if (await canConnect(this.port)) return;
      await sleep(25);
    }
    throw new Error(`nats-server did not listen on ${this.port} within 10 s:\n${this.output}`);
  }

  /** SIGSTOP: the server stops reading while its TCP connections stay up, as on a hung host. */
  freeze(): void {
    this.running().kill("SIGSTOP");
  }

  /** SIGCONT: a frozen server goes on where it stopped. */
  thaw(): void {
    this.running().kill("SIGCONT");
  }

  private running(): ManagedProcess {
    if (!this.proc?.running) throw new Error("nats-server is not running");
    return this.proc;
  }

  /** SIGKILL (frozen or not) and wait until it is gone; `relaunch()` starts it again on the same port. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc?.running) return;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  /** Starts the server again on its port after `stop()` or `kill()`. */
  async relaunch(): Promise<void> {
    await this.launch();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) await proc.stop(3000);
  }

  /** Stops, optionally waits `downMs`, and starts again on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }

  async cleanup(): Promise<void> {
    // A frozen server would hold its SIGTERM until the SIGKILL 3 s later.
    if (this.proc?.running) this.proc.kill("SIGCONT");
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
