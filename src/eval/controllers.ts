/**
 * The yardstick contenders' controllers: a fixed deployment (never scales) and the oracle,
 * which knows the arrival schedule. The oracle asks at every second for the workers the
 * scenario will need over the next start-up delay (the most, by the sizing table, at any
 * rate in [t, t + startup_delay_s + 1 s]), so new workers are ready when the load
 * arrives. It lets workers go once the load no longer needs them and the requests still
 * in flight fit on fewer (at most the steady concurrency of that many workers at their
 * highest rate), so a scale-down does not pile long requests onto the rest.
 */
import type { ControllerContext, ScalingController } from "./closed-loop.js";

export class FixedController implements ScalingController {
  constructor(
    readonly initialWorkers: number,
    readonly tickIntervalS: number,
  ) {}

  tick(): void {}
}

/** Seconds between the oracle's looks at its schedule. */
export const ORACLE_STEP_S = 1;

/** Workers to have running or starting at `tS`: the most needed until they could be ready. */
export function oracleTarget(need: (tS: number) => number, tS: number, startupDelayS: number): number {
  let n = 1;
  const until = tS + startupDelayS + ORACLE_STEP_S;
  for (let t = tS; t <= until + 1e-9; t += 0.5) n = Math.max(n, need(t));
  return n;
}

export class OracleController implements ScalingController {
  readonly tickIntervalS = ORACLE_STEP_S;
  readonly initialWorkers: number;

  constructor(
    private readonly need: (tS: number) => number,
    private readonly startupDelayS: number,
    /** Requests in flight that n workers carry at their highest rate (`SizingTable.concurrency`). */
    private readonly concurrency: readonly number[],
  ) {
    this.initialWorkers = oracleTarget(need, 0, startupDelayS);
  }

  tick(nowS: number, ctx: ControllerContext): void {
    const want = oracleTarget(this.need, nowS, this.startupDelayS);
    const now = ctx.deployment.workerCount();
    if (want >= now) {
      ctx.scaleTo(want, "oracle");
      return;
    }
    const inFlight = ctx.deployment.outstandingRequests();
    let n = now;
    while (n > want && inFlight <= (this.concurrency[n - 1] ?? Infinity)) n--;
    ctx.scaleTo(n, "oracle");
  }
}
