/**
 * Which event plane a command uses: `--event-plane`, else `DYN_EVENT_PLANE`, else ZMQ when a
 * Dynamo discovery backend is configured (as Dynamo 1.6 processes in that environment do)
 * and NATS otherwise (the plane that needs no discovery). The choice, and why, is one log
 * line at start. ZMQ broker mode is refused: it could not be checked against the runtime.
 */
import { type DiscoveryConfig, defaultDiscovery, describeDiscovery, discoveryFromEnv } from "../discovery/selection.js";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export const EVENT_PLANES = ["nats", "zmq"] as const;
export type EventPlaneKind = (typeof EVENT_PLANES)[number];

export interface EventPlaneChoice {
  plane: EventPlaneKind;
  /** Why this plane, in words. */
  reason: string;
  /** The discovery backend: always set for ZMQ; for NATS only when one is configured. */
  discovery: DiscoveryConfig | null;
}

function parsePlane(text: string, where: string): EventPlaneKind {
  const t = text.trim().toLowerCase();
  if (t === "nats" || t === "zmq") return t;
  throw new ConfigError(`${where} must be nats or zmq, got ${JSON.stringify(text)}`);
}

function brokerRequested(env: NodeJS.ProcessEnv): string | null {
  if (env.DYN_ZMQ_BROKER_URL?.trim()) return "DYN_ZMQ_BROKER_URL";
  const enabled = env.DYN_ZMQ_BROKER_ENABLED?.trim().toLowerCase();
  if (enabled === "true" || enabled === "1") return "DYN_ZMQ_BROKER_ENABLED";
  return null;
}

/** Applies the rules; throws `ConfigError` (exit code 2) for a value that cannot work. */
export function selectEventPlane(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): EventPlaneChoice {
  const configured = discoveryFromEnv(env);
  let plane: EventPlaneKind;
  let reason: string;
  if (flag !== undefined) {
    plane = parsePlane(flag, "--event-plane");
    reason = `--event-plane ${plane}`;
  } else if (env.DYN_EVENT_PLANE?.trim()) {
    plane = parsePlane(env.DYN_EVENT_PLANE, "DYN_EVENT_PLANE");
    reason = `DYN_EVENT_PLANE=${plane}`;
  } else if (configured) {
    plane = "zmq";
    reason = `DYN_EVENT_PLANE unset and a discovery backend is configured (${configured.reason}): ZMQ, as Dynamo 1.6 uses there`;
  } else {
    plane = "nats";
    reason =
      "DYN_EVENT_PLANE unset and no discovery backend configured (DYN_DISCOVERY_BACKEND, ETCD_ENDPOINTS, DYN_FILE_KV)";
  }
  if (plane === "nats") return { plane, reason, discovery: configured };
  const broker = brokerRequested(env);
  if (broker)
    throw new ConfigError(
      `${broker} asks for ZMQ broker mode, which fpm does not support (it could not be verified against the Dynamo runtime; see docs/design/event-planes.md): unset it to use direct ZMQ, or use DYN_EVENT_PLANE=nats`,
    );
  return { plane, reason, discovery: configured ?? defaultDiscovery(env) };
}

/** The one start-up line that says which plane and why. */
export function logEventPlane(choice: EventPlaneChoice, logger: Logger): void {
  logger.info(`event plane: ${choice.plane}`, {
    plane: choice.plane,
    reason: choice.reason,
    discovery: choice.discovery ? describeDiscovery(choice.discovery) : "none",
  });
}
