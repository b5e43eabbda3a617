/**
 * The one interface over Dynamo's discovery backends (`file`, `etcd`): records this process
 * owns (kept alive while it runs, gone when it stops or crashes), and a watch of a key
 * prefix (a snapshot, then every change). The event plane and the planner use only this.
 */

/** A record appeared or changed (`put`), or went (`delete`). */
export type DiscoveryEvent = { type: "put"; key: string; value: string } | { type: "delete"; key: string };

export const DISCOVERY_BACKENDS = ["etcd", "file"] as const;
export type DiscoveryBackend = (typeof DISCOVERY_BACKENDS)[number];

/** Bounds every store applies to what it reads, so a flooded store costs only itself. */
export const DISCOVERY_LIMITS = {
  /** Records followed per watch; beyond it new records are ignored (and logged). */
  maxRecordsPerWatch: 10_000,
  /** Bytes of one record; a larger one is ignored. */
  maxRecordBytes: 256 * 1024,
} as const;

export interface DiscoveryStore {
  readonly backend: DiscoveryBackend;
  /** Where, for log lines: the etcd endpoints or the file store's directory. */
  readonly where: string;
  /**
   * Writes a record owned by this process. etcd: under this process's lease (TTL 30 s, kept
   * alive), so it expires when the process dies. file: refreshed every ~3.3 s.
   */
  register(key: string, value: string): Promise<void>;
  /** Removes an owned record. */
  unregister(key: string): Promise<void>;
  /**
   * Calls `onEvent` with a `put` for every record under `prefix` now, then for every change
   * until the returned function is called.
   */
  watch(prefix: string, onEvent: (e: DiscoveryEvent) => void): Promise<() => void>;
  /** Healthy while owned records are kept alive (etcd: lease held; file: refresh works). */
  readonly healthy: boolean;
  /** Removes every owned record and stops watching. Safe to call twice. */
  close(): Promise<void>;
}
