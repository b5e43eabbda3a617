/**
 * Which engine endpoints a relay connects to: vLLM's
 * `tcp://127.0.0.1:{DYN_FORWARDPASS_METRIC_PORT + rank}` for ranks `dp-start..dp-start+dp-size-1`,
 * or explicit `--zmq-endpoint`s (tcp or ipc) where `{rank}` is replaced by each rank.
 * Everything is checked at start: a bad endpoint is a `ConfigError` (exit code 2).
 */
import {
  checkFpmPort,
  checkZmqEndpoint,
  type FpmEndpoint,
  parseTcpEndpoint,
  vllmEndpoint,
} from "../engine/endpoints.js";
import { ConfigError } from "../util/errors.js";
import { numberValue, optionalNumberOption } from "../util/number-option.js";

/** At most this many ranks per relay: a relay runs beside one worker. */
export const MAX_DP_SIZE = 1024;

export interface RelayEndpointSpec {
  /** Explicit endpoints; `{rank}` expands to every rank of the range. */
  zmqEndpoints?: string[];
  /** Base port (DYN_FORWARDPASS_METRIC_PORT): rank N connects to base+N on `host`. */
  basePort?: number;
  /** First dp_rank. Default 0. */
  dpStart?: number;
  /** Number of ranks. Default 1. */
  dpSize?: number;
  /** Host of the base-port endpoints. Default 127.0.0.1. */
  host?: string;
}

function checkInt(value: number, min: number, max: number, what: string): void {
  numberValue(value, what, { integer: true, min, max });
}

/** Parses a decimal integer option; anything else is a `ConfigError` naming `what`. */
export function parseIntOption(text: string | undefined, what: string): number | undefined {
  return optionalNumberOption(text, what, { integer: true });
}

export function resolveRelayEndpoints(spec: RelayEndpointSpec): FpmEndpoint[] {
  const dpStart = spec.dpStart ?? 0;
  const dpSize = spec.dpSize ?? 1;
  checkInt(dpStart, 0, 65535, "--dp-start");
  checkInt(dpSize, 1, MAX_DP_SIZE, "--dp-size");
  const ranks = Array.from({ length: dpSize }, (_, i) => dpStart + i);
  const out: FpmEndpoint[] = [];
  if (spec.zmqEndpoints && spec.zmqEndpoints.length > 0) {
    let nextRank = dpStart;
    for (const template of spec.zmqEndpoints) {
      if (template.includes("{rank}")) {
        for (const r of ranks) out.push({ dpRank: r, url: template.split("{rank}").join(String(r)) });
        nextRank = Math.max(nextRank, dpStart + dpSize);
      } else {
        // An endpoint without {rank} serves the next rank in order.
        out.push({ dpRank: nextRank++, url: template });
      }
    }
    for (const e of out) checkZmqEndpoint(e.url, "--zmq-endpoint");
  } else if (spec.basePort !== undefined) {
    checkFpmPort(spec.basePort, "DYN_FORWARDPASS_METRIC_PORT / --base-port");
    for (const r of ranks) {
      checkFpmPort(spec.basePort + r, `DYN_FORWARDPASS_METRIC_PORT / --base-port ${spec.basePort} + dp_rank ${r}`);
      out.push({ dpRank: r, url: vllmEndpoint(spec.basePort, r, spec.host) });
    }
  } else {
    throw new ConfigError(
      "no engine endpoint: set DYN_FORWARDPASS_METRIC_PORT (or --base-port) as the vLLM worker does, or give --zmq-endpoint tcp://host:port / ipc://path.{rank}",
    );
  }
  const seenUrls = new Set<string>();
  const seenRanks = new Set<number>();
  for (const e of out) {
    if (seenUrls.has(e.url)) throw new ConfigError(`endpoint ${e.url} is given twice`);
    if (seenRanks.has(e.dpRank))
      throw new ConfigError(`dp_rank ${e.dpRank} has two endpoints; give one endpoint per rank`);
    seenUrls.add(e.url);
    seenRanks.add(e.dpRank);
  }
  if (out.length > MAX_DP_SIZE) throw new ConfigError(`${out.length} endpoints: at most ${MAX_DP_SIZE} per relay`);
  return out;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * The loopback tcp endpoints whose port lies in the kernel's ephemeral range
 * `[low, high]`. A ZMQ SUB reconnecting to such a port before the engine binds it can
 * connect to itself (TCP simultaneous open) and hold the port, and the engine's bind then
 * fails with "Address already in use". The relay warns about these at start.
 */
export function endpointsInEphemeralRange(
  endpoints: readonly FpmEndpoint[],
  [low, high]: [number, number],
): FpmEndpoint[] {
  return endpoints.filter((e) => {
    const tcp = parseTcpEndpoint(e.url);
    return tcp !== null && LOOPBACK_HOSTS.has(tcp.host) && tcp.port >= low && tcp.port <= high;
  });
}
