/**
 * A 3-node (or N-node) nats-server cluster on loopback for tests: each node has its own
 * client, cluster and monitoring port and routes to every other node. `start()` waits
 * until every node sees all its routes; `kill(i)` / `restart(i)` take one node down and
 * back on the same ports, and `whileDown(i, body)` does both around `body`.
 */
import { NatsServer } from "./nats-server.js";
import { freePort, waitFor } from "./ports.js";

export interface NatsClusterOptions {
  /** Number of nodes (default 3). */
  size?: number;
  /** Extra config text for every node (auth, ...). */
  config?: string;
}

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

export class NatsCluster {
  readonly nodes: NatsServer[] = [];
  private readonly ports: NodePorts[] = [];
  /** Whether node i is up (NatsServer keeps no such flag). */
  private readonly up: boolean[] = [];

  private constructor() {}

  static async start(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = opts.size ?? 3;
    const c = new NatsCluster();
    for (let i = 0; i < size; i++)
      c.ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });
    try {
      for (let i = 0; i < size; i++) {
        const routes = c.ports
          .filter((_, j) => j !== i)
          .map((p) => `    "nats-route://127.0.0.1:${p.cluster}"`)
          .join("\n");
        const config =
          `server_name: fpm-node-${i}\n` +
          `http: 127.0.0.1:${c.ports[i].monitor}\n` +
          `cluster {\n  name: fpm-test\n  listen: 127.0.0.1:${c.ports[i].cluster}\n  routes: [\n${routes}\n  ]\n}\n` +
          (opts.config ?? "");
        c.nodes.push(await NatsServer.start({ port: c.ports[i].client, config }));
        c.up.push(true);
      }
      await c.waitForRoutes();
    } catch (err) {
      await c.cleanup();
      throw err;
    }
    return c;
  }

  /** Client URL of node i. */
  url(i: number): string {
    return this.nodes[i].url;
  }

  /** All client URLs, comma-separated (what `--nats` / NATS_SERVER take). */
  get urls(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  /** Number of routes node i currently has (from its /routez monitoring endpoint). */
  async routeCount(i: number): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.ports[i].monitor}/routez`);
      const body = (await res.json()) as { num_routes?: number };
      return body.num_routes ?? 0;
    } catch {
      return -1;
    }
  }

  /** Connections node i currently serves (from /connz). */
  async connectionCount(i: number): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.ports[i].monitor}/connz`);
      const body = (await res.json()) as { num_connections?: number };
      return body.num_connections ?? 0;
    } catch {
      return -1;
    }
  }

  /** Waits until every running node has a route to every other running node. */
  async waitForRoutes(timeoutMs = 20_000): Promise<void> {
    const up = this.nodes.map((_, i) => (this.up[i] ? i : -1)).filter((i) => i >= 0);
    await waitFor(
      async () => {
        for (const i of up) if ((await this.routeCount(i)) < up.length - 1) return false;
        return true;
      },
      timeoutMs,
      `cluster routes (${up.length} nodes)`,
    );
  }

  /** Stops node i (SIGTERM, SIGKILL after 3 s); the others keep running. */
  async kill(i: number): Promise<void> {
    this.up[i] = false;
    await this.nodes[i].stop();
  }

  isUp(i: number): boolean {
    return this.up[i];
  }

  /** Starts node i again on its ports and waits until the routes are back. */
  async restart(i: number): Promise<void> {
    await this.nodes[i].restart(0);
    this.up[i] = true;
    await this.waitForRoutes();
  }

  /**
   * Stops node i, runs `body`, and starts node i again whatever `body` did, so a failing
   * test cannot leave the next one waiting for a node that is not there.
   */
  async whileDown<T>(i: number, body: () => Promise<T>): Promise<T> {
    await this.kill(i);
    try {
      return await body();
    } finally {
      await this.restart(i);
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.cleanup()));
  }
}
