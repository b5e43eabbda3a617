/**
 * The simulated engines' forward passes onto a planner's subscriber exactly as they would
 * arrive from NATS: each FPM is encoded with the codec (msgspec's bytes), wrapped in the
 * event-plane envelope the relay writes (the payload copied straight in) (one publisher id and sequence per dp rank), and
 * handed to `FpmEventSubscriber.ingest`, which decodes, validates, de-duplicates and
 * tracks it as it does for a live message. Nothing is skipped for speed.
 */
import { encodeFpmTransient } from "../codec/fpm-encode.js";
import { fpmSubject } from "../eventplane/subject.js";
import { RankEnvelopeWriter } from "../relay/envelope-writer.js";
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";
import type { ForwardPassEvent } from "../sim/deployment.js";
import type { FpmEventSubscriber } from "../subscriber/fpm-event-subscriber.js";

interface RankStream {
  writer: RankEnvelopeWriter;
  sequence: number;
}

export class FpmFeed {
  readonly subject: string;
  private readonly ranks = new Map<string, Map<number, RankStream>>();
  /** Workers that left discovery: their messages are no longer delivered. */
  private readonly gone = new Set<string>();
  private nextPublisherId = 1;
  readonly totals = { delivered: 0, dropped: 0 };

  constructor(
    private readonly subscriber: FpmEventSubscriber,
    scope: { namespace: string; component: string },
  ) {
    this.subject = fpmSubject(scope, {});
  }

  /** One forward pass as a NATS message, at simulated time `ev.atS`. */
  publish(ev: ForwardPassEvent): void {
    if (this.gone.has(ev.workerId)) return;
    let worker = this.ranks.get(ev.workerId);
    if (!worker) {
      worker = new Map();
      this.ranks.set(ev.workerId, worker);
    }
    let rank = worker.get(ev.dpRank);
    if (!rank) {
      rank = { writer: new RankEnvelopeWriter(BigInt(this.nextPublisherId++), FPM_TOPIC), sequence: 0 };
      worker.set(ev.dpRank, rank);
    }
    const bytes = rank.writer.write(++rank.sequence, Math.round(ev.atS * 1000), encodeFpmTransient(ev.fpm));
    if (this.subscriber.ingest(this.subject, bytes) === null) this.totals.delivered++;
    else this.totals.dropped++;
  }

  /** A worker left discovery (stopped or draining): the subscriber forgets it and its later messages are not sent. */
  removeWorker(workerId: string): void {
    this.gone.add(workerId);
    this.ranks.delete(workerId);
    this.subscriber.removeWorker(workerId);
  }
}
