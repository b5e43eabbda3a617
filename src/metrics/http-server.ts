/**
 * The `/metrics` and `/health` endpoint every long-running command serves (on
 * DYN_SYSTEM_PORT or --metrics-port). `/health` answers 200 or 503 with a JSON body.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface HealthReport {
  healthy: boolean;
  /** What is wrong (or fine), for the JSON body. */
  [key: string]: unknown;
}

export interface MetricsServerOptions {
  registry: Registry;
  health: () => HealthReport;
  /** Default 0.0.0.0 (reachable by Prometheus); use 127.0.0.1 to keep it local. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

export class MetricsServer {
  private server: http.Server | null = null;

  constructor(private readonly opts: MetricsServerOptions) {}

  async start(): Promise<AddressInfo> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/metrics") {
        this.opts.registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": this.opts.registry.contentType }).end(text),
          (err) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
        );
        return;
      }
      if (path === "/health" || path === "/live" || path === "/ready") {
        let report: HealthReport;
        try {
          report = this.opts.health();
        } catch (err) {
          report = { healthy: false, error: String(err) };
        }
        const body = JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
        res.writeHead(report.healthy ? 200 : 503, { "content-type": "application/json" }).end(`${body}\n`);
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /health\n");
    });
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Starts the metrics server of a long-running command and logs where it listens. A port
 * that cannot be bound is a ConfigError (exit 2) that says which setting to change.
 */
export async function serveMetrics(opts: MetricsServerOptions, logger: Logger): Promise<MetricsServer> {
  const server = new MetricsServer(opts);
  try {
    const addr = await server.start();
    logger.info("serving /metrics and /health", { host: addr.address, port: addr.port });
    return server;
  } catch (err) {
    throw new ConfigError(
      `cannot serve /metrics on ${opts.host ?? "0.0.0.0"}:${opts.port}: ${(err as Error).message}; change --metrics-port or DYN_SYSTEM_PORT`,
      { cause: err },
    );
  }
}
