/** Where nats-server is: NATS_SERVER_BIN, the usual Debian paths, or PATH. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

/** The nats-server binary, or null when missing. An explicit NATS_SERVER_BIN is taken at its word. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | null {
  // A wrong explicit path is reported (null), not silently replaced by another binary.
  if (env.NATS_SERVER_BIN) return fs.existsSync(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : null;
  for (const c of ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"])
    if (fs.existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8", env });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}
