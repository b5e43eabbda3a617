/**
 * Dynamo's `file` discovery backend (`DYN_FILE_KV=<dir>`, docs/design/event-planes.md): one file per
 * record in `{dir}/{bucket}/{rest of the key, percent-encoded}`, written through `.tmp_*`
 * files. An owner refreshes its files' mtime every ~3.3 s and deletes them on a clean exit;
 * a file not refreshed for ~10 s belongs to a process that died, and any watcher deletes it
 * (as Dynamo's processes do). Watching is `fs.watch` on the bucket directory, with a rescan
 * every second as a safety net (some file systems drop watch events) and for staleness.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../util/log.js";
import { decodeFileKey, encodeFileKey, splitBucket } from "./keys.js";
import { DISCOVERY_LIMITS, type DiscoveryEvent, type DiscoveryStore } from "./store.js";

export const FILE_STORE_DEFAULTS = {
  /** How often owned files are touched (Dynamo: about 3.3 s). */
  refreshMs: 3300,
  /** A file older than this is a dead owner's (Dynamo: about 10 s). */
  staleAfterMs: 10_000,
  /** Rescan period of a watched directory. */
  rescanMs: 1000,
} as const;

/** Watch events within this window are one scan. */
const SCAN_COALESCE_MS = 20;

export interface FileDiscoveryStoreOptions {
  /** The store's root directory (DYN_FILE_KV). */
  root: string;
  logger: Logger;
  refreshMs?: number;
  staleAfterMs?: number;
  rescanMs?: number;
}

interface Watch {
  dir: string;
  /** The key prefix below the bucket that this watch follows. */
  restPrefix: string;
  bucket: string;
  known: Map<string, string>;
  /** Per key, the inode and size its value was read at: a refresh (mtime only) needs no read. */
  stamps: Map<string, string>;
  /** A scan is scheduled (watch events are coalesced: an owner touching 200 files is one scan). */
  pending: NodeJS.Timeout | null;
  onEvent: (e: DiscoveryEvent) => void;
  watcher: fs.FSWatcher | null;
  timer: NodeJS.Timeout;
  full: boolean;
}

export class FileDiscoveryStore implements DiscoveryStore {
  readonly backend = "file" as const;
  readonly where: string;
  private readonly owned = new Map<string, string>();
  private readonly watches = new Set<Watch>();
  private readonly refreshTimer: NodeJS.Timeout;
  private readonly refreshMs: number;
  private readonly staleAfterMs: number;
  private readonly rescanMs: number;
  private refreshFailing = false;
  private closed = false;

  constructor(private readonly opts: FileDiscoveryStoreOptions) {
    this.where = opts.root;
    this.refreshMs = opts.refreshMs ?? FILE_STORE_DEFAULTS.refreshMs;
    this.staleAfterMs = opts.staleAfterMs ?? FILE_STORE_DEFAULTS.staleAfterMs;
    this.rescanMs = opts.rescanMs ?? FILE_STORE_DEFAULTS.rescanMs;
    this.refreshTimer = setInterval(() => this.refresh(), this.refreshMs);
    this.refreshTimer.unref();
  }

  get healthy(): boolean {
    return !this.closed && !this.refreshFailing;
  }

  /** The file of a key. */
  pathOf(key: string): string {
    const { bucket, rest } = splitBucket(key);
    return path.join(this.opts.root, bucket, encodeFileKey(rest));
  }

