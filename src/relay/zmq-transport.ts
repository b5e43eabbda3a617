/**
 * The relay's ZMQ plane (docs/design/event-planes.md), as Dynamo 1.6.1 publishes: one PUB socket per
 * dp_rank (each rank is one publisher with its own `publisher_id`), bound to an ephemeral
 * port, high-water mark 100,000, its EventChannel record registered in discovery while it
 * runs and removed at shutdown. Each envelope goes out as the four frames with the header;
 * the envelope bytes are the ones the NATS plane would publish.
 */
import { performance } from "node:perf_hooks";
import * as zmq from "zeromq";
import { eventChannelKey } from "../discovery/keys.js";
import { eventChannelJson } from "../discovery/records.js";
import type { DiscoveryStore } from "../discovery/store.js";
import { tcpEndpoint } from "../eventplane/advertise-host.js";
import { encodeZmqFrames, publisherIdFrame } from "../eventplane/zmq-frames.js";
import type { RelayMetrics, RelayRankCounters } from "./relay-metrics.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { RankEnvelopeSource } from "./envelope-publisher.js";
import type { RelayEnvelopeTransport } from "./envelope-transport.js";

/** Dynamo's socket settings. */
export const ZMQ_PLANE_DEFAULTS = {
  sendHighWaterMark: 100_000,
  bindHost: "0.0.0.0",
  /** Messages waiting for their rank's socket (zeromq.js allows one send in flight); the newest beyond it are dropped. */
  maxQueued: 10_000,
} as const;

export interface ZmqRelayTransportOptions {
  store: DiscoveryStore;
  /** Endpoint scope of the records (ZMQ publishers are endpoint-scoped). */
  scope: { namespace: string; component: string; endpoint: string };
  /** Host written into the records (DYN_EVENT_PLANE_HOST). */
  advertiseHost: string;
  /** Address the PUB binds. Default 0.0.0.0, as Dynamo. */
  bindHost?: string;
  sendHighWaterMark?: number;
  metrics: RelayMetrics;
  logger: Logger;
}

interface RankPub {
  source: RankEnvelopeSource;
  socket: zmq.Publisher;
  idFrame: Buffer;
  key: string;
  endpoint: string;
  /** A send is in flight; later messages wait in `queue`. */
  sending: boolean;
  queue: Array<{ frames: Buffer[]; receivedAt: number }>;
  queueHead: number;
}

export class ZmqRelayTransport implements RelayEnvelopeTransport {
  readonly plane = "zmq" as const;
  readonly bufferedBytes = 0;
  private readonly pubs: RankPub[] = [];
  constructor(private readonly opts: ZmqRelayTransportOptions) {}

  private sendError(counters: RelayRankCounters, err: unknown): void {
    counters.dropped.publish_error++;
    this.opts.logger.limited("zmq-send", "warn", "the ZMQ PUB socket refused an envelope", {
      dp_rank: counters.dpRank,
      error: (err as Error).message,
    });
  }

