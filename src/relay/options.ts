/**
 * `FpmEventRelayOptions`: everything a relay needs, with Dynamo's defaults, and how the
 * `fpm relay` flags and environment variables map onto it. Invalid values are
 * `ConfigError`s (exit code 2) with a message that says what to change.
 */
import { DEFAULT_FPM_BASE_PORT, type FpmEndpoint } from "../engine/endpoints.js";
import type { DiscoveryConfig } from "../discovery/selection.js";
import { advertiseHost } from "../eventplane/advertise-host.js";
import { CONFIRMED_PUBLISHER_DEFAULTS } from "../eventplane/confirmed-publisher.js";
import { type NatsCliFlags, type NatsConnectionOptions, natsOptionsFromFlags } from "../eventplane/connection.js";
import { type EventPlaneChoice, type EventPlaneKind, selectEventPlane } from "../eventplane/plane-selection.js";
import { DEFAULT_ENDPOINT, type FpmSubjectScope, resolveFpmScope } from "../eventplane/subject.js";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { MAX_TIMER_MS, numberValue } from "../util/number-option.js";
import { parseIntOption, resolveRelayEndpoints } from "./endpoints.js";

export const RELAY_DEFAULTS = {
  eventPlane: "nats",
  /** Dynamo 1.6.1's scope: the endpoint `generate` of the component. */
  endpoint: DEFAULT_ENDPOINT,
  validate: true,
  maxPayloadBytes: 65_536,
  maxBufferedBytes: 8 * 1024 * 1024,
  receiveHighWaterMark: 10_000,
  zmqReconnectIntervalMs: 100,
  zmqReconnectMaxIntervalMs: 5_000,
  natsConfirmTimeoutMs: CONFIRMED_PUBLISHER_DEFAULTS.confirmTimeoutMs,
  metricsHost: "0.0.0.0",
} as const;

export interface FpmEventRelayOptions {
  /** Engine endpoints, one per dp_rank (see `resolveRelayEndpoints`). Required, at least one. */
  endpoints: FpmEndpoint[];
  /** The event plane. Default RELAY_DEFAULTS.eventPlane (`nats`; `fpm relay` chooses with `selectEventPlane`). */
  eventPlane?: EventPlaneKind;
  /** How to reach NATS (see `natsOptionsFromFlags`). Required on the NATS plane. */
  nats?: NatsConnectionOptions;
  /** The discovery backend where ZMQ publishers register. Required on the ZMQ plane. */
  discovery?: DiscoveryConfig;
  /** ZMQ plane: the host written into the EventChannel records. Default: DYN_EVENT_PLANE_HOST, else the host's address. */
  advertiseHost?: string;
  /**
   * Scope: namespace (default env DYN_NAMESPACE, else `dynamo`), component (default `backend`),
   * endpoint (default RELAY_DEFAULTS.endpoint, `generate`: Dynamo 1.6.1's endpoint scope, as
   * `fpm relay`).
   */
  scope?: FpmSubjectScope;
  /** Publish on the component-scoped subject of Dynamo before 1.6 (NATS only; no `scope.endpoint`). Default false. */
  componentScope?: boolean;
  /** `true` (default): frame count, size, seq frame and codec checks. `false`: frame count only, like Dynamo's relay. */
  validate?: boolean;
  /** Payloads larger than this are dropped as `oversize` (when validating). Default 65,536 bytes. */
  maxPayloadBytes?: number;
  /**
   * Envelope bytes held for NATS, waiting or published and not yet confirmed by the server
   * (at most half of it unconfirmed); the oldest waiting beyond it are dropped as
   * `nats_unavailable`. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** `/health` turns 503 when the server leaves a confirmation round-trip unanswered this long. Default 3000 ms. */
  natsConfirmTimeoutMs?: number;
  /** ZMQ receive high-water mark per engine connection, in messages (ZMQ drops beyond it). Default 10,000. */
  receiveHighWaterMark?: number;
  /** ZMQ reconnect interval to a vanished engine. Default 100 ms. */
  zmqReconnectIntervalMs?: number;
  /** ZMQ reconnect interval cap (exponential backoff). Default 5000 ms. */
  zmqReconnectMaxIntervalMs?: number;
  /** Publisher id of each dp_rank's envelopes. Default: random in 0..2^53-1 per rank. */
  publisherIdForRank?: (dpRank: number) => bigint;
  /** Default: a logger with target `fpm.relay` (DYN_LOG, DYN_LOGGING_JSONL). */
  logger?: Logger;
}

