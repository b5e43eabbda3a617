/**
 * Dynamo's `etcd` discovery backend (`ETCD_ENDPOINTS`), through the `etcd3` client. Owned
 * records hang on one lease per process (TTL 30 s, kept alive by the client), as Dynamo's do,
 * so the records of a process that dies expire with its lease. When the lease is lost (etcd
 * was unreachable longer than the TTL) a new one is granted and the records written again.
 * A watch reads a snapshot and then follows changes from the snapshot's revision, so no
 * change between the two is missed.
 */
import { Etcd3, type Lease } from "etcd3";
import { DiscoveryConnectError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { DISCOVERY_LIMITS, type DiscoveryEvent, type DiscoveryStore } from "./store.js";

export const ETCD_DEFAULTS = {
  /** Dynamo's lease TTL. */
  leaseTtlS: 30,
  /** Time allowed to reach etcd at start. */
  connectTimeoutMs: 5000,
} as const;

export interface EtcdDiscoveryStoreOptions {
  endpoints: string[];
  logger: Logger;
  /** Lease TTL of owned records. Default 30 s. */
  leaseTtlS?: number;
  connectTimeoutMs?: number;
}

export class EtcdDiscoveryStore implements DiscoveryStore {
  readonly backend = "etcd" as const;
  readonly where: string;
  private readonly client: Etcd3;
  private lease: Lease | null = null;
  private leaseLost = false;
  private readonly owned = new Map<string, string>();
  private readonly cancels = new Set<() => void>();
  private closed = false;

  private constructor(private readonly opts: EtcdDiscoveryStoreOptions) {
    this.where = opts.endpoints.join(",");
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: opts.connectTimeoutMs ?? ETCD_DEFAULTS.connectTimeoutMs,
    });
  }

  /** Connects (a failure at start is a `DiscoveryConnectError`, exit code 3). */
  static async connect(opts: EtcdDiscoveryStoreOptions): Promise<EtcdDiscoveryStore> {
    const store = new EtcdDiscoveryStore(opts);
    const timeoutMs = opts.connectTimeoutMs ?? ETCD_DEFAULTS.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        store.client.maintenance.status(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      store.client.close();
      throw new DiscoveryConnectError(
        `could not reach etcd at ${store.where}: ${(err as Error).message}; is etcd running, and is ETCD_ENDPOINTS right?`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
    opts.logger.info("connected to etcd discovery", { endpoints: store.where });
    return store;
  }

  get healthy(): boolean {
    return !this.closed && !this.leaseLost;
  }

  private currentLease(): Lease {
    if (this.lease) return this.lease;
    const lease = this.client.lease(this.opts.leaseTtlS ?? ETCD_DEFAULTS.leaseTtlS);
    lease.on("lost", (err) => {
      if (this.closed || this.lease !== lease) return;
      this.leaseLost = true;
      this.lease = null;
      this.opts.logger.warn("etcd lease lost; registering again", { error: err.message });
      void this.reRegister();
    });
    this.lease = lease;
    return lease;
  }

  private async reRegister(): Promise<void> {
    try {
      const lease = this.currentLease();
      for (const [key, value] of this.owned) await lease.put(key).value(value);
      this.leaseLost = false;
      this.opts.logger.info("etcd records registered again", { records: this.owned.size });
    } catch (err) {
      this.opts.logger.limited("etcd-reregister", "warn", "cannot register in etcd yet; retrying", {
        error: (err as Error).message,
      });
      if (!this.closed) setTimeout(() => void this.reRegister(), 1000).unref();
    }
  }

  async register(key: string, value: string): Promise<void> {
    this.owned.set(key, value);
    await this.currentLease().put(key).value(value);
  }

  async unregister(key: string): Promise<void> {
    this.owned.delete(key);
    await this.client.delete().key(key);
  }

  async watch(prefix: string, onEvent: (e: DiscoveryEvent) => void): Promise<() => void> {
    const snapshot = await this.client.getAll().prefix(prefix).limit(DISCOVERY_LIMITS.maxRecordsPerWatch).exec();
    const known = new Set<string>();
    for (const kv of snapshot.kvs) {
      if (kv.value.length > DISCOVERY_LIMITS.maxRecordBytes) continue;
      const key = kv.key.toString();
      known.add(key);
      onEvent({ type: "put", key, value: kv.value.toString() });
    }
    const from = BigInt(snapshot.header.revision) + 1n;
    const watcher = await this.client.watch().prefix(prefix).startRevision(from.toString()).create();
    watcher.on("put", (kv) => {
      const key = kv.key.toString();
      if (kv.value.length > DISCOVERY_LIMITS.maxRecordBytes) return;
      if (!known.has(key) && known.size >= DISCOVERY_LIMITS.maxRecordsPerWatch) {
        this.opts.logger.limited("etcd-watch-full", "warn", "too many discovery records; ignoring the rest", {
          limit: DISCOVERY_LIMITS.maxRecordsPerWatch,
        });
        return;
      }
      known.add(key);
      onEvent({ type: "put", key, value: kv.value.toString() });
    });
    watcher.on("delete", (kv) => {
      const key = kv.key.toString();
      if (known.delete(key)) onEvent({ type: "delete", key });
    });
    watcher.on("error", (err) =>
      this.opts.logger.limited("etcd-watch", "warn", "etcd watch error; the client reconnects", {
        error: (err as Error).message,
      }),
    );
    const cancel = () => {
      this.cancels.delete(cancel);
      void watcher.cancel().catch(() => undefined);
    };
    this.cancels.add(cancel);
    return cancel;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of [...this.cancels]) cancel();
    // Revoking the lease deletes every record on it at once.
    if (this.lease) await this.lease.revoke().catch(() => undefined);
    this.owned.clear();
    this.client.close();
  }
}
