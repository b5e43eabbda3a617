/**
 * Sequence accounting of one dp_rank from the ZMQ seq frame (docs/design/wire-format.md section 3), fed only
 * with messages that passed the relay's checks. A `SequenceFollower` judges every break by
 * the message after it, so one bad seq adds nothing to `lost` or `engineRestarts`:
 * - a gap of at most `SEQUENCE_MAX_JUMP` counts the missing messages as lost, less the
 *   messages received and dropped by the checks meanwhile (they used seqs too);
 * - a step back is an engine restart when the new seq is at most `SEQUENCE_MAX_JUMP` (a
 *   restarted engine starts again at 0; the relay may join it a little later), else a reset
 *   `back`. Messages the new engine sent before the relay reconnected cannot be told from
 *   ones never sent, so they are not counted as lost;
 * - a longer forward jump is a reset `jump`, a bad seq the next one undoes a reset `reverted`.
 */
import type { RelayRankCounters } from "./relay-metrics.js";
import { SEQUENCE_MAX_JUMP, SequenceFollower, type SequenceStep } from "../util/sequence-follower.js";

export class SequenceTracker {
  private readonly follower = new SequenceFollower();
  /** Messages received and dropped since the last one observed. */
  private dropped = 0;
  /** Those dropped before the pending break: they may have used seqs in its gap. */
  private droppedInBreak = 0;

  constructor(private readonly counters: RelayRankCounters) {}

  /**
   * A message received but dropped by the checks: it is not followed, but it may have used
   * a seq, so a gap around it is not a loss by that much (one bad message hides at most one).
   */
  skip(): void {
    this.dropped++;
  }

  /** Records `seq` and says what it was. */
  observe(seq: number): SequenceStep {
    const f = this.follower;
    const dropped = this.dropped;
    this.dropped = 0;
    // An engine never sends an older seq: any lower one is a step back.
    const step = f.observe(seq, 0);
    const c = this.counters;
    c.lastSeq = seq;
    switch (f.settled) {
      case "none":
        break;
      case "gap":
        c.lost += Math.max(0, f.settledLost - this.droppedInBreak);
        break;
      case "back":
        if (f.settledAt <= SEQUENCE_MAX_JUMP) c.engineRestarts++;
        else c.seqResets.back++;
        break;
      default:
        c.seqResets[f.settled]++;
    }
    if (step === "break") this.droppedInBreak = dropped;
    return step;
  }
}
