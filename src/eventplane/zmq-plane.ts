/**
 * The ZMQ plane as an `EnvelopeSource` (docs/design/event-planes.md): it watches discovery for the
 * FPM EventChannel records of a namespace (every component, or the ones asked for), connects
 * to each publisher's advertised endpoint and drops it when its record goes. One SUB socket
 * connects to every publisher (ZMQ fair-queues them), which costs one receive loop instead of
 * one per publisher; each message is mapped back to its publisher's scope by the id frame.
 * Frames are checked here; the envelope, its ids and de-duplication are the subscriber's.
 */
import * as zmq from "zeromq";
import { eventChannelPrefix } from "../discovery/keys.js";
import { isFpmChannelOf, parseEventChannel } from "../discovery/records.js";
import type { DiscoveryEvent, DiscoveryStore } from "../discovery/store.js";
import { checkZmqEndpoint } from "../engine/endpoints.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { Logger } from "../util/log.js";
import type { EnvelopeSink, EnvelopeSource } from "./plane.js";
import { fpmSubject } from "./subject.js";
import { checkZmqFrames, publisherKey } from "./zmq-frames.js";
import { zmqReceiveLoop } from "./zmq-receive-loop.js";

export const ZMQ_SOURCE_DEFAULTS = {
  /** Dynamo's SUB high-water mark. */
  receiveHighWaterMark: 100_000,
} as const;

export interface ZmqEnvelopeSourceOptions {
  store: DiscoveryStore;
  namespace: string;
  /** Components followed; empty: every component of the namespace. */
  components: readonly string[];
  logger: Logger;
  receiveHighWaterMark?: number;
  /** Close the store on `stop()`. Default true. */
  ownsStore?: boolean;
}

interface Publisher {
  key: string;
  publisherId: bigint;
  endpoint: string;
  subject: string;
}

/** A publisher, as the source follows it (for `publishers()`). */
export interface ZmqPublisherView {
  publisherId: string;
  endpoint: string;
  subject: string;
}

export class ZmqEnvelopeSource implements EnvelopeSource {
  readonly plane = "zmq" as const;
  private readonly socket: zmq.Subscriber;
  private readonly byKey = new Map<string, Publisher>();
  private readonly byId = new Map<number | bigint, Publisher>();
  private readonly endpointUsers = new Map<string, number>();
  private unwatch: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private running = false;
  private sink: EnvelopeSink | null = null;
  /** Publishers connected and removed since start. */
  added = 0;
  removed = 0;

  constructor(private readonly opts: ZmqEnvelopeSourceOptions) {
    this.socket = new zmq.Subscriber({
      receiveHighWaterMark: opts.receiveHighWaterMark ?? ZMQ_SOURCE_DEFAULTS.receiveHighWaterMark,
      linger: 0,
      reconnectInterval: 100,
      reconnectMaxInterval: 5000,
    });
    this.socket.subscribe(FPM_TOPIC);
  }

  async start(sink: EnvelopeSink): Promise<void> {
    this.sink = sink;
    this.running = true;
    this.loop = this.receiveLoop();
    this.unwatch = await this.opts.store.watch(eventChannelPrefix({ namespace: this.opts.namespace }), (e) =>
      this.onDiscovery(e),
    );
  }

  describe(): string {
    const comps = this.opts.components.length === 0 ? "*" : this.opts.components.join(",");
    return `ZMQ via ${this.opts.store.backend} discovery (${this.opts.store.where}), namespace ${this.opts.namespace}, components ${comps}`;
  }

  problems(): string[] {
    return this.opts.store.healthy || this.opts.store.backend === "file"
      ? []
      : [`discovery ${this.opts.store.backend}`];
  }

  /** The publishers followed now. */
  publishers(): ZmqPublisherView[] {
    return [...this.byKey.values()].map((p) => ({
      publisherId: p.publisherId.toString(),
      endpoint: p.endpoint,
      subject: p.subject,
    }));
  }

