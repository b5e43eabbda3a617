/**
 * Population variance the way the engines compute it (Welford: n, mean, M2/n; 0 when
 * n == 0), so simulated FPM carries the same numbers a real scheduler would.
 */
export class RunningVariance {
  count = 0;
  sum = 0;
  private mean = 0;
  private m2 = 0;

  add(x: number): void {
    this.count++;
    this.sum += x;
    const delta = x - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (x - this.mean);
  }

  /** Population variance (M2 / n); 0 for no values. */
  variance(): number {
    return this.count === 0 ? 0 : Math.max(0, this.m2 / this.count);
  }
}
