/**
 * Which entries of a bounded table may make room for a newcomer: those still on probation,
 * with fewer than `PROBATION_MESSAGES` messages; the fewest messages first, the oldest first
 * among equals. An entry that keeps reporting is promoted and never evicted for a newcomer,
 * so a flood of one-message strangers (forged worker or publisher ids) only churns the
 * probation tier, and a genuine newcomer's second message already ranks it above them.
 */

/** Messages after which an entry leaves probation (docs/design/hostile-input.md). */
export const PROBATION_MESSAGES = 3;

/** An entry counting its own messages (1 when it enters). */
export interface Probationer {
  messages: number;
}

export class Probation<T extends Probationer> {
  /** `levels[m - 1]`: the entries with m messages, oldest first (Set keeps insertion order). */
  private readonly levels: Set<T>[] = Array.from({ length: PROBATION_MESSAGES - 1 }, () => new Set<T>());

  /** Entries on probation now. */
  get size(): number {
    let n = 0;
    for (const l of this.levels) n += l.size;
    return n;
  }

  /** A new entry, with its first message. */
  enter(t: T): void {
    if (t.messages < PROBATION_MESSAGES) this.levels[t.messages - 1].add(t);
  }

  /** Call after `t.messages` went up by one. Costs one comparison once `t` is promoted. */
  seen(t: T): void {
    const m = t.messages;
    if (m > PROBATION_MESSAGES) return;
    this.levels[m - 2].delete(t);
    if (m < PROBATION_MESSAGES) this.levels[m - 1].add(t);
  }

  /** `t` left the table. */
  delete(t: T): void {
    if (t.messages < PROBATION_MESSAGES) this.levels[t.messages - 1]?.delete(t);
  }

  /** True when `t` is past probation. */
  promoted(t: T): boolean {
    return t.messages >= PROBATION_MESSAGES;
  }

  /** Removes and returns the entry to evict for a newcomer, or undefined when every entry is promoted. */
  evict(): T | undefined {
    for (const l of this.levels) {
      for (const t of l) {
        l.delete(t);
        return t;
      }
    }
    return undefined;
  }
}
