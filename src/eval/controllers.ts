/**
 * The yardstick contenders' controllers: a fixed deployment (never scales) and the oracle,
 * which knows the arrival schedule. The oracle asks at every second for the workers the
 * scenario will need over the next start-up delay (the most, by the sizing table, at any
 * rate in [t, t + startup_delay_s + 1 s]), so new workers are ready when the load
 * arrives, and it lets workers go as soon as the load no longer needs them.
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
  ) {
    this.initialWorkers = oracleTarget(need, 0, startupDelayS);
  }

  tick(nowS: number, ctx: ControllerContext): void {
    ctx.scaleTo(oracleTarget(this.need, nowS, this.startupDelayS), "oracle");
  }
}