/** The flags of `fpm relay`, as commander parses them. */
export interface RelayCliFlags extends NatsCliFlags {
  eventPlane?: string;
  componentScope?: boolean;
  zmqEndpoint?: string[];
  basePort?: string;
  dpStart?: string;
  dpSize?: string;
  namespace?: string;
  component?: string;
  endpoint?: string;
  validate?: string;
  maxPayloadBytes?: string;
  maxBufferedBytes?: string;
  natsConfirmTimeoutMs?: string;
  receiveHwm?: string;
  metricsPort?: string;
  metricsHost?: string;
}

/** Options of the relay command: the library options plus where `/metrics` is served. */
export interface RelayCommandOptions {
  relay: Omit<FpmEventRelayOptions, "logger">;
  /** null: no metrics server (DYN_SYSTEM_PORT unset or -1, and no --metrics-port). */
  metricsPort: number | null;
  metricsHost: string;
  /** The plane, and why (logged at start). */
  plane: EventPlaneChoice;
}

function positive(value: number | undefined, fallback: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  return numberValue(value ?? fallback, what, { integer: true, min: 1, max });
}

/** The scope a relay publishes on: endpoint scope unless `componentScope` asks for the component's subject. */
function relayScope(opts: FpmEventRelayOptions): ReturnType<typeof resolveFpmScope> {
  if (opts.componentScope && opts.scope?.endpoint !== undefined)
    throw new ConfigError("componentScope and scope.endpoint contradict each other: give one");
  const endpoint = opts.componentScope ? undefined : (opts.scope?.endpoint ?? RELAY_DEFAULTS.endpoint);
  return resolveFpmScope({ ...opts.scope, endpoint });
}

/** Checks library options and fills their defaults. */
export function resolveRelayOptions(opts: FpmEventRelayOptions): Required<
  Omit<FpmEventRelayOptions, "logger" | "publisherIdForRank" | "scope" | "nats" | "discovery">
> &
  Pick<FpmEventRelayOptions, "logger" | "publisherIdForRank" | "nats" | "discovery"> & {
    scope: ReturnType<typeof resolveFpmScope>;
  } {
  if (!opts.endpoints || opts.endpoints.length === 0)
    throw new ConfigError("the relay needs at least one engine endpoint");
  const eventPlane = opts.eventPlane ?? RELAY_DEFAULTS.eventPlane;
  if (eventPlane === "nats" && !opts.nats) throw new ConfigError("the NATS plane needs NATS connection options");
  if (eventPlane === "zmq") {
    if (!opts.discovery)
      throw new ConfigError(
        "the ZMQ plane needs a discovery backend (DYN_DISCOVERY_BACKEND, ETCD_ENDPOINTS or DYN_FILE_KV)",
      );
    if (opts.componentScope)
      throw new ConfigError(
        "the ZMQ plane is endpoint-scoped (as Dynamo 1.6.1): drop --component-scope (componentScope); component scope exists on NATS only",
      );
  }
  return {
    ...opts,
    eventPlane,
    scope: relayScope(opts),
    componentScope: opts.componentScope ?? false,
    advertiseHost: opts.advertiseHost ?? (eventPlane === "zmq" ? advertiseHost().host : ""),
    validate: opts.validate ?? RELAY_DEFAULTS.validate,
    maxPayloadBytes: positive(
      opts.maxPayloadBytes,
      RELAY_DEFAULTS.maxPayloadBytes,
      "--max-payload-bytes",
      64 * 1024 * 1024,
    ),
    maxBufferedBytes: positive(
      opts.maxBufferedBytes,
      RELAY_DEFAULTS.maxBufferedBytes,
      "--max-buffered-bytes",
      4 * 1024 * 1024 * 1024,
    ),
    receiveHighWaterMark: positive(
      opts.receiveHighWaterMark,
      RELAY_DEFAULTS.receiveHighWaterMark,
      "--receive-hwm",
      10_000_000,
    ),
    zmqReconnectIntervalMs: positive(
      opts.zmqReconnectIntervalMs,
      RELAY_DEFAULTS.zmqReconnectIntervalMs,
      "zmqReconnectIntervalMs",
      MAX_TIMER_MS,
    ),
    zmqReconnectMaxIntervalMs: positive(
      opts.zmqReconnectMaxIntervalMs,
      RELAY_DEFAULTS.zmqReconnectMaxIntervalMs,
      "zmqReconnectMaxIntervalMs",
      MAX_TIMER_MS,
    ),
    natsConfirmTimeoutMs: positive(
      opts.natsConfirmTimeoutMs,
      RELAY_DEFAULTS.natsConfirmTimeoutMs,
      "--nats-confirm-timeout-ms",
      2 ** 31 - 1,
    ),
  };
}

