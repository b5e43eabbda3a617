/**
 * Connecting to the NATS event plane the way Dynamo components do: servers from
 * `NATS_SERVER`, authentication from Dynamo's `NATS_AUTH_*` / `NATS_TLS_*` variables (or
 * flags), reconnecting forever with backoff once connected. A failure at start becomes a
 * `NatsConnectError` (exit code 3). Secrets never appear in a log line or an error.
 */
import fs from "node:fs";
import type { Command } from "commander";
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { ConfigError, NatsConnectError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { checkNatsCredentials } from "./nats-credentials.js";

export const DEFAULT_NATS_SERVER = "nats://127.0.0.1:4222";

/** Time allowed for the first connection, per server, by default (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Reconnect attempts are spaced from the minimum, doubling to the maximum, by default (ms). */
export const DEFAULT_RECONNECT_MIN_MS = 250;
export const DEFAULT_RECONNECT_MAX_MS = 5000;

/** How to reach and authenticate to NATS. Only one authentication method is used (see `natsOptionsFromFlags`). */
export interface NatsConnectionOptions {
  /** Server URLs (`nats://host:port`, `tls://host:port`, or `host:port`). Default `[nats://127.0.0.1:4222]`. */
  servers: string[];
  /** Token authentication (Dynamo: NATS_AUTH_TOKEN). */
  token?: string;
  /** User/password authentication; both or neither (Dynamo: NATS_AUTH_USERNAME / NATS_AUTH_PASSWORD). */
  user?: string;
  password?: string;
  /** NKey seed (`SU...`) authentication (Dynamo: NATS_AUTH_NKEY). */
  nkeySeed?: string;
  /** Path of a `.creds` file: JWT + NKey seed (Dynamo: NATS_AUTH_CREDENTIALS_FILE). */
  credsFile?: string;
  /** PEM CA that verifies the server (Dynamo: NATS_TLS_CA_CERT_PATH); setting any TLS file turns TLS on. */
  tlsCaFile?: string;
  /** PEM client certificate for mutual TLS, with `tlsKeyFile` (Dynamo: NATS_TLS_CLIENT_CERT_PATH). */
  tlsCertFile?: string;
  /** PEM client key for mutual TLS (Dynamo: NATS_TLS_CLIENT_KEY_PATH). */
  tlsKeyFile?: string;
  /** Connection name shown by the server (`nats server report connections`). Default `fpm`. */
  name?: string;
  /** Time allowed for the first connection, per server. Default DEFAULT_CONNECT_TIMEOUT_MS (5000 ms). */
  connectTimeoutMs?: number;
  /** Shortest wait between reconnect attempts; the wait doubles with the outage up to `reconnectMaxMs`. Default DEFAULT_RECONNECT_MIN_MS (250 ms). */
  reconnectMinMs?: number;
  /** Longest reconnect delay. Default DEFAULT_RECONNECT_MAX_MS (5000 ms). */
  reconnectMaxMs?: number;
}

/** The NATS options as commander parses them from `addNatsCliOptions`. */
export interface NatsCliFlags {
  nats?: string;
  natsToken?: string;
  natsUser?: string;
  natsPassword?: string;
  natsNkey?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  natsName?: string;
}

/** Environment variables read, first name wins: Dynamo's, then the nats CLI's. */
export const NATS_ENV = {
  servers: ["NATS_SERVER", "NATS_URL"],
  token: ["NATS_AUTH_TOKEN", "NATS_TOKEN"],
  user: ["NATS_AUTH_USERNAME", "NATS_USER"],
  password: ["NATS_AUTH_PASSWORD", "NATS_PASSWORD"],
  nkeySeed: ["NATS_AUTH_NKEY"],
  credsFile: ["NATS_AUTH_CREDENTIALS_FILE", "NATS_CREDS"],
  tlsCaFile: ["NATS_TLS_CA_CERT_PATH", "NATS_CA"],
  tlsCertFile: ["NATS_TLS_CLIENT_CERT_PATH", "NATS_CERT"],
  tlsKeyFile: ["NATS_TLS_CLIENT_KEY_PATH", "NATS_KEY"],
} as const;

function fromEnv(env: NodeJS.ProcessEnv, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== "") return v;
  }
  return undefined;
}

