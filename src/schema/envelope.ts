/**
 * The Dynamo event-plane envelope: the TypeScript view of
 * `schemas/event_envelope.v1.schema.json`. u64 fields are bigint so that values above
 * 2^53 (older runtimes drew publisher_id from the full u64 range) survive exactly.
 */

export interface EventEnvelope {
  publisherId: bigint;
  sequence: bigint;
  publishedAtMs: bigint;
  topic: string;
  /** The engine's FPM payload bytes, unchanged. */
  payload: Uint8Array;
}

export const ENVELOPE_FIELDS = [
  { wire: "publisher_id", name: "publisherId", kind: "u64" },
  { wire: "sequence", name: "sequence", kind: "u64" },
  { wire: "published_at", name: "publishedAtMs", kind: "u64" },
  { wire: "topic", name: "topic", kind: "str" },
  { wire: "payload", name: "payload", kind: "bin" },
] as const;

export const U64_MAX = (1n << 64n) - 1n;
/** Newer Dynamo runtimes keep publisher ids JSON-safe. */
export const MAX_SAFE_PUBLISHER_ID = BigInt(Number.MAX_SAFE_INTEGER);