  async addRank(source: RankEnvelopeSource): Promise<void> {
    const socket = new zmq.Publisher({
      sendHighWaterMark: this.opts.sendHighWaterMark ?? ZMQ_PLANE_DEFAULTS.sendHighWaterMark,
      linger: 0,
    });
    const bindHost = this.opts.bindHost ?? ZMQ_PLANE_DEFAULTS.bindHost;
    try {
      await socket.bind(tcpEndpoint(bindHost, 0));
    } catch (err) {
      socket.close();
      throw new ConfigError(`cannot bind the ZMQ event-plane PUB on ${bindHost}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const port = Number(/:(\d+)$/.exec(socket.lastEndpoint ?? "")?.[1]);
    const endpoint = tcpEndpoint(this.opts.advertiseHost, port);
    const counters = source.counters;
    socket.events.on("accept", () => counters.zmqSubscribers++);
    socket.events.on("disconnect", () => (counters.zmqSubscribers = Math.max(0, counters.zmqSubscribers - 1)));
    const key = eventChannelKey(this.opts.scope, source.publisherId);
    const pub: RankPub = {
      source,
      socket,
      idFrame: publisherIdFrame(source.publisherId),
      key,
      endpoint,
      sending: false,
      queue: [],
      queueHead: 0,
    };
    this.pubs.push(pub);
    await this.opts.store.register(
      key,
      eventChannelJson({
        scope: this.opts.scope,
        topic: FPM_TOPIC,
        instanceId: source.publisherId,
        transport: { kind: "Zmq", endpoint },
      }),
    );
    this.opts.logger.info("ZMQ publisher registered", {
      dp_rank: source.dpRank,
      publisher_id: source.publisherId.toString(),
      endpoint,
      bound: socket.lastEndpoint,
      key,
    });
  }

  private pubOf(source: RankEnvelopeSource): RankPub | undefined {
    // A relay has few ranks: a scan is cheaper than a map lookup keyed by object.
    for (const p of this.pubs) if (p.source === source) return p;
    return undefined;
  }

  publish(source: RankEnvelopeSource, payload: Uint8Array, receivedAt: number): void {
    const pub = this.pubOf(source);
    const counters = source.counters;
    if (!pub) {
      counters.dropped.publish_error++;
      return;
    }
    const sequence = source.nextSequence;
    const frames = encodeZmqFrames(pub.idFrame, sequence, source.envelope(payload));
    if (pub.sending) {
      if (pub.queue.length - pub.queueHead >= ZMQ_PLANE_DEFAULTS.maxQueued) {
        counters.dropped.zmq_queue_full++;
        this.opts.logger.limited("zmq-queue", "warn", "the ZMQ send queue is full: dropping envelopes", {
          dp_rank: counters.dpRank,
          max_queued: ZMQ_PLANE_DEFAULTS.maxQueued,
        });
        return;
      }
      pub.queue.push({ frames, receivedAt });
      return;
    }
    this.send(pub, frames, receivedAt);
  }

  /**
   * Hands frames to the socket. PUB never blocks on its peers, so a send nearly always
   * completes at once, but zeromq.js allows only one in flight: the next waits for it.
   */
  private send(pub: RankPub, frames: Buffer[], receivedAt: number): void {
    const counters = pub.source.counters;
    pub.sending = true;
    let sent: Promise<void>;
    try {
      sent = pub.socket.send(frames);
    } catch (err) {
      pub.sending = false;
      this.sendError(counters, err);
      return;
    }
    counters.forwarded++;
    this.opts.metrics.observeLatencySeconds((performance.now() - receivedAt) / 1000);
    sent.then(
      () => this.next(pub),
      (err) => {
        counters.forwarded--;
        this.sendError(counters, err);
        this.next(pub);
      },
    );
  }

  private next(pub: RankPub): void {
    pub.sending = false;
    if (pub.queueHead >= pub.queue.length || pub.socket.closed) return;
    const m = pub.queue[pub.queueHead];
    pub.queue[pub.queueHead++] = undefined as unknown as { frames: Buffer[]; receivedAt: number };
    if (pub.queueHead === pub.queue.length) {
      pub.queue = [];
      pub.queueHead = 0;
    } else if (pub.queueHead > 1024 && pub.queueHead * 2 > pub.queue.length) {
      pub.queue = pub.queue.slice(pub.queueHead);
      pub.queueHead = 0;
    }
    this.send(pub, m.frames, m.receivedAt);
  }

  flushBatch(): void {}

  health(): { problems: string[]; fields: Record<string, unknown> } {
    const problems = this.opts.store.healthy
      ? []
      : [`discovery (${this.opts.store.backend}) not keeping records alive`];
    return {
      problems,
      fields: {
        discovery: `${this.opts.store.backend} ${this.opts.store.where}`,
        publishers: this.pubs.map((p) => ({
          dp_rank: p.source.dpRank,
          publisher_id: p.source.publisherId.toString(),
          endpoint: p.endpoint,
          subscribers: p.source.counters.zmqSubscribers,
        })),
      },
    };
  }

  async shutdown(timeoutMs: number): Promise<void> {
    // Let queued envelopes out (briefly), then count what is left.
    const deadline = Date.now() + Math.min(500, timeoutMs / 2);
    while (this.pubs.some((p) => p.sending || p.queueHead < p.queue.length) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    for (const p of this.pubs) {
      p.source.counters.dropped.zmq_queue_full += p.queue.length - p.queueHead;
      p.queue = [];
      p.queueHead = 0;
    }
    let timer: NodeJS.Timeout | undefined;
    const removal = Promise.allSettled(this.pubs.map((p) => this.opts.store.unregister(p.key)));
    await Promise.race([removal, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const p of this.pubs) p.socket.close();
    await this.opts.store.close();
  }
}
