/** deploy/nats-accounts.conf for tests: generated passwords, a nats-server started with it. */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { NatsServer } from "../harness/nats-server.js";
import { REPO_ROOT } from "../harness/vectors.js";

export const ACCOUNTS_FILE = path.join(REPO_ROOT, "deploy", "nats-accounts.conf");

/** Passwords for the three users of deploy/nats-accounts.conf, generated per run. */
export function accountPasswords(): Record<
  "FPM_RELAY_PASSWORD" | "FPM_PLANNER_PASSWORD" | "FPM_ACTUATOR_PASSWORD",
  string
> {
  const p = () => crypto.randomBytes(18).toString("base64url");
  return { FPM_RELAY_PASSWORD: p(), FPM_PLANNER_PASSWORD: p(), FPM_ACTUATOR_PASSWORD: p() };
}

/**
 * The value to put in nats-server's environment for a password, as deploy/nats-accounts.conf
 * documents: nats-server parses a variable's value as a config value, so an unquoted password
 * starting with a digit or "-" is read as a number and the server refuses to start.
 */
function serverEnvValue(password: string): string {
  return `"${password}"`;
}

/**
 * Starts nats-server with deploy/nats-accounts.conf; the passwords reach it through its
 * environment. `stored` replaces what the server gets for some of them (a bcrypt hash of
 * the password, as the config suggests for production).
 */
export async function startWithAccounts(
  passwords: Record<string, string>,
  stored: Record<string, string> = {},
): Promise<NatsServer> {
  // The harness spawns nats-server with process.env, and the config reads $FPM_*_PASSWORD from it.
  for (const [k, v] of Object.entries(passwords)) process.env[k] = serverEnvValue(stored[k] ?? v);
  try {
    return await NatsServer.start({ config: fs.readFileSync(ACCOUNTS_FILE, "utf8") });
  } finally {
    for (const k of Object.keys(passwords)) delete process.env[k];
  }
}
