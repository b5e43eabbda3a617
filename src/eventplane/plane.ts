/**
 * The subscribing side of an event plane, one interface for NATS and ZMQ: an
 * `EnvelopeSource` delivers each envelope with the subject its scope has over NATS (so
 * everything downstream reads both planes alike), and reports messages it had to drop
 * before there was an envelope (ZMQ frame checks). The publishing side is the relay's
 * `RelayEnvelopeTransport`.
 */
import type { EventPlaneKind } from "./plane-selection.js";
import type { ZmqFrameReason } from "./zmq-frames.js";

/**
 * The publisher id and sequence a ZMQ message carried outside its envelope; they must match
 * it. Numbers when at most 2^53-1, else exact bigints (the envelope decoder's rule).
 */
export interface FrameIds {
  publisherId: number | bigint;
  sequence: number | bigint;
}

/** Why a source dropped a message before it had an envelope. */
export type SourceDropReason = ZmqFrameReason | "unknown_publisher";

export interface EnvelopeSink {
  envelope(subject: string, data: Uint8Array, ids?: FrameIds): void;
  dropped(reason: SourceDropReason, detail: string): void;
}

export interface EnvelopeSource {
  readonly plane: EventPlaneKind;
  /** Subscribes (NATS) or starts following discovery (ZMQ); resolves once listening. */
  start(sink: EnvelopeSink): Promise<void>;
  /** What it listens to, for log lines. */
  describe(): string;
  /** What is wrong now (empty: healthy). */
  problems(): string[];
  /** Stops listening and closes what the source opened. */
  stop(): Promise<void>;
}
