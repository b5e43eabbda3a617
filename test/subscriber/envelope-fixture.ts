/** Envelopes for subscriber tests: real codec bytes, as a relay publishes them. */
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { fpm, type FpmFields } from "../planner/fpm-fixture.js";

export function envelope(publisherId: bigint, sequence: bigint, f: FpmFields, topic = FPM_TOPIC): Uint8Array {
  return encodeEnvelope({
    publisherId,
    sequence,
    publishedAtMs: 1_700_000_000_000n,
    topic,
    payload: encodeFpm(fpm(f)),
  });
}

export function envelopeWithPayload(publisherId: bigint, sequence: bigint, payload: Uint8Array): Uint8Array {
  return encodeEnvelope({ publisherId, sequence, publishedAtMs: 1n, topic: FPM_TOPIC, payload });
}
