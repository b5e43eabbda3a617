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

/** The kernel's ephemeral port range, [first, last] (Linux's default when it cannot be read). */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

let listenerRange: [number, number] | null = null;

/** Ports to pick listeners from: [LOWEST, start of the ephemeral range), read once per process. */
function pickRange(): [number, number] {
  if (!listenerRange) {
    const [ephemeralLow] = ephemeralPortRange();
    listenerRange = ephemeralLow - LOWEST >= 1000 ? [LOWEST, ephemeralLow] : [1024, 65536];
  }
  return listenerRange;
}

/**
 * The first of `count` consecutive ports in the listener range that are free now and not
 * handed out before by this process (then remembered), after at most `attempts` random
 * tries; null when none was found.
 */
async function findFreeBlock(count: number, attempts: number): Promise<number | null> {
  const [lo, hi] = pickRange();
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = lo + Math.floor(Math.random() * (hi - count - lo + 1)); // base + count - 1 <= hi - 1
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = !recent.has(p) && (await portIsFree(p));
    if (ok) {
      for (let p = base; p < base + count; p++) remember(p);
      return base;
    }
  }
  return null;
}

/** A loopback port that is free right now, below the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const port = await findFreeBlock(1, 200);
  if (port !== null) return port;
  // Crowded machine: let the kernel choose (this may be an ephemeral port).
  const chosen = await kernelChosenPort();
  remember(chosen);
  return chosen;
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
  const base = await findFreeBlock(count, 50);
  if (base !== null) return base;
  const [lo, hi] = pickRange();
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
