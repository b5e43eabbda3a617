/**
 * The request rate of a simulated deployment over simulated time: constant, a step (for
 * example the demo's load burst), a linear ramp, a sinusoid (a day of traffic) or periodic
 * bursts. Rates are requests per second for the whole deployment; the router spreads them
 * over the engines.
 */
export type LoadShape =
  | { kind: "constant"; rate: number }
  /** `baseRate` before `atS` and from `untilS` on; `stepRate` in between. */
  | { kind: "step"; baseRate: number; stepRate: number; atS: number; untilS?: number }
  /** `fromRate` until `startS`, linear to `toRate` over `durationS`, then `toRate`. */
  | { kind: "ramp"; fromRate: number; toRate: number; startS: number; durationS: number }
  /** `minRate` at `phaseS` (and every `periodS` after), `maxRate` half a period later: a raised cosine. */
  | { kind: "sine"; minRate: number; maxRate: number; periodS: number; phaseS: number }
  /** `burstRate` for `lengthS` every `everyS` from `startS` on, `baseRate` otherwise. */
  | { kind: "burst"; baseRate: number; burstRate: number; everyS: number; lengthS: number; startS: number };

const TWO_PI = 2 * Math.PI;

/** Seconds of burst in [startS, tS]. */
function burstTime(shape: Extract<LoadShape, { kind: "burst" }>, tS: number): number {
  const u = tS - shape.startS;
  if (u <= 0) return 0;
  const full = Math.floor(u / shape.everyS);
  return full * shape.lengthS + Math.min(u - full * shape.everyS, shape.lengthS);
}

function inBurst(shape: Extract<LoadShape, { kind: "burst" }>, tS: number): boolean {
  if (tS < shape.startS) return false;
  const u = tS - shape.startS;
  return u - Math.floor(u / shape.everyS) * shape.everyS < shape.lengthS;
}

export function rateAt(shape: LoadShape, tS: number): number {
  switch (shape.kind) {
    case "constant":
      return shape.rate;
    case "step":
      return tS >= shape.atS && (shape.untilS === undefined || tS < shape.untilS) ? shape.stepRate : shape.baseRate;
    case "ramp": {
      if (tS <= shape.startS) return shape.fromRate;
      if (shape.durationS <= 0 || tS >= shape.startS + shape.durationS) return shape.toRate;
      return shape.fromRate + ((shape.toRate - shape.fromRate) * (tS - shape.startS)) / shape.durationS;
    }
    case "sine":
      return (
        shape.minRate +
        ((shape.maxRate - shape.minRate) * (1 - Math.cos((TWO_PI * (tS - shape.phaseS)) / shape.periodS))) / 2
      );
    case "burst":
      return inBurst(shape, tS) ? shape.burstRate : shape.baseRate;
  }
}

/** The highest rate the shape ever reaches (the envelope for Poisson thinning). */
export function maxRate(shape: LoadShape): number {
  switch (shape.kind) {
    case "constant":
      return shape.rate;
    case "step":
      return Math.max(shape.baseRate, shape.stepRate);
    case "ramp":
      return Math.max(shape.fromRate, shape.toRate);
    case "sine":
      return Math.max(shape.minRate, shape.maxRate);
    case "burst":
      return Math.max(shape.baseRate, shape.burstRate);
  }
}