/** Adds the NATS flags shared by `fpm relay`, `fpm subscribe` and `fpm planner`. */
export function addNatsCliOptions(command: Command): Command {
  return command
    .option("--nats <urls>", `NATS server URL(s), comma-separated (env NATS_SERVER; default ${DEFAULT_NATS_SERVER})`)
    .option("--nats-token <token>", "token authentication (env NATS_AUTH_TOKEN; prefer the env: flags show in ps)")
    .option("--nats-user <user>", "user for user/password authentication (env NATS_AUTH_USERNAME)")
    .option("--nats-password <password>", "password (env NATS_AUTH_PASSWORD; prefer the env: flags show in ps)")
    .option("--nats-nkey <seed>", "NKey seed authentication (env NATS_AUTH_NKEY)")
    .option("--nats-creds <file>", "credentials (.creds) file (env NATS_AUTH_CREDENTIALS_FILE)")
    .option("--nats-tls-ca <file>", "PEM CA verifying the server; turns TLS on (env NATS_TLS_CA_CERT_PATH)")
    .option("--nats-tls-cert <file>", "PEM client certificate for mutual TLS (env NATS_TLS_CLIENT_CERT_PATH)")
    .option("--nats-tls-key <file>", "PEM client key for mutual TLS (env NATS_TLS_CLIENT_KEY_PATH)")
    .option("--nats-name <name>", "connection name shown by the server");
}

function checkReadable(path: string, what: string, flag: string): void {
  try {
    fs.accessSync(path, fs.constants.R_OK);
  } catch {
    throw new ConfigError(`${what} ${JSON.stringify(path)} is not a readable file: fix ${flag}`);
  }
}

const URL_RE = /^(?:(nats|tls|ws|wss):\/\/)?(?:[^@/\s]+@)?(\[[0-9a-fA-F:.]+\]|[^:/\s@]+)(?::(\d+))?\/?$/;

/** Validates a server URL; the message never repeats credentials written into it. */
function checkServer(url: string): void {
  const m = URL_RE.exec(url);
  if (!m)
    throw new ConfigError(
      `NATS server ${JSON.stringify(redactUrl(url))} is not a URL like nats://host:4222: fix --nats or NATS_SERVER`,
    );
  if (m[1] === "ws" || m[1] === "wss")
    throw new ConfigError(`NATS server ${redactUrl(url)}: websocket URLs are not supported; use nats:// or tls://`);
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535)
      throw new ConfigError(`NATS server ${redactUrl(url)}: port ${port} is outside 1-65535`);
  }
}

/**
 * The connection options a Dynamo component would use: servers and authentication from
 * `NATS_SERVER` and the `NATS_AUTH_*` / `NATS_TLS_*` variables of `env`, else the defaults.
 * Throws `ConfigError` (exit code 2) for a combination that cannot work.
 */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, name = "fpm"): NatsConnectionOptions {
  return natsOptionsFromFlags({}, env, name);
}

/**
 * Builds the connection options from flags, then environment variables, then defaults.
 * Throws `ConfigError` (exit code 2) for a combination that cannot work.
 */
