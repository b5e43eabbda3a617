/** The NATS plane as an `EnvelopeSource`: core NATS subscriptions to the FPM subjects. */
import type { Subscription } from "@nats-io/transport-node";
import type { EventPlaneConnection } from "./connection.js";
import type { EnvelopeSink, EnvelopeSource } from "./plane.js";

export class NatsEnvelopeSource implements EnvelopeSource {
  readonly plane = "nats" as const;
  private readonly subs: Subscription[] = [];

  /** `ownsConnection`: close the connection on `stop()`. */
  constructor(
    readonly connection: EventPlaneConnection,
    readonly subjects: readonly string[],
    private readonly ownsConnection = true,
  ) {}

  async start(sink: EnvelopeSink): Promise<void> {
    for (const subject of this.subjects) {
      this.subs.push(
        this.connection.nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err && msg) sink.envelope(msg.subject, msg.data);
          },
        }),
      );
    }
    await this.connection.flush();
  }

  describe(): string {
    return `NATS ${this.subjects.join(",")}`;
  }

  problems(): string[] {
    return this.connection.state === "connected" ? [] : [`NATS ${this.connection.state}`];
  }

  async stop(): Promise<void> {
    for (const s of this.subs.splice(0)) {
      try {
        s.unsubscribe();
      } catch {
        /* connection already closed */
      }
    }
    if (this.ownsConnection) await this.connection.close();
  }
}
