/**
 * The relay's side of an event plane: what `FpmEventRelay` hands envelopes to. Both planes
 * count every envelope once, as `forwarded` or under a drop reason, but "forwarded" is not
 * the same promise on each:
 * - NATS: confirmed by the server (what waits for NATS is bounded by `--max-buffered-bytes`;
 *   `nats_unavailable` counts what had to be given up, `publish_error` what the client
 *   refused, `unconfirmed` what was not confirmed when the relay stopped).
 * - ZMQ: handed to the rank's PUB socket. ZMQ PUB has no acknowledgement: it sends to every
 *   connected subscriber and drops, silently and per subscriber, what one subscriber's
 *   high-water mark (100,000) cannot hold, and sends nothing while no subscriber is
 *   connected. The relay cannot see either; it reports the connected subscribers per rank
 *   (`fpm_relay_zmq_subscribers`), and a subscriber counts what it missed from sequence gaps
 *   (`lost`). `publish_error` counts sends the socket refused.
 */
import type { EventPlaneKind } from "../eventplane/plane-selection.js";
import type { RankEnvelopeSource } from "./envelope-publisher.js";

export interface RelayEnvelopeTransport {
  readonly plane: EventPlaneKind;
  /** Makes a rank's publisher ready (ZMQ: binds its PUB and registers its record). */
  addRank(source: RankEnvelopeSource): Promise<void>;
  /** Wraps `payload` in the rank's next envelope and sends it. Never throws. */
  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void;
  /** Sends what a burst batched (the relay calls it when ZMQ from the engine runs dry). */
  flushBatch(): void;
  /** Envelope bytes held, not yet sent. */
  readonly bufferedBytes: number;
  /** What is wrong now, for `/health` (empty: healthy), and fields that describe the plane. */
  health(): { problems: string[]; fields: Record<string, unknown> };
  /** Sends what it can within `timeoutMs`, counts the rest as dropped, removes its records, closes. */
  shutdown(timeoutMs: number): Promise<void>;
}