export function natsOptionsFromFlags(
  flags: NatsCliFlags,
  env: NodeJS.ProcessEnv = process.env,
  defaultName = "fpm",
): NatsConnectionOptions {
  const serversText = flags.nats ?? fromEnv(env, NATS_ENV.servers) ?? DEFAULT_NATS_SERVER;
  const given = serversText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (given.length === 0)
    throw new ConfigError("no NATS server given: set --nats or NATS_SERVER (for example nats://127.0.0.1:4222)");
  for (const s of given) checkServer(s);
  // The nats.js client ignores credentials inside a URL: take them out and use them as
  // user/password (`user:pass@`) or token (`token@`).
  const { servers, userinfo } = splitUrlCredentials(given);

  const explicitAuth = [
    flags.natsToken ?? fromEnv(env, NATS_ENV.token),
    flags.natsUser ?? fromEnv(env, NATS_ENV.user),
    flags.natsNkey ?? fromEnv(env, NATS_ENV.nkeySeed),
    flags.natsCreds ?? fromEnv(env, NATS_ENV.credsFile),
  ].some((v) => v !== undefined);
  if (userinfo !== undefined && explicitAuth) {
    throw new ConfigError(
      "NATS credentials are given both in the server URL and as options (flags or NATS_AUTH_*): give them once",
    );
  }
  const fromUrl =
    userinfo === undefined
      ? {}
      : userinfo.includes(":")
        ? {
            user: decodeURIComponent(userinfo.slice(0, userinfo.indexOf(":"))),
            password: decodeURIComponent(userinfo.slice(userinfo.indexOf(":") + 1)),
          }
        : { token: decodeURIComponent(userinfo) };
  const opts: NatsConnectionOptions = {
    servers,
    token: flags.natsToken ?? fromEnv(env, NATS_ENV.token) ?? fromUrl.token,
    user: flags.natsUser ?? fromEnv(env, NATS_ENV.user) ?? fromUrl.user,
    password: flags.natsPassword ?? fromEnv(env, NATS_ENV.password) ?? fromUrl.password,
    nkeySeed: flags.natsNkey ?? fromEnv(env, NATS_ENV.nkeySeed),
    credsFile: flags.natsCreds ?? fromEnv(env, NATS_ENV.credsFile),
    tlsCaFile: flags.natsTlsCa ?? fromEnv(env, NATS_ENV.tlsCaFile),
    tlsCertFile: flags.natsTlsCert ?? fromEnv(env, NATS_ENV.tlsCertFile),
    tlsKeyFile: flags.natsTlsKey ?? fromEnv(env, NATS_ENV.tlsKeyFile),
    name: flags.natsName ?? defaultName,
  };
  if ((opts.user === undefined) !== (opts.password === undefined)) {
    throw new ConfigError(
      "NATS user and password go together: set both --nats-user and --nats-password (or NATS_AUTH_USERNAME and NATS_AUTH_PASSWORD), or neither",
    );
  }
  // Dynamo's priority order: user/password, token, nkey, creds file. Keep only the first.
  if (opts.user !== undefined) {
    opts.token = opts.nkeySeed = opts.credsFile = undefined;
  } else if (opts.token !== undefined) {
    opts.nkeySeed = opts.credsFile = undefined;
  } else if (opts.nkeySeed !== undefined) {
    opts.credsFile = undefined;
  }
  if (opts.credsFile !== undefined)
    checkReadable(opts.credsFile, "NATS credentials file", "--nats-creds or NATS_AUTH_CREDENTIALS_FILE");
  if ((opts.tlsCertFile === undefined) !== (opts.tlsKeyFile === undefined)) {
    throw new ConfigError(
      "a NATS TLS client certificate needs its key: set both --nats-tls-cert and --nats-tls-key (or NATS_TLS_CLIENT_CERT_PATH and NATS_TLS_CLIENT_KEY_PATH)",
    );
  }
  if (opts.tlsCaFile !== undefined)
    checkReadable(opts.tlsCaFile, "NATS TLS CA file", "--nats-tls-ca or NATS_TLS_CA_CERT_PATH");
  if (opts.tlsCertFile !== undefined)
    checkReadable(opts.tlsCertFile, "NATS TLS certificate", "--nats-tls-cert or NATS_TLS_CLIENT_CERT_PATH");
  if (opts.tlsKeyFile !== undefined)
    checkReadable(opts.tlsKeyFile, "NATS TLS key", "--nats-tls-key or NATS_TLS_CLIENT_KEY_PATH");
  checkNatsCredentials(opts);
  return opts;
}

/** Removes `userinfo@` from each URL; every URL that has one must have the same. */
function splitUrlCredentials(urls: string[]): { servers: string[]; userinfo?: string } {
  let userinfo: string | undefined;
  const servers = urls.map((url) => {
    const m = /^((?:[a-z]+:\/\/)?)([^@/\s]+)@(.*)$/i.exec(url);
    if (!m) return url;
    if (userinfo !== undefined && userinfo !== m[2])
      throw new ConfigError(
        "NATS server URLs carry different credentials: give them once, with --nats-user/--nats-password or --nats-token",
      );
    userinfo = m[2];
    return m[1] + m[3];
  });
  return { servers, userinfo };
}

/** `nats://user:secret@host` -> `nats://***@host`. */
export function redactUrl(url: string): string {
  return url.replace(/^((?:[a-z]+:\/\/)?)[^@/\s]+@/i, "$1***@");
}

/** Which authentication is configured, without any secret. */
export function describeNatsAuth(opts: NatsConnectionOptions): string {
  const auth =
    opts.user !== undefined
      ? "user/password"
      : opts.token !== undefined
        ? "token"
        : opts.nkeySeed !== undefined
          ? "nkey"
          : opts.credsFile !== undefined
            ? "creds file"
            : "none";
  const tls = opts.tlsCaFile || opts.tlsCertFile || opts.servers.some((s) => s.startsWith("tls://")) ? "on" : "off";
  return `auth=${auth} tls=${tls}`;
}

