/** Shared pieces of the relay tests: a collecting NATS subscriber and engine/relay setup. */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import type { FpmPublisher } from "../../src/engine/publisher.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import type { EventEnvelope } from "../../src/schema/envelope.js";
import { FpmEventRelay } from "../../src/relay/relay.js";
import type { FpmEventRelayOptions } from "../../src/relay/options.js";
import { Logger } from "../../src/util/log.js";
import { waitFor } from "../harness/ports.js";

export interface ReceivedEnvelope {
  subject: string;
  raw: Uint8Array;
  envelope: EventEnvelope;
}

/** A NATS subscriber that keeps every envelope it gets (payload copied out). */
export class EnvelopeCollector {
  readonly received: ReceivedEnvelope[] = [];
  reconnects = 0;
  private constructor(readonly nc: NatsConnection) {}

  static async start(url: string, subject: string): Promise<EnvelopeCollector> {
    const nc = await connect({ servers: url, reconnectTimeWait: 50, maxReconnectAttempts: -1, name: "test-collector" });
    const c = new EnvelopeCollector(nc);
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const raw = new Uint8Array(msg.data);
        const d = decodeEnvelope(raw);
        if (!d.ok) throw new Error(`undecodable envelope: ${d.reason} ${d.detail}`);
        c.received.push({
          subject: msg.subject,
          raw,
          envelope: { ...d.value, payload: new Uint8Array(d.value.payload) },
        });
      },
    });
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") c.reconnects++;
    })();
    await nc.flush();
    return c;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** A logger that keeps lines instead of printing them (tests stay quiet, and can read them). */
export function quietLogger(lines: string[] = []): Logger {
  return new Logger({
    target: "test.relay",
    level: process.env.TEST_RELAY_LOG === "1" ? "debug" : "warn",
    json: false,
    sink: (l) => lines.push(l),
  });
}

export async function startRelay(
  opts: Partial<FpmEventRelayOptions> & Pick<FpmEventRelayOptions, "endpoints" | "nats">,
): Promise<FpmEventRelay> {
  const relay = new FpmEventRelay({ logger: quietLogger(), ...opts });
  await relay.start();
  return relay;
}

/** The exact payload bytes the publisher's next message will carry (counter_id = next seq). */
export function payloadFor(pub: FpmPublisher, i: number, workerId = "w"): Uint8Array {
  return encodeFpm({
    ...defaultForwardPassMetrics(),
    workerId,
    dpRank: pub.dpRank,
    counterId: pub.stats.nextSeq,
    wallTimeS: 0.001 + i / 1e6,
    scheduledRequests: {
      ...defaultForwardPassMetrics().scheduledRequests,
      numDecodeRequests: i,
      sumDecodeKvTokens: 1000 + i,
    },
  });
}

/**
 * PUB/SUB joins asynchronously (the slow-joiner): send heartbeats until the relay has
 * received one on this rank, so what follows is not lost to the join. Then wait until the
 * last heartbeat sent has arrived and everything received is forwarded or dropped, so the
 * caller's counts start from a standstill (an earlier probe can still be on its way when
 * the first one is seen).
 */
export async function waitJoined(relay: FpmEventRelay, pub: FpmPublisher, timeoutMs = 15_000): Promise<void> {
  const counters = relay.metrics.rank(pub.dpRank);
  const before = counters.received;
  await waitFor(
    () => {
      if (counters.received > before) return true;
      pub.heartbeat();
      return false;
    },
    timeoutMs,
    `the relay to receive from dp_rank ${pub.dpRank}`,
  );
  const lastProbe = pub.stats.nextSeq - 1;
  await waitFor(
    () => counters.lastSeq === lastProbe && counters.forwarded + counters.droppedTotal() === counters.received,
    timeoutMs,
    `the relay to handle the last probe of dp_rank ${pub.dpRank}`,
  );
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
