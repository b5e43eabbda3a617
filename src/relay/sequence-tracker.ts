/**
 * Sequence accounting of one dp_rank from the ZMQ seq frame (WIRE.md section 3): a forward
 * jump counts the missing messages as lost; a seq at or below the last one is an engine
 * restart, which starts a new baseline (messages the new engine sent before the relay
 * reconnected cannot be told from ones never sent, so they are not counted as lost).
 */
import type { RelayRankCounters } from "../metrics/relay-metrics.js";

export type SeqVerdict = "first" | "next" | "gap" | "restart";

export class SequenceTracker {
  constructor(private readonly counters: RelayRankCounters) {}

  /** Records `seq` and says what it meant. */
  observe(seq: number): SeqVerdict {
    const c = this.counters;
    const last = c.lastSeq;
    c.lastSeq = seq;
    if (last < 0) return "first";
    if (seq === last + 1) return "next";
    if (seq > last) {
      c.lost += seq - last - 1;
      return "gap";
    }
    c.engineRestarts++;
    return "restart";
  }
}
