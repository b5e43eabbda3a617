/**
 * The simulated deployment's engines on the wire: one `FpmPublisher` (ZMQ PUB) per engine
 * of every ready worker, bound where a real engine would bind (vLLM: tcp base port + rank,
 * one block of ports per worker slot; SGLang: an ipc path per rank). Publishers are bound
 * when a worker becomes ready and closed when it stops.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { DEFAULT_FPM_BASE_PORT } from "../engine/endpoints.js";
import { FpmPublisher } from "../engine/publisher.js";
import type { Logger } from "../util/log.js";
import type { ForwardPassEvent, WorkerEvent } from "./deployment.js";

/** Where simulated engines bind by default: loopback only. */
export const DEFAULT_SIM_ENGINE_HOST = "127.0.0.1";

export interface SimulatedEngineFleetOptions {
  dpRanks: number;
  /** tcp: rank r of worker slot s binds `tcp://{host}:{portBase + s * dpRanks + r}`. Default DEFAULT_FPM_BASE_PORT (20380). */
  portBase?: number;
  /** Host to bind on. Default DEFAULT_SIM_ENGINE_HOST (127.0.0.1, loopback only). */
  host?: string;
  /** ipc instead of tcp: rank r of slot s binds `ipc://{ipcPrefix}-{s}.{r}`. */
  ipcPrefix?: string;
  /** Idle heartbeat interval of every publisher (default: env DYN_FPM_HEARTBEAT_INTERVAL_MS, else 1000). */
  heartbeatIntervalMs?: number;
  /** Send queue bound of each publisher. Default 10,000. */
  maxQueuedMessages?: number;
  /** Append one line per message `workerId dpRank counterId sendTimeMs` here (benchmarks). */
  sendLogPath?: string;
  logger: Logger;
}

/** Lines buffered before the send log is written out. */
const SEND_LOG_FLUSH_LINES = 4096;

export class SimulatedEngineFleet {
  private readonly opts: SimulatedEngineFleetOptions;
  private readonly publishers = new Map<string, FpmPublisher>();
  private readonly closing = new Set<Promise<void>>();
  private sendLogFd: number | null = null;
  private sendLogLines: string[] = [];
  readonly totals = { published: 0, dropped: 0, bindFailures: 0 };

  constructor(opts: SimulatedEngineFleetOptions) {
    this.opts = opts;
    if (opts.sendLogPath) this.sendLogFd = fs.openSync(opts.sendLogPath, "w");
  }

  /** The endpoint of one engine. */
  endpoint(slot: number, dpRank: number): string {
    if (this.opts.ipcPrefix) return `ipc://${this.opts.ipcPrefix}-${slot}.${dpRank}`;
    return `tcp://${this.opts.host ?? DEFAULT_SIM_ENGINE_HOST}:${(this.opts.portBase ?? DEFAULT_FPM_BASE_PORT) + slot * this.opts.dpRanks + dpRank}`;
  }

  endpoints(slot: number): string[] {
    return Array.from({ length: this.opts.dpRanks }, (_, r) => this.endpoint(slot, r));
  }

  /** Follows the deployment's worker events: bind on ready, close on stop. */
  async onWorkerEvent(ev: WorkerEvent): Promise<void> {
    if (ev.kind === "ready") {
      for (let r = 0; r < this.opts.dpRanks; r++) await this.bind(ev.workerId, ev.slot, r);
    } else if (ev.kind === "stopped") {
      for (let r = 0; r < this.opts.dpRanks; r++) {
        const key = `${ev.workerId}\u0000${r}`;
        const pub = this.publishers.get(key);
        if (!pub) continue;
        this.publishers.delete(key);
        this.collect(pub);
        const p = pub.close(500).catch(() => undefined);
        this.closing.add(p);
        void p.then(() => this.closing.delete(p));
      }
    }
  }

  publish(ev: ForwardPassEvent): void {
    const pub = this.publishers.get(`${ev.workerId}\u0000${ev.dpRank}`);
    if (!pub) return; // not bound (yet): like an engine whose publisher has not started
    const seq = pub.stats.nextSeq;
    if (this.sendLogFd !== null) {
      this.sendLogLines.push(
        `${ev.workerId} ${ev.dpRank} ${seq} ${(performance.timeOrigin + performance.now()).toFixed(3)}`,
      );
      if (this.sendLogLines.length >= SEND_LOG_FLUSH_LINES) this.flushSendLog();
    }
    const { workerId, dpRank, wallTimeS, scheduledRequests, queuedRequests } = ev.fpm;
    pub.publish({ workerId, dpRank, wallTimeS, scheduledRequests, queuedRequests });
  }

  /** Publisher counts summed over live publishers and closed ones. */
  stats(): { published: number; dropped: number; heartbeats: number; engines: number } {
    let published = this.totals.published;
    let dropped = this.totals.dropped;
    let heartbeats = 0;
    for (const p of this.publishers.values()) {
      published += p.stats.sent;
      dropped += p.stats.dropped;
      heartbeats += p.stats.heartbeats;
    }
    return { published, dropped, heartbeats, engines: this.publishers.size };
  }

  async close(): Promise<void> {
    const all = [...this.publishers.values()];
    this.publishers.clear();
    for (const p of all) this.collect(p);
    await Promise.all([...all.map((p) => p.close(1000).catch(() => undefined)), ...this.closing]);
    this.flushSendLog();
    if (this.sendLogFd !== null) fs.closeSync(this.sendLogFd);
    this.sendLogFd = null;
  }

  private collect(pub: FpmPublisher): void {
    this.totals.published += pub.stats.sent;
    this.totals.dropped += pub.stats.dropped;
  }

  private flushSendLog(): void {
    if (this.sendLogFd === null || this.sendLogLines.length === 0) return;
    fs.writeSync(this.sendLogFd, `${this.sendLogLines.join("\n")}\n`);
    this.sendLogLines = [];
  }

  private async bind(workerId: string, slot: number, dpRank: number): Promise<void> {
    const endpoint = this.endpoint(slot, dpRank);
    // A slot freed a moment ago may still be closing: retry a few times before giving up.
    for (let attempt = 0; attempt < 10; attempt++) {
      const pub = new FpmPublisher({
        endpoint,
        workerId,
        dpRank,
        heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
        maxQueuedMessages: this.opts.maxQueuedMessages,
      });
      try {
        await pub.bind();
        this.publishers.set(`${workerId}\u0000${dpRank}`, pub);
        this.opts.logger.debug("engine bound", { worker_id: workerId, dp_rank: dpRank, endpoint });
        return;
      } catch (err) {
        await pub.close(0).catch(() => undefined);
        if (attempt === 9) {
          this.totals.bindFailures++;
          this.opts.logger.error("engine could not bind its FPM endpoint; it stays silent", {
            worker_id: workerId,
            dp_rank: dpRank,
            endpoint,
            error: (err as Error).message,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
