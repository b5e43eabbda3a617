/** The engine's idle heartbeat interval, DYN_FPM_HEARTBEAT_INTERVAL_MS (docs/design/wire-format.md sections 3 and 6). */
import { type NumberRule, numberOption, numberValue } from "../util/number-option.js";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
export const MIN_HEARTBEAT_INTERVAL_MS = 1;
export const MAX_HEARTBEAT_INTERVAL_MS = 300_000;
const HEARTBEAT_RULE: NumberRule = { integer: true, min: MIN_HEARTBEAT_INTERVAL_MS, max: MAX_HEARTBEAT_INTERVAL_MS };

/**
 * An explicit value wins, then `env.DYN_FPM_HEARTBEAT_INTERVAL_MS`, then 1000 ms. Anything
 * but an integer in 1..300000 is a `ConfigError` (the engines reject the same range).
 */
export function heartbeatIntervalMs(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) return numberValue(explicit, "heartbeatIntervalMs", HEARTBEAT_RULE);
  const fromEnv = env.DYN_FPM_HEARTBEAT_INTERVAL_MS;
  if (fromEnv === undefined || fromEnv.trim() === "") return DEFAULT_HEARTBEAT_INTERVAL_MS;
  return numberOption(fromEnv, "DYN_FPM_HEARTBEAT_INTERVAL_MS (milliseconds; default 1000)", HEARTBEAT_RULE);
}