  private onDiscovery(e: DiscoveryEvent): void {
    if (e.type === "delete") {
      this.drop(e.key);
      return;
    }
    const r = parseEventChannel(e.value);
    if (!r.ok) {
      this.opts.logger.limited("bad-record", "warn", "ignored a discovery record", { key: e.key, detail: r.detail });
      return;
    }
    const rec = r.value;
    if (!isFpmChannelOf(rec, this.opts.namespace, this.opts.components)) return;
    if (rec.transport.kind !== "Zmq") return;
    const endpoint = rec.transport.endpoint;
    try {
      checkZmqEndpoint(endpoint, "EventChannel record");
    } catch (err) {
      this.opts.logger.limited("bad-record", "warn", "ignored a discovery record", {
        key: e.key,
        detail: (err as Error).message,
      });
      return;
    }
    const old = this.byKey.get(e.key);
    if (old && old.endpoint === endpoint && old.publisherId === rec.instanceId) return;
    if (old) this.drop(e.key);
    const p: Publisher = { key: e.key, publisherId: rec.instanceId, endpoint, subject: fpmSubject(rec.scope, {}) };
    this.byKey.set(e.key, p);
    this.byId.set(publisherKey(p.publisherId), p);
    const users = this.endpointUsers.get(endpoint) ?? 0;
    this.endpointUsers.set(endpoint, users + 1);
    if (users === 0) {
      try {
        this.socket.connect(endpoint);
      } catch (err) {
        this.opts.logger.limited("zmq-connect", "warn", "cannot connect to a ZMQ publisher", {
          endpoint,
          error: (err as Error).message,
        });
      }
    }
    this.added++;
    this.opts.logger.info("following a ZMQ publisher", {
      publisher_id: p.publisherId.toString(),
      endpoint,
      subject: p.subject,
    });
  }

  private drop(key: string): void {
    const p = this.byKey.get(key);
    if (!p) return;
    this.byKey.delete(key);
    const id = publisherKey(p.publisherId);
    if (this.byId.get(id) === p) this.byId.delete(id);
    const users = (this.endpointUsers.get(p.endpoint) ?? 1) - 1;
    if (users <= 0) {
      this.endpointUsers.delete(p.endpoint);
      try {
        this.socket.disconnect(p.endpoint);
      } catch {
        /* never connected */
      }
    } else this.endpointUsers.set(p.endpoint, users);
    this.removed++;
    this.opts.logger.info("ZMQ publisher left discovery", {
      publisher_id: p.publisherId.toString(),
      endpoint: p.endpoint,
    });
  }

  private receiveLoop(): Promise<void> {
    return zmqReceiveLoop({
      socket: this.socket,
      running: () => this.running,
      onMessage: (frames) => this.handle(frames),
      onError: (err, retryInMs) =>
        this.opts.logger.limited("zmq-receive", "warn", "ZMQ receive failed; retrying", {
          error: err.message,
          retry_in_ms: retryInMs,
        }),
    });
  }

  /** One message: frames checked, mapped to its publisher's subject, handed on. Never throws. */
  handle(frames: Buffer[]): void {
    const sink = this.sink;
    if (!sink) return;
    const f = checkZmqFrames(frames);
    if (!f.ok) {
      sink.dropped(f.reason, f.detail);
      return;
    }
    const p = this.byId.get(f.publisherId);
    if (!p) {
      // In flight from a publisher whose record already went, or one never registered.
      sink.dropped("unknown_publisher", `publisher ${f.publisherId} has no record`);
      return;
    }
    sink.envelope(p.subject, f.envelope, { publisherId: f.publisherId, sequence: f.sequence });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.unwatch = null;
    this.socket.close();
    await this.loop?.catch(() => undefined);
    if (this.opts.ownsStore ?? true) await this.opts.store.close();
  }
}
