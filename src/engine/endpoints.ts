/**
 * The ZMQ endpoints of the engine -> relay link (docs/design/wire-format.md sections 3 and 6): vLLM's
 * `tcp://127.0.0.1:{DYN_FORWARDPASS_METRIC_PORT + dp_rank}` or SGLang's
 * `ipc://{path}.{dp_rank}`. Bad endpoints are `ConfigError`s at start, never runtime failures.
 */
import { ConfigError } from "../util/errors.js";

export const DEFAULT_FPM_BASE_PORT = 20380;
export const MIN_FPM_PORT = 1024;
export const MAX_FPM_PORT = 49151;
/** sockaddr_un.sun_path is 108 bytes on Linux including the NUL terminator. */
export const MAX_IPC_PATH_BYTES = 107;

export interface FpmEndpoint {
  dpRank: number;
  /** `tcp://host:port` or `ipc://path`, as handed to ZMQ. */
  url: string;
}

/** vLLM's endpoint of one rank, as the relay connects to it. */
export function vllmEndpoint(basePort: number, dpRank: number, host = "127.0.0.1"): string {
  return `tcp://${host}:${basePort + dpRank}`;
}

/** SGLang's endpoint of one rank. */
export function sglangEndpoint(ipcPathPrefix: string, dpRank: number): string {
  return `ipc://${ipcPathPrefix}.${dpRank}`;
}

/** The host and port of a `tcp://host:port` endpoint (an IPv6 host keeps its brackets), or null for anything else. */
export function parseTcpEndpoint(url: string): { host: string; port: number } | null {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(url);
  return m ? { host: m[1]!, port: Number(m[2]) } : null;
}

/** Checks one endpoint; `where` names the flag or variable to fix in the message. */
export function checkZmqEndpoint(url: string, where: string): void {
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!m)
    throw new ConfigError(
      `${where}: ${JSON.stringify(url)} is not a ZMQ endpoint like tcp://127.0.0.1:20380 or ipc:///tmp/fpm.0`,
    );
  const [, scheme, rest] = m;
  if (scheme === "ipc") {
    if (rest.length === 0) throw new ConfigError(`${where}: ${url} has an empty ipc path`);
    const bytes = Buffer.byteLength(rest, "utf8");
    if (bytes > MAX_IPC_PATH_BYTES) {
      throw new ConfigError(
        `${where}: ipc path of ${url} is ${bytes} bytes, over the OS limit of ${MAX_IPC_PATH_BYTES}: use a shorter directory (for example /tmp)`,
      );
    }
    return;
  }
  if (scheme === "tcp") {
    const tcp = parseTcpEndpoint(url);
    if (!tcp) throw new ConfigError(`${where}: ${url} needs host:port, like tcp://127.0.0.1:20380`);
    // An explicit endpoint may use any port; the 1024-49151 rule is vLLM's, for the base port.
    if (tcp.port < 1 || tcp.port > 65535)
      throw new ConfigError(`${where}: ${url}: port ${tcp.port} is outside 1-65535`);
    return;
  }
  throw new ConfigError(`${where}: ${url} uses ${scheme}://; only tcp:// and ipc:// are supported`);
}

/** Ports 1024-49151, as vLLM accepts for DYN_FORWARDPASS_METRIC_PORT (base port and base+rank). */
export function checkFpmPort(port: number, where: string): void {
  if (!Number.isInteger(port) || port < MIN_FPM_PORT || port > MAX_FPM_PORT) {
    throw new ConfigError(`${where}: port ${port} is outside ${MIN_FPM_PORT}-${MAX_FPM_PORT}`);
  }
}
