/**
 * Every error class fpm throws, one per failure mode. Each sets `name` (so it survives
 * serialisation and a second copy of the module) and takes Error's `(message, { cause })`. The
 * CLI maps them to exit codes: ConfigError and UsageError 2, NatsConnectError 3, anything
 * else 1. Hot paths never throw: bad input there is a counted drop reason, not an error
 * (the codec's internal CodecFailure is a signal its decoders catch, never seen outside it).
 */

/** A configuration the user must change (a flag, an environment variable, a config key): exit code 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A command-line argument the command cannot use (for example hex that is not hex): exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * The NATS server could not be reached or refused us (auth, TLS) at start: exit code 3.
 * The message names the servers and the likely cause with secrets redacted; `cause` is the
 * client library's own error.
 */
export class NatsConnectError extends Error {
  override name = "NatsConnectError";
}

/**
 * A method called out of order on an object with a lifecycle (start twice, use after
 * stop): a programming error in the caller, never caused by input.
 */
export class LifecycleError extends Error {
  override name = "LifecycleError";
}

/** The discovery backend (etcd) could not be reached at start: exit code 3. */
export class DiscoveryConnectError extends Error {
  override name = "DiscoveryConnectError";
}

/**
 * `encodeFpm` was given a value it cannot write exactly (a non-integer where the schema has
 * an int, a non-string worker id): a programming error, not input. A `TypeError`, as it was
 * when the codec defined it.
 */
export class FpmEncodeError extends TypeError {
  override name = "FpmEncodeError";
}

/** Every error class by name, for `err instanceof errors.ConfigError` without naming each import. */
export const errors = {
  ConfigError,
  UsageError,
  NatsConnectError,
  DiscoveryConnectError,
  LifecycleError,
  FpmEncodeError,
} as const;
