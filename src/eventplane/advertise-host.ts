/**
 * The address a ZMQ publisher advertises in its discovery record: `DYN_EVENT_PLANE_HOST`,
 * else this host's first non-internal IPv4 address, else loopback (as Dynamo does).
 */
import os from "node:os";
import { ConfigError } from "../util/errors.js";

export function advertiseHost(env: NodeJS.ProcessEnv = process.env): { host: string; reason: string } {
  const given = env.DYN_EVENT_PLANE_HOST?.trim();
  if (given) {
    if (/[\s/]/.test(given) || given.includes("://"))
      throw new ConfigError(`DYN_EVENT_PLANE_HOST must be a host name or address, got ${JSON.stringify(given)}`);
    return { host: given, reason: "DYN_EVENT_PLANE_HOST" };
  }
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? [])
      if (a.family === "IPv4" && !a.internal) return { host: a.address, reason: "host address" };
  }
  return { host: "127.0.0.1", reason: "no usable host address: loopback" };
}

/** `tcp://host:port`, with brackets around an IPv6 address. */
export function tcpEndpoint(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}
