/**
 * The relay's NATS plane: the `EnvelopePublisher` (batches, confirmed delivery under a byte
 * bound) over a connected `EventPlaneConnection`, behind `RelayEnvelopeTransport`.
 */
import type { EventPlaneConnection } from "../eventplane/connection.js";
import { EnvelopePublisher, type EnvelopePublisherOptions, type RankEnvelopeSource } from "./envelope-publisher.js";
import type { RelayEnvelopeTransport } from "./envelope-transport.js";

/** The NATS transport takes exactly what its publisher does. */
export type NatsRelayTransportOptions = EnvelopePublisherOptions;

export class NatsRelayTransport implements RelayEnvelopeTransport {
  readonly plane = "nats" as const;
  private readonly publisher: EnvelopePublisher;
  private readonly conn: EventPlaneConnection;
  readonly subject: string;

  constructor(opts: NatsRelayTransportOptions) {
    this.conn = opts.connection;
    this.subject = opts.subject;
    this.publisher = new EnvelopePublisher(opts);
  }

  async addRank(_source: RankEnvelopeSource): Promise<void> {}

  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void {
    this.publisher.publish(source, payload, receivedAt);
  }

  flushBatch(): void {
    this.publisher.flushBatch();
  }

  get bufferedBytes(): number {
    return this.publisher.bufferedBytes;
  }

  /** Unhealthy while NATS is down, and while it is up but has stopped confirming (a server that stops reading keeps its TCP connection). */
  health(): { problems: string[]; fields: Record<string, unknown> } {
    const nats = this.conn.state;
    const problems: string[] = [];
    if (nats !== "connected") problems.push(`NATS ${nats}`);
    else if (this.publisher.confirmOverdue())
      problems.push(`NATS server has not confirmed for ${this.publisher.confirmWaitMs()} ms`);
    return { problems, fields: { nats, subject: this.subject } };
  }

  async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.publisher.stop(timeoutMs);
    await this.conn.close(Math.max(100, deadline - Date.now()));
  }
}