/** The earliest time >= tS at which the rate is above 0, or null when it never is again. */
export function nextNonZero(shape: LoadShape, tS: number): number | null {
  if (rateAt(shape, tS) > 0) return tS;
  switch (shape.kind) {
    case "constant":
      return null;
    case "step": {
      if (tS < shape.atS && shape.stepRate > 0) return shape.atS;
      if (shape.untilS !== undefined && tS < shape.untilS && shape.baseRate > 0) return shape.untilS;
      return null;
    }
    case "ramp": {
      // A ramp from 0 becomes positive just after it starts; one from a positive rate to 0 never recovers.
      if (tS < shape.startS + shape.durationS && shape.toRate > 0) return Math.max(tS, shape.startS) + 1e-9;
      return null;
    }
    case "sine":
      // Zero only at the troughs of a sinusoid with minRate 0: it rises again at once.
      return shape.maxRate > 0 ? tS + 1e-9 : null;
    case "burst": {
      if (tS < shape.startS) return shape.burstRate > 0 ? shape.startS : null;
      const k = Math.floor((tS - shape.startS) / shape.everyS);
      const burstStart = shape.startS + k * shape.everyS;
      // In a burst of rate 0, the base rate comes back at its end; else the next burst starts.
      if (inBurst(shape, tS)) return shape.baseRate > 0 ? burstStart + shape.lengthS : null;
      return shape.burstRate > 0 ? burstStart + shape.everyS : null;
    }
  }
}

/** Checks a shape; returns a message saying what is wrong, or null. */
export function loadShapeProblem(shape: LoadShape): string | null {
  const nums: Record<string, number | undefined> = { ...shape } as unknown as Record<string, number | undefined>;
  for (const [k, v] of Object.entries(nums)) {
    if (k === "kind" || v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `${k} must be a finite number >= 0, got ${v}`;
  }
  if (shape.kind === "step" && shape.untilS !== undefined && shape.untilS < shape.atS)
    return `the step ends (${shape.untilS} s) before it starts (${shape.atS} s)`;
  if (shape.kind === "sine" && !(shape.periodS > 0)) return `periodS must be > 0, got ${shape.periodS}`;
  if (shape.kind === "burst") {
    if (!(shape.everyS > 0)) return `everyS must be > 0, got ${shape.everyS}`;
    if (!(shape.lengthS > 0 && shape.lengthS <= shape.everyS))
      return `lengthS must be > 0 and at most everyS (${shape.everyS}), got ${shape.lengthS}`;
  }
  return null;
}

/** Expected arrivals in [0, tS]: the integral of the rate. */
export function cumulativeArrivals(shape: LoadShape, tS: number): number {
  if (tS <= 0) return 0;
  switch (shape.kind) {
    case "constant":
      return shape.rate * tS;
    case "step": {
      const end = shape.untilS ?? Infinity;
      const before = Math.min(tS, shape.atS);
      const during = Math.max(0, Math.min(tS, end) - shape.atS);
      const after = Math.max(0, tS - end);
      return shape.baseRate * (before + after) + shape.stepRate * during;
    }
    case "ramp": {
      const rampEnd = shape.startS + Math.max(0, shape.durationS);
      const flat = shape.fromRate * Math.min(tS, shape.startS);
      if (tS <= shape.startS) return flat;
      const x = Math.min(tS, rampEnd) - shape.startS;
      const slope = shape.durationS > 0 ? (shape.toRate - shape.fromRate) / shape.durationS : 0;
      return flat + shape.fromRate * x + 0.5 * slope * x * x + shape.toRate * Math.max(0, tS - rampEnd);
    }
    case "sine": {
      const w = TWO_PI / shape.periodS;
      const swing = (shape.maxRate - shape.minRate) / 2;
      const integralCos = (Math.sin(w * (tS - shape.phaseS)) - Math.sin(-w * shape.phaseS)) / w;
      return shape.minRate * tS + swing * (tS - integralCos);
    }
    case "burst":
      return shape.baseRate * tS + (shape.burstRate - shape.baseRate) * burstTime(shape, tS);
  }
}

/** The earliest time at which `cumulativeArrivals` reaches `count`, or null when it never does. */
export function timeOfCumulative(shape: LoadShape, count: number, fromS: number): number | null {
  let lo = fromS;
  let hi = Math.max(fromS, 1) * 2;
  while (cumulativeArrivals(shape, hi) < count) {
    if (hi > 1e12) return null;
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (cumulativeArrivals(shape, mid) >= count) hi = mid;
    else lo = mid;
  }
  return hi;
}
