/**
 * The subscriber's publishers (relays, one per dp_rank), keyed by `publisher_id`: each
 * follows its envelope `sequence` for de-duplication and loss. Bounded: a newcomer takes
 * the place of a publisher still on probation (`Probation`), else of the one tracked
 * longest; publishers silent for the engines' stale time are forgotten.
 */
import { SequenceFollower } from "../util/sequence-follower.js";
import { Probation, type Probationer } from "./probation.js";

/** Publisher ids are map keys: numbers (nearly all ids fit 2^53-1) hash faster than bigints. */
export type PublisherKey = number | bigint;

export interface PublisherState extends Probationer {
  readonly id: PublisherKey;
  /** Follows the envelope `sequence`. */
  sequences: SequenceFollower;
  /** Local time (ms) of the latest envelope in sequence. */
  lastSeenMs: number;
}

export class PublisherTable {
  private readonly byId = new Map<PublisherKey, PublisherState>();
  private readonly probation = new Probation<PublisherState>();
  /** Publishers forgotten to make room for a newcomer. */
  evicted = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: PublisherKey): PublisherState | undefined {
    return this.byId.get(id);
  }

  /** Starts following a new publisher, making room first when the table is full. */
  add(id: PublisherKey, nowMs: number): PublisherState {
    if (this.byId.size >= this.max) {
      const stranger = this.probation.evict();
      if (stranger) this.byId.delete(stranger.id);
      else {
        // Every publisher is promoted: forget the one followed longest (maps keep insertion order).
        this.byId.delete(this.byId.keys().next().value as PublisherKey);
      }
      this.evicted++;
    }
    const p: PublisherState = { id, sequences: new SequenceFollower(), lastSeenMs: nowMs, messages: 1 };
    this.byId.set(id, p);
    this.probation.enter(p);
    return p;
  }

  /** Another envelope in sequence from `p`. */
  seen(p: PublisherState, nowMs: number): void {
    p.lastSeenMs = nowMs;
    p.messages++;
    this.probation.seen(p);
  }

  /** Forgets publishers silent for longer than `staleAfterMs`; returns how many. */
  expire(nowMs: number, staleAfterMs: number): number {
    let n = 0;
    for (const p of this.byId.values()) {
      if (nowMs - p.lastSeenMs > staleAfterMs) {
        this.byId.delete(p.id);
        this.probation.delete(p);
        n++;
      }
    }
    return n;
  }
}
