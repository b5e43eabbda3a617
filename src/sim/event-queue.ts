/**
 * The simulated clock: a min-heap of timed events. Simulated time only moves when events
 * are run, so a simulation runs as fast as the CPU allows (tests, offline replay) or is
 * paced against wall time by a runner (the CLI's `--speed`).
 */
export interface SimEvent {
  atS: number;
  /** Tie-breaker: events at the same time run in the order they were scheduled. */
  order: number;
  run: () => void;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private order = 0;
  /** The current simulated time, seconds. */
  nowS = 0;

  get size(): number {
    return this.heap.length;
  }

  at(atS: number, run: () => void): void {
    this.push({ atS: Math.max(atS, this.nowS), order: this.order++, run });
  }

  /** Time of the next event, or Infinity. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0].atS : Infinity;
  }

  /** Runs the next event if it is due at or before `untilS`; false when none is. */
  runNext(untilS: number): boolean {
    if (this.heap.length === 0 || this.heap[0].atS > untilS) return false;
    const ev = this.pop();
    this.nowS = ev.atS;
    ev.run();
    return true;
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): SimEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atS < b.atS || (a.atS === b.atS && a.order < b.order);
}