function parseValidate(text: string | undefined): boolean {
  if (text === undefined) return true;
  const t = text.trim().toLowerCase();
  if (t === "on" || t === "true" || t === "1") return true;
  if (t === "off" || t === "false" || t === "0") return false;
  throw new ConfigError(`--validate must be on or off, got ${JSON.stringify(text)}`);
}

/** Maps the flags and environment of `fpm relay` onto options; flags win over the environment. */
export function relayOptionsFromFlags(flags: RelayCliFlags, env: NodeJS.ProcessEnv = process.env): RelayCommandOptions {
  // DYN_FPM_TRACE turns FPM on too; the engines then use the default base port.
  const trace = /^(1|true|yes|on)$/i.test(env.DYN_FPM_TRACE?.trim() ?? "");
  const basePortText =
    flags.basePort ?? (env.DYN_FORWARDPASS_METRIC_PORT?.trim() || (trace ? String(DEFAULT_FPM_BASE_PORT) : undefined));
  const endpoints = resolveRelayEndpoints({
    zmqEndpoints: flags.zmqEndpoint,
    basePort: parseIntOption(
      basePortText,
      flags.basePort !== undefined ? "--base-port" : "DYN_FORWARDPASS_METRIC_PORT",
    ),
    dpStart: parseIntOption(flags.dpStart, "--dp-start"),
    dpSize: parseIntOption(flags.dpSize, "--dp-size"),
  });
  if (flags.componentScope && flags.endpoint !== undefined)
    throw new ConfigError("--component-scope and --endpoint contradict each other: give one");
  // Dynamo 1.6.1 is endpoint-scoped (the library's default too); component scope is for older runtimes.
  const scope = resolveFpmScope(
    {
      namespace: flags.namespace,
      component: flags.component,
      endpoint: flags.componentScope ? undefined : (flags.endpoint ?? RELAY_DEFAULTS.endpoint),
    },
    env,
  );
  const plane = selectEventPlane(flags.eventPlane, env);
  for (const [name, value] of Object.entries(scope)) {
    if (value !== undefined && value.length === 0) throw new ConfigError(`--${name} must not be empty`);
  }
  const metricsPortText = flags.metricsPort ?? (env.DYN_SYSTEM_PORT?.trim() || undefined);
  const metricsPortRaw = parseIntOption(
    metricsPortText,
    flags.metricsPort !== undefined ? "--metrics-port" : "DYN_SYSTEM_PORT",
  );
  if (metricsPortRaw !== undefined && (metricsPortRaw < -1 || metricsPortRaw > 65535)) {
    throw new ConfigError(
      `${flags.metricsPort !== undefined ? "--metrics-port" : "DYN_SYSTEM_PORT"} must be a port in 0..65535 (0 picks a free one), or -1 to disable; got ${metricsPortRaw}`,
    );
  }
  const relay: Omit<FpmEventRelayOptions, "logger"> = {
    endpoints,
    eventPlane: plane.plane,
    nats: plane.plane === "nats" ? natsOptionsFromFlags(flags, env, "fpm-relay") : undefined,
    discovery: plane.discovery ?? undefined,
    advertiseHost: plane.plane === "zmq" ? advertiseHost(env).host : undefined,
    scope,
    componentScope: flags.componentScope ?? false,
    validate: parseValidate(flags.validate),
    maxPayloadBytes: parseIntOption(flags.maxPayloadBytes, "--max-payload-bytes"),
    maxBufferedBytes: parseIntOption(flags.maxBufferedBytes, "--max-buffered-bytes"),
    natsConfirmTimeoutMs: parseIntOption(flags.natsConfirmTimeoutMs, "--nats-confirm-timeout-ms"),
    receiveHighWaterMark: parseIntOption(flags.receiveHwm, "--receive-hwm"),
  };
  resolveRelayOptions(relay);
  return {
    relay,
    metricsPort: metricsPortRaw === undefined || metricsPortRaw === -1 ? null : metricsPortRaw,
    metricsHost: flags.metricsHost ?? RELAY_DEFAULTS.metricsHost,
    plane,
  };
}
