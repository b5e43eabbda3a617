/** The engine's idle heartbeat interval, DYN_FPM_HEARTBEAT_INTERVAL_MS (docs/design/wire-format.md sections 3 and 6). */
import { ConfigError } from "../util/errors.js";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
export const MIN_HEARTBEAT_INTERVAL_MS = 1;
export const MAX_HEARTBEAT_INTERVAL_MS = 300_000;

/**
 * An explicit value wins, then `env.DYN_FPM_HEARTBEAT_INTERVAL_MS`, then 1000 ms. Anything
 * but an integer in 1..300000 is a `ConfigError` (the engines reject the same range).
 */
export function heartbeatIntervalMs(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.DYN_FPM_HEARTBEAT_INTERVAL_MS;
  const source = explicit !== undefined ? "heartbeatIntervalMs" : "DYN_FPM_HEARTBEAT_INTERVAL_MS";
  const raw =
    explicit !== undefined
      ? String(explicit)
      : fromEnv !== undefined && fromEnv.trim() !== ""
        ? fromEnv.trim()
        : undefined;
  if (raw === undefined) return DEFAULT_HEARTBEAT_INTERVAL_MS;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < MIN_HEARTBEAT_INTERVAL_MS || value > MAX_HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError(
      `${source}=${JSON.stringify(raw)} is not an integer number of milliseconds in ${MIN_HEARTBEAT_INTERVAL_MS}..${MAX_HEARTBEAT_INTERVAL_MS}: change it (default ${DEFAULT_HEARTBEAT_INTERVAL_MS})`,
    );
  }
  return value;
}
