/** One error class per failure mode; each sets `name` and keeps its `cause`. */

/** A configuration the user must change: reported at start, exit code 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The NATS server could not be reached or refused us (auth, TLS) at start: exit code 3. */
export class NatsConnectError extends Error {
  override name = "NatsConnectError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The discovery backend (etcd) could not be reached at start: exit code 3. */
export class DiscoveryConnectError extends Error {
  override name = "DiscoveryConnectError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
