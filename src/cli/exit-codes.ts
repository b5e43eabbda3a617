/** Exit codes shared by every `fpm` command; documented in `--help` and the README. */
export const EXIT = {
  /** Finished, or stopped cleanly by SIGINT/SIGTERM. */
  OK: 0,
  /** Failed while running (an unexpected error). */
  FAILURE: 1,
  /** Bad usage or configuration, or (decode) input rejected: fix the command line, environment or input. */
  USAGE: 2,
  /** Could not connect at start: NATS (unreachable, authentication or TLS refused) or etcd discovery. */
  NATS_CONNECT: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  finished, or stopped cleanly by SIGINT/SIGTERM
  1  failed while running
  2  bad usage or configuration (the message says what to change); for decode: input rejected
  3  could not connect at start: NATS (unreachable, authentication or TLS refused) or etcd discovery`;
