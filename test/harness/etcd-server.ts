/**
 * A real etcd (Debian's etcd-server, installed by scripts/setup.sh) per test: free loopback
 * client and peer ports, its own temp data dir, stopped and removed at the end.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { canConnect } from "../../src/util/ports.js";
import { ManagedProcess } from "../../src/util/child-process.js";
import { freePort, sleep } from "./ports.js";

export function etcdBinary(): string {
  const explicit = process.env.ETCD_BIN;
  if (explicit) return explicit;
  for (const c of ["/usr/bin/etcd", "/usr/local/bin/etcd", "/usr/sbin/etcd"]) if (fs.existsSync(c)) return c;
  throw new Error("etcd not found: run `npm run setup` (installs Debian's etcd-server) or set ETCD_BIN");
}

export class EtcdServer {
  readonly dir: string;
  port = 0;
  peerPort = 0;
  private proc: ManagedProcess | null = null;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-etcd-"));
  }

  static async start(): Promise<EtcdServer> {
    const s = new EtcdServer();
    s.port = await freePort();
    s.peerPort = await freePort();
    await s.launch();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.proc ? this.proc.stdoutText + this.proc.stderrText : "";
  }

  private async launch(): Promise<void> {
    const proc = new ManagedProcess({
      name: "etcd",
      command: etcdBinary(),
      args: [
        "--name",
        "fpm-test",
        "--data-dir",
        path.join(this.dir, "data"),
        "--listen-client-urls",
        this.url,
        "--advertise-client-urls",
        this.url,
        "--listen-peer-urls",
        `http://127.0.0.1:${this.peerPort}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${this.peerPort}`,
        "--initial-cluster",
        `fpm-test=http://127.0.0.1:${this.peerPort}`,
      ],
      keepOutputChars: 20_000,
    });
    this.proc = proc;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!proc.running) throw new Error(`etcd exited with ${proc.exitCode}:\n${this.output}`);
      if (await canConnect(this.port)) return;
      await sleep(25);
    }
    throw new Error(`etcd did not listen on ${this.port} within 15 s:\n${this.output}`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) await proc.stop(3000);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
