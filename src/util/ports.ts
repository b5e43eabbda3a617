/**
 * Loopback port helpers for commands that start local services (the demo) and for tests.
 *
 * Ports are picked below the kernel's ephemeral range (`ip_local_port_range`, 32768-60999
 * by default). A port the kernel hands out for `bind(0)` is also one it hands to outgoing
 * connections, and a ZMQ SUB that keeps reconnecting to a loopback port nobody listens on
 * yet can end up connected to itself on that very port (TCP simultaneous open), so the
 * engine that binds it later fails with "Address already in use". Ports handed out by this
 * process are remembered (a bounded set) so two calls do not return the same port before
 * the first is bound.
 */
import fs from "node:fs";
import net from "node:net";

const LOWEST = 20000;
const RECENT_LIMIT = 4096;
const recent = new Set<number>();

function remember(port: number): void {
  recent.add(port);
  if (recent.size > RECENT_LIMIT) recent.delete(recent.values().next().value as number);
}

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/** Ports to pick listeners from: [LOWEST, start of the ephemeral range). */
function pickRange(): [number, number] {
  const [ephemeralLow] = ephemeralPortRange();
  return ephemeralLow - LOWEST >= 1000 ? [LOWEST, ephemeralLow] : [1024, 65536];
}

const randomIn = ([lo, hi]: [number, number]) => lo + Math.floor(Math.random() * (hi - lo));

/** A loopback port that is free right now, below the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const range = pickRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomIn(range);
    if (recent.has(port)) continue;
    if (await portIsFree(port)) {
      remember(port);
      return port;
    }
  }
  // Crowded machine: let the kernel choose (this may be an ephemeral port).
  const port = await kernelChosenPort();
  remember(port);
  return port;
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A block of `count` consecutive free ports below the ephemeral range (inside the FPM base-port range). */
export async function freePortBlock(count: number): Promise<number> {
  const [lo, hi] = pickRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = randomIn([lo, hi - count]);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = !recent.has(p) && (await portIsFree(p));
    if (ok) {
      for (let p = base; p < base + count; p++) remember(p);
      return base;
    }
  }
  throw new Error(`no block of ${count} free ports found in ${lo}-${hi - 1}`);
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}
