/**
 * `FpmEventRelay`: engine ZMQ -> checks -> event plane, NATS or ZMQ (docs/design/wire-format.md
 * sections 3 and 4). One SUB socket per dp_rank connects to the engine's PUB; each message is checked
 * (3 frames, size, seq frame, codec), accounted (seq gaps, restarts), and its ORIGINAL
 * payload bytes are wrapped in an envelope and handed to the plane's transport
 * (`RelayEnvelopeTransport`). On NATS it counts as forwarded once the server has confirmed
 * it; on ZMQ once the PUB socket has taken it (see envelope-transport.ts). Nothing on the hot
 * path throws: every drop has a reason and a counter.
 *
 * ```ts
 * const relay = new FpmEventRelay({ endpoints: resolveRelayEndpoints({ basePort: 20380 }), nats: { servers: ["nats://127.0.0.1:4222"] } });
 * await relay.start();   // NatsConnectError if NATS is unreachable
 * ...
 * await relay.stop();    // stop receiving, flush NATS, close
 * ```
 */
import { performance } from "node:perf_hooks";
import * as zmq from "zeromq";
import { decodeFpm } from "../codec/fpm-decode.js";
import type { FpmEndpoint } from "../engine/endpoints.js";
import { decodeSeqFrame, FPM_FRAME_COUNT } from "../engine/frames.js";
import { openDiscovery } from "../discovery/selection.js";
import { connectNats } from "../eventplane/connection.js";
import { fpmSubject } from "../eventplane/subject.js";
import { zmqReceiveLoop } from "../eventplane/zmq-receive-loop.js";
import type { HealthReport } from "../metrics/http-server.js";
import { type RelayDropReason, RelayMetrics, type RelayRankCounters } from "./relay-metrics.js";
import { ConfigError, LifecycleError } from "../util/errors.js";
import { Logger } from "../util/log.js";
import { defaultForwardPassMetrics, type ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import { ephemeralPortRange } from "../util/ports.js";
import { endpointsInEphemeralRange } from "./endpoints.js";
import { RankEnvelopeSource, randomPublisherId } from "./envelope-publisher.js";
import type { RelayEnvelopeTransport } from "./envelope-transport.js";
import { NatsRelayTransport } from "./nats-transport.js";
import { type FpmEventRelayOptions, resolveRelayOptions } from "./options.js";
import { SequenceTracker } from "./sequence-tracker.js";
import { ZmqRelayTransport } from "./zmq-transport.js";

/** Everything the relay keeps per dp_rank. */
interface RankLink {
  endpoint: FpmEndpoint;
  socket: zmq.Subscriber;
  counters: RelayRankCounters;
  tracker: SequenceTracker;
  source: RankEnvelopeSource;
  loop: Promise<void> | null;
}

export class FpmEventRelay {
  readonly metrics = new RelayMetrics();
  readonly subject: string;
  private readonly opts: ReturnType<typeof resolveRelayOptions>;
  private readonly logger: Logger;
  private readonly links: RankLink[] = [];
  /** Every payload is decoded into this one object: the relay only reads counter_id from it, and forwards the original bytes. */
  private readonly scratch: ForwardPassMetrics = defaultForwardPassMetrics();
  private publisher: RelayEnvelopeTransport | null = null;
  private running = false;
  private stopped: Promise<void> | null = null;

  /** Checks the options (`ConfigError` on a bad value); connects nothing yet. */
  constructor(options: FpmEventRelayOptions) {
    this.opts = resolveRelayOptions(options);
    this.logger = options.logger ?? new Logger({ target: "fpm.relay" });
    this.subject = fpmSubject(this.opts.scope);
  }

  /** The event plane this relay publishes on. */
  get plane(): "nats" | "zmq" {
    return this.opts.eventPlane;
  }

  /**
   * Connects the event plane (NATS: a failure is a `NatsConnectError`; ZMQ: its discovery
   * backend, `DiscoveryConnectError`), then every engine endpoint.
   */
  async start(): Promise<void> {
    if (this.running || this.stopped) throw new LifecycleError("FpmEventRelay.start() may be called once");
    this.publisher = await this.openPlane();
    try {
      await this.openEngines(this.publisher);
    } catch (err) {
      // Nothing may stay open when start fails, or the process would not exit.
      await this.stop();
      throw err;
    }
  }

  private async openPlane(): Promise<RelayEnvelopeTransport> {
    if (this.opts.eventPlane === "nats") {
      const conn = await connectNats(this.opts.nats!, this.logger.child("nats"));
      return new NatsRelayTransport({
        connection: conn,
        subject: this.subject,
        maxBufferedBytes: this.opts.maxBufferedBytes,
        confirmTimeoutMs: this.opts.natsConfirmTimeoutMs,
        metrics: this.metrics,
        logger: this.logger,
      });
    }
    const scope = this.opts.scope;
    const store = await openDiscovery(this.opts.discovery!, this.logger.child("discovery"));
    return new ZmqRelayTransport({
      store,
      scope: { namespace: scope.namespace, component: scope.component, endpoint: scope.endpoint! },
      advertiseHost: this.opts.advertiseHost,
      metrics: this.metrics,
      logger: this.logger,
    });
  }

  private async openEngines(publisher: RelayEnvelopeTransport): Promise<void> {
    const pickId = this.opts.publisherIdForRank ?? randomPublisherId;
    for (const endpoint of this.opts.endpoints) {
      const counters = this.metrics.rank(endpoint.dpRank);
      const source = new RankEnvelopeSource(endpoint.dpRank, pickId(endpoint.dpRank), counters);
      await publisher.addRank(source);
      const socket = new zmq.Subscriber({
        receiveHighWaterMark: this.opts.receiveHighWaterMark,
        reconnectInterval: this.opts.zmqReconnectIntervalMs,
        reconnectMaxInterval: this.opts.zmqReconnectMaxIntervalMs,
        linger: 0,
      });
      this.links.push({ endpoint, socket, counters, tracker: new SequenceTracker(counters), source, loop: null });
      this.watchEngine(socket, endpoint, counters);
      // connect() never waits for the engine: ZMQ keeps retrying until it binds.
      try {
        socket.connect(endpoint.url);
      } catch (err) {
        throw new ConfigError(`cannot connect to engine endpoint ${endpoint.url}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      socket.subscribe();
    }
    this.running = true;
    for (const link of this.links) link.loop = this.receiveLoop(link);
    this.logger.info("relay started", {
      plane: this.opts.eventPlane,
      subject: this.subject,
      validate: this.opts.validate ? "on" : "off",
      endpoints: this.opts.endpoints.map((e) => `${e.dpRank}=${e.url}`).join(","),
    });
    const [low, high] = ephemeralPortRange();
    const risky = endpointsInEphemeralRange(this.opts.endpoints, [low, high]);
    if (risky.length > 0) {
      this.logger.warn(
        "engine port in the kernel's ephemeral range: if the engine starts after the relay, the relay's reconnects can take the port first and the engine fails to bind; use ports below the range",
        {
          endpoints: risky.map((e) => e.url).join(","),
          ephemeral_range: `${low}-${high}`,
        },
      );
    }
  }

  private watchEngine(socket: zmq.Subscriber, endpoint: FpmEndpoint, counters: RelayRankCounters): void {
    const events = socket.events;
    events.on("connect", () => {
      counters.engineConnected = 1;
      this.logger.info("engine connected", { dp_rank: endpoint.dpRank, endpoint: endpoint.url });
    });
    events.on("disconnect", () => {
      counters.engineConnected = 0;
      this.logger.warn("engine disconnected; reconnecting", { dp_rank: endpoint.dpRank, endpoint: endpoint.url });
    });
  }

  private receiveLoop(link: RankLink): Promise<void> {
    return zmqReceiveLoop({
      socket: link.socket,
      running: () => this.running,
      onMessage: (frames) => this.handle(link, frames, performance.now()),
      // The burst is over when ZMQ has nothing more queued: publish the batch right away.
      onIdle: () => this.publisher!.flushBatch(),
      onError: (err, retryInMs) => {
        link.counters.receiveErrors++;
        this.logger.limited(`receive-${link.endpoint.dpRank}`, "warn", "ZMQ receive failed; retrying", {
          dp_rank: link.endpoint.dpRank,
          error: err.message,
          retry_in_ms: retryInMs,
        });
      },
    });
  }

  private drop(link: RankLink, reason: RelayDropReason, detail: string): void {
    link.counters.dropped[reason]++;
    link.tracker.skip();
    this.logger.limited(`drop-${reason}`, "warn", "dropped a message from the engine", {
      dp_rank: link.endpoint.dpRank,
      reason,
      detail,
    });
  }

  /** One ZMQ message: check, account, forward. Never throws. */
  private handle(link: RankLink, frames: Buffer[], receivedAt: number): void {
    const c = link.counters;
    c.received++;
    if (frames.length !== FPM_FRAME_COUNT) {
      this.drop(link, "frame_count", `${frames.length} frame(s), expected ${FPM_FRAME_COUNT}`);
      return;
    }
    const payload = frames[2];
    const seq = decodeSeqFrame(frames[1]);
    if (this.opts.validate) {
      if (seq < 0) {
        this.drop(link, "seq_frame", `seq frame is ${frames[1].length} byte(s), expected 8`);
        return;
      }
      if (payload.length > this.opts.maxPayloadBytes) {
        this.drop(
          link,
          "oversize",
          `payload of ${payload.length} bytes over --max-payload-bytes ${this.opts.maxPayloadBytes}`,
        );
        return;
      }
      const decoded = decodeFpm(payload, this.scratch);
      if (!decoded.ok) {
        this.drop(link, decoded.reason, decoded.detail);
        return;
      }
      const counterId = decoded.value.counterId;
      // counter_id 0 means unstamped (older engines), not a mismatch.
      if (counterId !== 0 && counterId !== seq) {
        c.counterIdMismatches++;
        this.logger.limited("counter-id", "debug", "counter_id differs from the seq frame", {
          dp_rank: link.endpoint.dpRank,
          seq,
          counter_id: counterId,
        });
      }
    }
    // Only a message that passed the checks moves the accounting (with --validate off, every
    // message with an 8-byte seq frame); the tracker judges each break by the message after it.
    if (seq >= 0) link.tracker.observe(seq);
    this.publisher!.publish(link.source, payload, receivedAt);
  }

  /** `/health`: 200 while the event plane works (NATS connected; ZMQ records kept alive), else 503 naming what is wrong. */
  health(): HealthReport {
    const plane = this.publisher?.health() ?? { problems: ["event plane not started"], fields: {} };
    const problems = plane.problems;
    return {
      healthy: problems.length === 0,
      status: problems.length === 0 ? "ok" : problems.join("; "),
      plane: this.opts.eventPlane,
      subject: this.subject,
      ...plane.fields,
      bufferedBytes: this.publisher?.bufferedBytes ?? 0,
      engines: this.links.map((l) => ({
        dpRank: l.endpoint.dpRank,
        endpoint: l.endpoint.url,
        connected: l.counters.engineConnected === 1,
        lastSeq: l.counters.lastSeq,
      })),
    };
  }

  /** The NATS connection state (`connected`, `disconnected`, `closed`), or null before start or on ZMQ. */
  get natsState(): string | null {
    const nats = this.publisher?.health().fields.nats;
    return typeof nats === "string" ? nats : null;
  }

  /**
   * Stops receiving, publishes what is held if the plane is up (NATS: waits for the server
   * to confirm it, bounded by `timeoutMs`; what is left is counted dropped), removes ZMQ
   * discovery records, and closes everything. Safe to call twice.
   */
  stop(timeoutMs = 3000): Promise<void> {
    if (!this.stopped) this.stopped = this.doStop(timeoutMs);
    return this.stopped;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    this.running = false;
    // Closing the socket also ends its event observer.
    for (const link of this.links) link.socket.close();
    await Promise.allSettled(this.links.map((l) => l.loop));
    if (this.publisher) await this.publisher.shutdown(timeoutMs);
    this.logger.info("relay stopped", {
      received: this.metrics.allRanks().reduce((n, r) => n + r.received, 0),
      forwarded: this.metrics.allRanks().reduce((n, r) => n + r.forwarded, 0),
      dropped: this.metrics.allRanks().reduce((n, r) => n + r.droppedTotal(), 0),
    });
  }
}
