/**
 * The relay's NATS plane: the `EnvelopePublisher` (batches, outage buffer) over a connected
 * `EventPlaneConnection`, behind `RelayEnvelopeTransport`.
 */
import type { EventPlaneConnection } from "../eventplane/connection.js";
import type { RelayMetrics } from "../metrics/relay-metrics.js";
import type { Logger } from "../util/log.js";
import { EnvelopePublisher, type RankEnvelopeSource } from "./envelope-publisher.js";
import type { RelayEnvelopeTransport } from "./envelope-transport.js";

export class NatsRelayTransport implements RelayEnvelopeTransport {
  readonly plane = "nats" as const;
  private readonly publisher: EnvelopePublisher;

  constructor(
    private readonly conn: EventPlaneConnection,
    readonly subject: string,
    maxBufferedBytes: number,
    private readonly metrics: RelayMetrics,
    logger: Logger,
  ) {
    this.publisher = new EnvelopePublisher({ connection: conn, subject, maxBufferedBytes, metrics, logger });
  }

  async addRank(source: RankEnvelopeSource): Promise<void> {
    this.publisher.addRank(source);
  }

  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void {
    this.publisher.publish(source, payload, receivedAt);
  }

  flushBatch(): void {
    this.publisher.flushBatch();
  }

  get bufferedBytes(): number {
    return this.publisher.bufferedBytes;
  }

  health(): { problems: string[]; fields: Record<string, unknown> } {
    const nats = this.conn.state;
    return { problems: nats === "connected" ? [] : [`NATS ${nats}`], fields: { nats, subject: this.subject } };
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.publisher.flushBatch();
    this.publisher.drain();
    this.publisher.abandon();
    this.publisher.close();
    await this.conn.close(timeoutMs);
    this.metrics.natsConnected = 0;
  }
}
