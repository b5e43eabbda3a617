/**
 * Fixed-window moving average that ignores leading zeros (docs/design/planner-algorithm.md section 4): values of
 * an idle engine before its first real traffic must not drag the averages towards zero.
 * Once a non-zero value has been seen, zeros count like any other value.
 */
export class MovingAverage {
  private readonly window: Float64Array;
  private start = 0;
  private count = 0;
  private sum = 0;
  private seenNonZero = false;

  /** @param windowSize values kept (the reference uses `max_num_fpm_samples`); at least 1. */
  constructor(windowSize: number) {
    this.window = new Float64Array(Math.max(1, Math.floor(windowSize)));
  }

  add(value: number): void {
    if (value === 0 && !this.seenNonZero) return;
    if (value !== 0) this.seenNonZero = true;
    const cap = this.window.length;
    if (this.count === cap) {
      // Same running-sum arithmetic as the reference: subtract the evicted value, then add.
      this.sum -= this.window[this.start];
      this.window[this.start] = value;
      this.start = (this.start + 1) % cap;
    } else {
      this.window[(this.start + this.count) % cap] = value;
      this.count++;
    }
    this.sum += value;
  }

  /** The average of the values kept; 0 before any value was kept. */
  get value(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get size(): number {
    return this.count;
  }
}