  private write(key: string, value: string): void {
    const file = this.pathOf(key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.tmp_${crypto.randomBytes(6).toString("hex")}`);
    fs.writeFileSync(tmp, value);
    fs.renameSync(tmp, file);
  }

  async register(key: string, value: string): Promise<void> {
    this.write(key, value);
    this.owned.set(key, value);
  }

  async unregister(key: string): Promise<void> {
    this.owned.delete(key);
    fs.rmSync(this.pathOf(key), { force: true });
  }

  /** Touches every owned file; one a watcher deleted (we were too slow) is written again. */
  private refresh(): void {
    const now = new Date();
    let failed = false;
    for (const [key, value] of this.owned) {
      try {
        fs.utimesSync(this.pathOf(key), now, now);
      } catch {
        try {
          this.write(key, value);
        } catch (err) {
          failed = true;
          this.opts.logger.limited("file-kv-refresh", "warn", "cannot refresh a discovery record", {
            key,
            error: (err as Error).message,
          });
        }
      }
    }
    this.refreshFailing = failed;
  }

  async watch(prefix: string, onEvent: (e: DiscoveryEvent) => void): Promise<() => void> {
    const { bucket, rest } = splitBucket(prefix);
    const dir = path.join(this.opts.root, bucket);
    fs.mkdirSync(dir, { recursive: true });
    const w: Watch = {
      dir,
      restPrefix: rest,
      bucket,
      known: new Map(),
      stamps: new Map(),
      pending: null,
      onEvent,
      watcher: null,
      timer: setInterval(() => this.scan(w), this.rescanMs),
      full: false,
    };
    w.timer.unref();
    try {
      w.watcher = fs.watch(dir, () => {
        if (!w.pending) w.pending = setTimeout(() => this.scan(w), SCAN_COALESCE_MS);
      });
      w.watcher.on("error", () => undefined);
    } catch {
      // Without inotify the rescan alone follows the directory.
    }
    this.watches.add(w);
    this.scan(w);
    return () => this.unwatch(w);
  }

  private unwatch(w: Watch): void {
    clearInterval(w.timer);
    if (w.pending) clearTimeout(w.pending);
    w.watcher?.close();
    this.watches.delete(w);
  }

  /** Compares the directory with what the watch knows and reports the difference. */
  private scan(w: Watch): void {
    if (w.pending) clearTimeout(w.pending);
    w.pending = null;
    if (!this.watches.has(w)) return;
    let names: string[];
    try {
      names = fs.readdirSync(w.dir);
    } catch {
      names = [];
    }
    const now = Date.now();
    const seen = new Set<string>();
    for (const name of names) {
      if (name.startsWith(".tmp_")) continue;
      const rest = decodeFileKey(name);
      if (rest === null || !rest.startsWith(w.restPrefix)) continue;
      const key = `${w.bucket}/${rest}`;
      const file = path.join(w.dir, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        continue;
      }
      if (!this.owned.has(key) && now - st.mtimeMs > this.staleAfterMs) {
        // A dead owner's record: remove it, as every Dynamo process on the store does.
        fs.rmSync(file, { force: true });
        this.opts.logger.info("removed a stale discovery record (its owner stopped refreshing it)", {
          key,
          age_ms: Math.round(now - st.mtimeMs),
        });
        continue;
      }
      if (st.size > DISCOVERY_LIMITS.maxRecordBytes) continue;
      if (!w.known.has(key) && w.known.size >= DISCOVERY_LIMITS.maxRecordsPerWatch) {
        if (!w.full)
          this.opts.logger.warn("too many discovery records; ignoring the rest", {
            limit: DISCOVERY_LIMITS.maxRecordsPerWatch,
          });
        w.full = true;
        continue;
      }
      // Writers replace a file through a rename (a new inode); a refresh only moves its mtime.
      const stamp = `${st.ino}:${st.size}`;
      if (w.stamps.get(key) === stamp && w.known.has(key)) {
        seen.add(key);
        continue;
      }
      let value: string;
      try {
        value = fs.readFileSync(file, "utf8");
      } catch {
        continue;
      }
      seen.add(key);
      w.stamps.set(key, stamp);
      if (w.known.get(key) !== value) {
        w.known.set(key, value);
        w.onEvent({ type: "put", key, value });
      }
    }
    for (const key of [...w.known.keys()]) {
      if (!seen.has(key)) {
        w.known.delete(key);
        w.stamps.delete(key);
        w.onEvent({ type: "delete", key });
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refreshTimer);
    for (const w of [...this.watches]) this.unwatch(w);
    for (const key of [...this.owned.keys()]) await this.unregister(key);
  }
}