function secretsOf(opts: NatsConnectionOptions): string[] {
  const out: string[] = [];
  for (const s of [opts.token, opts.password, opts.nkeySeed]) if (s) out.push(s);
  for (const url of opts.servers) {
    const m = /^(?:[a-z]+:\/\/)?([^@/\s]+)@/i.exec(url);
    // userinfo is `token` or `user:password`; the user name alone is not a secret.
    if (m) out.push(m[1], m[1].includes(":") ? m[1].slice(m[1].indexOf(":") + 1) : m[1]);
  }
  return out.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** Removes every configured secret from a text (error messages from the client library may echo input). */
export function redactSecrets(text: string, opts: NatsConnectionOptions): string {
  let out = text;
  for (const s of secretsOf(opts)) out = out.split(s).join("***");
  for (const url of opts.servers) out = out.split(url).join(redactUrl(url));
  return out;
}

function toClientOptions(opts: NatsConnectionOptions, onReconnectDelay: () => number): NodeConnectionOptions {
  const o: NodeConnectionOptions = {
    servers: opts.servers,
    name: opts.name ?? "fpm",
    timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    reconnect: true,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false,
    // An auth error during a reconnect (a server restarting with its config) must not end the relay.
    ignoreAuthErrorAbort: true,
    reconnectDelayHandler: onReconnectDelay,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
  if (opts.user !== undefined) {
    o.user = opts.user;
    o.pass = opts.password;
  } else if (opts.token !== undefined) {
    o.token = opts.token;
  } else if (opts.nkeySeed !== undefined) {
    o.authenticator = nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed));
  } else if (opts.credsFile !== undefined) {
    o.authenticator = credsAuthenticator(fs.readFileSync(opts.credsFile));
  }
  if (opts.tlsCaFile || opts.tlsCertFile) {
    o.tls = {};
    if (opts.tlsCaFile) o.tls.caFile = opts.tlsCaFile;
    if (opts.tlsCertFile) o.tls.certFile = opts.tlsCertFile;
    if (opts.tlsKeyFile) o.tls.keyFile = opts.tlsKeyFile;
  }
  return o;
}

/** `connected`: publishing reaches the server. `disconnected`: reconnecting. `closed`: gone for good. */
export type NatsConnectionState = "connected" | "disconnected" | "closed";

export interface NatsStatusEvent {
  state: NatsConnectionState;
  /** The client's status type (`disconnect`, `reconnect`, `reconnecting`, `close`, `error`, ...). */
  type: string;
  /** Server involved, credentials removed. */
  server?: string;
  /** Error text, secrets removed. */
  error?: string;
}

/**
 * A live connection to the event plane. `state` follows the client's status events, so a
 * publisher can stop handing messages to the client while it is disconnected: nats.js v3
 * discards its outbound buffer at every dial attempt. Status events come a turn late, so
 * a publish can still reach a dead socket; only a confirmation (`ConfirmedPublisher`) tells.
 */
export class EventPlaneConnection {
  private stateValue: NatsConnectionState = "connected";
  private readonly listeners = new Set<(e: NatsStatusEvent) => void>();
  private readonly statusLoop: Promise<void>;
  /** Number of successful reconnects since start. */
  reconnects = 0;

  constructor(
    readonly nc: NatsConnection,
    private readonly opts: NatsConnectionOptions,
    private readonly logger: Logger,
    private readonly resetBackoff: () => void,
  ) {
    this.statusLoop = this.followStatus();
    nc.closed().then((err) => {
      this.setState("closed", {
        type: "close",
        error: err ? redactSecrets(String(err.message ?? err), opts) : undefined,
      });
    });
  }

  get state(): NatsConnectionState {
    return this.stateValue;
  }

  get connected(): boolean {
    return this.stateValue === "connected";
  }

