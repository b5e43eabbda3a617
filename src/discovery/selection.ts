/**
 * Which discovery backend a process uses, from Dynamo's own variables: `DYN_DISCOVERY_BACKEND`
 * (`etcd`, `file`; `mem` and `kubernetes` are refused with the reason), `ETCD_ENDPOINTS`,
 * `DYN_FILE_KV`. With `DYN_DISCOVERY_BACKEND` unset, `ETCD_ENDPOINTS` means etcd and
 * `DYN_FILE_KV` means file (etcd first: it is Dynamo's default backend).
 */
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { DiscoveryStore } from "./store.js";

/** Dynamo's etcd when ETCD_ENDPOINTS is unset. */
export const DEFAULT_ETCD_ENDPOINTS: readonly string[] = ["http://127.0.0.1:2379"];

export type DiscoveryConfig =
  | { backend: "etcd"; endpoints: string[]; reason: string }
  | { backend: "file"; root: string; reason: string };

function etcdEndpoints(env: NodeJS.ProcessEnv): string[] {
  const text = env.ETCD_ENDPOINTS?.trim();
  if (!text) return [...DEFAULT_ETCD_ENDPOINTS];
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const e of list) {
    if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(e))
      throw new ConfigError(`ETCD_ENDPOINTS entry ${JSON.stringify(e)} is not a URL like http://127.0.0.1:2379`);
  }
  return list;
}

/** The file store's root: DYN_FILE_KV, else Dynamo's default `$TMPDIR/dynamo_store_kv`. */
function fileRoot(env: NodeJS.ProcessEnv): string {
  return env.DYN_FILE_KV?.trim() || path.join(env.TMPDIR || os.tmpdir(), "dynamo_store_kv");
}

/** The configured backend, or null when none is (no DYN_DISCOVERY_BACKEND, ETCD_ENDPOINTS or DYN_FILE_KV). */
export function discoveryFromEnv(env: NodeJS.ProcessEnv = process.env): DiscoveryConfig | null {
  const backend = env.DYN_DISCOVERY_BACKEND?.trim().toLowerCase();
  if (backend) {
    if (backend === "etcd")
      return { backend: "etcd", endpoints: etcdEndpoints(env), reason: "DYN_DISCOVERY_BACKEND=etcd" };
    if (backend === "file") return { backend: "file", root: fileRoot(env), reason: "DYN_DISCOVERY_BACKEND=file" };
    if (backend === "mem")
      throw new ConfigError(
        "DYN_DISCOVERY_BACKEND=mem lives inside one Dynamo process and cannot be shared with fpm: use etcd or file",
      );
    if (backend === "kubernetes")
      throw new ConfigError(
        "DYN_DISCOVERY_BACKEND=kubernetes is not supported by fpm yet (see docs/design/event-planes.md): use etcd or file, or the NATS plane (DYN_EVENT_PLANE=nats)",
      );
    throw new ConfigError(
      `DYN_DISCOVERY_BACKEND must be etcd or file (Dynamo also knows mem and kubernetes), got ${JSON.stringify(env.DYN_DISCOVERY_BACKEND)}`,
    );
  }
  if (env.ETCD_ENDPOINTS?.trim())
    return { backend: "etcd", endpoints: etcdEndpoints(env), reason: "ETCD_ENDPOINTS is set" };
  if (env.DYN_FILE_KV?.trim()) return { backend: "file", root: fileRoot(env), reason: "DYN_FILE_KV is set" };
  return null;
}

/** Dynamo's default backend when the ZMQ plane is asked for and nothing is configured: etcd on localhost. */
export function defaultDiscovery(env: NodeJS.ProcessEnv = process.env): DiscoveryConfig {
  return { backend: "etcd", endpoints: etcdEndpoints(env), reason: "no backend configured: Dynamo's default, etcd" };
}

/** A short description for log lines. */
export function describeDiscovery(c: DiscoveryConfig): string {
  return c.backend === "etcd" ? `etcd ${c.endpoints.join(",")}` : `file ${c.root}`;
}

/**
 * Opens the store (etcd: connects, `DiscoveryConnectError` when unreachable). The backends
 * are loaded here, on demand: the etcd client (gRPC) costs about 35 MiB of RSS, which a
 * relay on NATS or on file discovery should not carry.
 */
export async function openDiscovery(c: DiscoveryConfig, logger: Logger): Promise<DiscoveryStore> {
  if (c.backend === "etcd") {
    const { EtcdDiscoveryStore } = await import("./etcd-store.js");
    return EtcdDiscoveryStore.connect({ endpoints: c.endpoints, logger });
  }
  const { FileDiscoveryStore } = await import("./file-store.js");
  return new FileDiscoveryStore({ root: c.root, logger });
}
