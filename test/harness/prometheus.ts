/**
 * A real Prometheus (Debian's `prometheus` package) for tests: a generated config that
 * scrapes the given targets every second, optional rule files, its own data dir and a free
 * loopback port; helpers for the HTTP query API and for `promtool`. When the binaries are
 * missing the start fails with a message naming the install command (never a silent skip).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManagedProcess } from "../../src/util/child-process.js";
import { freePort, sleep, waitFor } from "./ports.js";

function findBinary(name: string, envVar: string): string {
  const candidates = [process.env[envVar], `/usr/bin/${name}`, `/usr/local/bin/${name}`];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    `${name} not found: run \`bash scripts/setup.sh prometheus\` (installs Debian's prometheus package) or set ${envVar}`,
  );
}

export const prometheusBinary = () => findBinary("prometheus", "PROMETHEUS_BIN");
export const promtoolBinary = () => findBinary("promtool", "PROMTOOL_BIN");

/** Runs `promtool check rules FILE`; returns its exit status and output. */
export function promtoolCheckRules(file: string): { status: number; output: string } {
  const r = spawnSync(promtoolBinary(), ["check", "rules", file], { encoding: "utf8" });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

export interface ScrapeTarget {
  /** Job label. */
  job: string;
  /** host:port of a /metrics endpoint. */
  address: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule files to load (alerting/recording). */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval (default "1s"). */
  interval?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

export interface PromQueryData {
  resultType: "vector" | "matrix" | "scalar" | "string";
  result: PromSample[] | [number, string];
}

export class Prometheus {
  readonly dir: string;
  port = 0;
  private proc: ManagedProcess | null = null;
  /** The latest process started, kept after stop for `output`. */
  private latest: ManagedProcess | null = null;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-prom-"));
  }

  static async start(opts: PrometheusOptions): Promise<Prometheus> {
    const p = new Prometheus();
    try {
      await p.launch(opts);
    } catch (err) {
      await p.cleanup();
      throw err;
    }
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.latest ? this.latest.stdoutText + this.latest.stderrText : "";
  }

  private async launch(opts: PrometheusOptions): Promise<void> {
    const bin = prometheusBinary();
    this.port = await freePort();
    const interval = opts.interval ?? "1s";
    const conf = path.join(this.dir, "prometheus.yml");
    const lines = [
      `global:`,
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
    ];
    if (opts.ruleFiles?.length)
      lines.push(`rule_files:`, ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(path.resolve(f))}`));
    lines.push(`scrape_configs:`);
    for (const t of opts.targets)
      lines.push(
        `  - job_name: ${JSON.stringify(t.job)}`,
        `    static_configs:`,
        `      - targets: [${JSON.stringify(t.address)}]`,
      );
    fs.writeFileSync(conf, `${lines.join("\n")}\n`);
    const proc = new ManagedProcess({
      name: "prometheus",
      command: bin,
      args: [
        `--config.file=${conf}`,
        `--storage.tsdb.path=${path.join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--log.level=warn",
      ],
      keepOutputChars: 20_000,
    });
    this.proc = proc;
    this.latest = proc;
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`prometheus exited with ${proc.exitCode}:\n${this.output}`);
        try {
          return (await fetch(`${this.url}/-/ready`)).ok;
        } catch {
          return false;
        }
      },
      30_000,
      "prometheus to be ready",
    );
  }

  /** Instant query; throws on an API error (e.g. a PromQL syntax error). */
  async query(expr: string): Promise<PromQueryData> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: PromQueryData; error?: string };
    if (body.status !== "success") throw new Error(`PromQL ${JSON.stringify(expr)}: ${body.error}`);
    return body.data;
  }

  /** Number of series an instant query returns (1 for a scalar). */
  async seriesCount(expr: string): Promise<number> {
    const data = await this.query(expr);
    if (data.resultType === "scalar" || data.resultType === "string") return 1;
    return (data.result as PromSample[]).length;
  }

  /** Health of every scrape target, by job. */
  async targetHealth(): Promise<Record<string, string>> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const body = (await res.json()) as { data: { activeTargets: { labels: { job: string }; health: string }[] } };
    const out: Record<string, string> = {};
    for (const t of body.data.activeTargets) out[t.labels.job] = t.health;
    return out;
  }

  /** Alerts Prometheus currently has pending or firing, by name. */
  async alerts(): Promise<{ name: string; state: string; labels: Record<string, string> }[]> {
    const res = await fetch(`${this.url}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    return body.data.alerts.map((a) => ({ name: a.labels.alertname, state: a.state, labels: a.labels }));
  }

  /** Loaded rule groups (to check that the rule file was read). */
  async ruleNames(): Promise<string[]> {
    const res = await fetch(`${this.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: { rules: { name: string }[] }[] } };
    return body.data.groups.flatMap((g) => g.rules.map((r) => r.name));
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) await proc.stop(5000);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await sleep(0);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