  /** Calls `listener` on every status change; returns a function that removes it. */
  onStatus(listener: (e: NatsStatusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: NatsConnectionState, e: Omit<NatsStatusEvent, "state">): void {
    if (this.stateValue === "closed") return;
    const changed = state !== this.stateValue;
    this.stateValue = state;
    const event = { state, ...e };
    if (changed) {
      const fields = { server: e.server, error: e.error };
      if (state === "connected") this.logger.info("NATS connection restored", fields);
      else if (state === "disconnected") this.logger.warn("NATS connection lost; reconnecting", fields);
      else this.logger.info("NATS connection closed", fields);
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.limited("nats-status-listener", "error", "NATS status listener failed", { error: String(err) });
      }
    }
  }

  private async followStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      const server = "server" in s && typeof s.server === "string" ? redactUrl(s.server) : undefined;
      switch (s.type) {
        case "disconnect":
          this.setState("disconnected", { type: s.type, server });
          break;
        case "reconnect":
          this.reconnects++;
          this.resetBackoff();
          this.setState("connected", { type: s.type, server });
          break;
        case "error":
          this.logger.limited("nats-error", "warn", "NATS server error", {
            error: redactSecrets(String(s.error?.message ?? s.error), this.opts),
          });
          break;
        case "staleConnection":
          this.logger.limited("nats-stale", "warn", "NATS connection stale; reconnecting");
          break;
        default:
          this.logger.trace("NATS status", { type: s.type });
      }
    }
  }

  /** Waits until everything handed to the client has reached the server (or `timeoutMs` passes). */
  async flush(timeoutMs = 2000): Promise<boolean> {
    if (!this.connected) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([
        this.nc.flush().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Flushes (bounded by `timeoutMs`) and closes. Safe to call twice. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.nc.isClosed()) {
      await this.statusLoop.catch(() => undefined);
      return;
    }
    await this.flush(timeoutMs);
    await this.nc.close().catch(() => undefined);
    this.setState("closed", { type: "close" });
    await this.statusLoop.catch(() => undefined);
  }
}

function startFailureHint(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  const text = (err instanceof Error ? err.message : String(err)).toLowerCase();
  if (name === "AuthorizationError" || text.includes("authorization") || text.includes("authentication"))
    return "authentication refused: check the token, user/password, nkey or creds file";
  if (text.includes("tls") || text.includes("certificate") || text.includes("ssl"))
    return "TLS failed: check the CA, client certificate and key, and whether the server expects TLS";
  if (
    text.includes("refused") ||
    text.includes("econnrefused") ||
    text.includes("timeout") ||
    text.includes("enotfound") ||
    text.includes("eai_again")
  )
    return "server unreachable: is nats-server running, and is --nats / NATS_SERVER right?";
  return "check --nats / NATS_SERVER and the authentication settings";
}

/**
 * Connects once (every server in turn). Credentials that cannot be parsed are a `ConfigError`
 * (exit code 2) before any attempt; a failure to connect throws `NatsConnectError` (exit code 3)
 * whose message names the servers and the likely cause but no secret. Once connected, the
 * client reconnects forever, attempts spaced from `reconnectMinMs` doubling to `reconnectMaxMs`.
 */
export async function connectNats(opts: NatsConnectionOptions, logger: Logger): Promise<EventPlaneConnection> {
  const min = opts.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
  const max = Math.max(min, opts.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS);
  // The client asks for a delay on every turn of its dial loop, so derive the backoff from
  // how long the outage has lasted: attempts land near 0, min, 2*min, 4*min, ... up to max.
  let outageStart: number | null = null;
  const nextDelay = (): number => {
    const now = Date.now();
    if (outageStart === null) outageStart = now;
    const base = Math.min(max, Math.max(min, now - outageStart));
    return Math.round(base * (0.8 + Math.random() * 0.2));
  };
  checkNatsCredentials(opts);
  const where = opts.servers.map(redactUrl).join(",");
  let nc: NatsConnection;
  try {
    nc = await connect(toClientOptions(opts, nextDelay));
  } catch (err) {
    const detail = redactSecrets(err instanceof Error ? err.message : String(err), opts);
    throw new NatsConnectError(
      `could not connect to NATS at ${where} (${describeNatsAuth(opts)}): ${startFailureHint(err)} [${detail}]`,
      { cause: err },
    );
  }
  logger.info("connected to NATS", {
    servers: where,
    server: redactUrl(nc.getServer()),
    ...Object.fromEntries(
      describeNatsAuth(opts)
        .split(" ")
        .map((p) => p.split("=")),
    ),
  });
  return new EventPlaneConnection(nc, opts, logger, () => (outageStart = null));
}
