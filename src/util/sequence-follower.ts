/**
 * Follows one stream of sequence numbers (an engine's ZMQ seq, a publisher's envelope
 * `sequence`, an engine's `counter_id`) and judges each number against it, so that one
 * forged or corrupted number costs nothing but itself (docs/design/hostile-input.md).
 *
 * A number that breaks the stream (a gap, a jump, a step back) is judged by the number after
 * it. If that one continues the stream from before the break, the break was a bad number
 * and is forgotten (`reverted`). Otherwise the break stands (it is "settled"): a gap of at
 * most `SEQUENCE_MAX_JUMP` counts its missing numbers as lost, a longer jump or a step back
 * starts a new epoch (a reset, not a loss). Only two numbers in line can move the stream.
 */

/** A forward step of more than this many numbers is not a gap but a new epoch (`jump`). */
export const SEQUENCE_MAX_JUMP = 2 ** 20;

/**
 * How a settled break reset the stream (a gap is a loss, not a reset):
 * - `jump`: forward by more than `SEQUENCE_MAX_JUMP`, confirmed by the number after it;
 * - `back`: backwards beyond the caller's window, confirmed by the number after it;
 * - `reverted`: one number out of line, the next continued the stream from before it.
 */
export const SEQUENCE_RESET_REASONS = ["jump", "back", "reverted"] as const;
export type SequenceResetReason = (typeof SEQUENCE_RESET_REASONS)[number];

/**
 * What one number was, as `observe` says:
 * - `first`: the first number followed;
 * - `next`: the last one plus one;
 * - `break`: a gap, jump or step back, pending until the next number judges it;
 * - `repeat`: the last number again;
 * - `behind`: below the last, within the caller's window (a re-delivery).
 */
export type SequenceStep = "first" | "next" | "break" | "repeat" | "behind";

/** What the latest `observe` settled about the break before it. */
export type SequenceSettled = "none" | "gap" | SequenceResetReason;

const NONE = 0;
const GAP = 1;
const JUMP = 2;
const BACK = 3;

/** A fresh record per reason, all 0. */
export function emptyResetCounts(): Record<SequenceResetReason, number> {
  return { jump: 0, back: 0, reverted: 0 };
}

export class SequenceFollower {
  /** The stream's latest number (a pending break's number included); -1 before the first. */
  last = -1;
  /** What the latest `observe` settled; read it right after the call. */
  settled: SequenceSettled = "none";
  /** Numbers missing from a settled gap (when `settled` is `gap`). */
  settledLost = 0;
  /** Where a settled `back` or `jump` went: the first number of the new epoch. */
  settledAt = -1;
  /** The stream's number before the pending break. */
  private prior = -1;
  private pending = NONE;

  /**
   * Judges `s` (a non-negative integer). `behindWindow`: how far below the last number a
   * number is a re-delivery (`repeat`/`behind`) rather than a step back; 0 makes every lower
   * number a step back (an engine never sends an older seq; a lower one is a restart).
   */
  observe(s: number, behindWindow: number): SequenceStep {
    this.settled = "none";
    const last = this.last;
    if (last < 0) {
      this.last = s;
      return "first";
    }
    if (this.pending !== NONE) {
      const p = this.prior;
      // Continues the stream from before the break (and, after a forward break, stays below it).
      if (s > p && s - p <= SEQUENCE_MAX_JUMP && (this.pending === BACK || s < last)) {
        this.settled = "reverted";
        this.pending = NONE;
        this.last = p;
        return this.step(s, behindWindow);
      }
      if (s === last) return "repeat";
      if (s <= p && p - s <= behindWindow) return "behind";
      this.settle();
    }
    return this.step(s, behindWindow);
  }

  /** The break awaiting the next number's judgement: `none`, or a `gap`, `jump` or `back`. */
  get judging(): "none" | "gap" | "jump" | "back" {
    return this.pending === GAP ? "gap" : this.pending === JUMP ? "jump" : this.pending === BACK ? "back" : "none";
  }

  /** Forgets everything: the next number is a `first`. */
  reset(): void {
    this.last = -1;
    this.prior = -1;
    this.pending = NONE;
  }

  private step(s: number, behindWindow: number): SequenceStep {
    const last = this.last;
    if (s === last + 1) {
      this.last = s;
      return "next";
    }
    if (s > last) return this.breakTo(s, s - last - 1 <= SEQUENCE_MAX_JUMP ? GAP : JUMP);
    if (last - s <= behindWindow) return s === last ? "repeat" : "behind";
    return this.breakTo(s, BACK);
  }

  private breakTo(s: number, kind: number): SequenceStep {
    this.prior = this.last;
    this.pending = kind;
    this.last = s;
    return "break";
  }

  /** The pending break stands: say what it was. */
  private settle(): void {
    const kind = this.pending;
    this.pending = NONE;
    if (kind === GAP) {
      this.settled = "gap";
      this.settledLost = this.last - this.prior - 1;
    } else {
      this.settled = kind === JUMP ? "jump" : "back";
      this.settledAt = this.last;
    }
  }
}
