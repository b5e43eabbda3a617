/**
 * The yardstick contenders' controllers: a fixed deployment (never scales), the oracle,
 * which knows the arrival schedule, and the reactive bound, the oracle without foresight.
 *
 * The oracle asks at every second for the workers the scenario will need over the next
 * start-up delay (the most, by the sizing table, at any rate in [t, t + startup_delay_s +
 * 1 s]), so new workers are ready when the load arrives. It lets workers go once the load
 * no longer needs them and the requests still in flight fit on fewer (at most the steady
 * concurrency of that many workers at their highest rate), so a scale-down does not pile
 * long requests onto the rest.
 *
 * The reactive bound is the best a planner that cannot see the future can do at about the
 * oracle's cost (docs/guides/evaluating-the-planner.md, "The reactive bound"): it starts
 * with the need of the load at time 0, learns of a rise in the second it happens, asks at
 * once for the need of the new rate plus the shortfall again (`boundScaleUp`: the workers
 * that join after the start-up must also drain what queued on too few meanwhile), and pays
 * the whole start-up. It lets workers go by the oracle's rule applied to the need of the
 * moment (it cannot see a coming rise either), and only once every worker is ready and no
 * request is queued.
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
    if (want >= now) ctx.scaleTo(want, "oracle");
    else ctx.scaleTo(releaseTo(want, now, ctx.deployment.outstandingRequests(), this.concurrency), "oracle");
  }
}

/**
 * The oracle's scale-down: from `now` workers towards `want`, one fewer at a time while the
 * requests in flight fit on one fewer (at most `concurrency[n - 1]`).
 */
export function releaseTo(want: number, now: number, inFlight: number, concurrency: readonly number[]): number {
  let n = now;
  while (n > want && inFlight <= (concurrency[n - 1] ?? Infinity)) n--;
  return n;
}

export class ReactiveBoundController implements ScalingController {
  readonly tickIntervalS = ORACLE_STEP_S;
  readonly initialWorkers: number;
  /** When it last let workers go: a need seen before that was already served. */
  private lastDownS = -Infinity;

  constructor(
    private readonly need: (tS: number) => number,
    /** Requests in flight that n workers carry at their highest rate (`SizingTable.concurrency`). */
    private readonly concurrency: readonly number[],
  ) {
    this.initialWorkers = Math.max(1, need(0));
  }

  tick(nowS: number, ctx: ControllerContext): void {
    const d = ctx.deployment;
    const now = d.workerCount();
    let seen = 1;
    for (let t = Math.max(0, this.lastDownS, nowS - ORACLE_STEP_S); t <= nowS + 1e-9; t += 0.5)
      seen = Math.max(seen, this.need(t));
    if (seen > now) {
      ctx.scaleTo(boundScaleUp(seen, now), "reactive-bound");
      return;
    }
    const want = this.need(nowS);
    if (want >= now || d.readyWorkerCount() < now || queuedRequests(d) > 0) return;
    const to = releaseTo(want, now, d.outstandingRequests(), this.concurrency);
    if (to < now) {
      this.lastDownS = nowS;
      ctx.scaleTo(to, "reactive-bound");
    }
  }
}

/**
 * The reactive bound's answer to a rise from `allocated` workers (ready or starting) to a
 * need of `seen`: the need, plus the shortfall again, so the workers that join after the
 * start-up also drain, within about one more start-up, what queued on too few meanwhile.
 */
export function boundScaleUp(seen: number, allocated: number): number {
  return seen + Math.max(0, seen - allocated);
}

function queuedRequests(d: ControllerContext["deployment"]): number {
  let n = 0;
  for (const e of d.engineViews()) n += e.waiting;
  return n;
}
