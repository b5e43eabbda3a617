/** Outcomes of decoding: a value, or a reason from a closed set and a human detail. Errors are data. */

/**
 * - `decode`: not well-formed msgpack (truncated, trailing bytes, reserved byte 0xc1, bad UTF-8).
 * - `schema`: well-formed but the wrong shape or type (array instead of map, float in an int field, nil string).
 * - `unsupported_version`: a `version` other than 1.
 * - `invalid_value`: decodes, but makes no physical sense (negative counts, NaN, infinite, above 2^53-1).
 */
export type FpmRejectReason = "decode" | "schema" | "unsupported_version" | "invalid_value";
export const FPM_REJECT_REASONS: readonly FpmRejectReason[] = [
  "decode",
  "schema",
  "unsupported_version",
  "invalid_value",
];

export type DecodeResult<T, R extends string = FpmRejectReason> =
  | { ok: true; value: T }
  | { ok: false; reason: R; detail: string };

/** Envelopes have no version and no physical checks: only these two. */
export type EnvelopeRejectReason = "decode" | "schema";
