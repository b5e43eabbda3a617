/**
 * The `--arrivals` flag of `fpm simulate`, parsed into an arrival source:
 * `constant:RATE`, `poisson:RATE`, `step:BASE:STEP:AT[:UNTIL]`,
 * `ramp:FROM:TO:START:DURATION`, `sine:MIN:MAX:PERIOD[:PHASE]` (MIN at PHASE, MAX half a
 * period later), `burst:BASE:PEAK:EVERY:LENGTH[:START]` (PEAK for LENGTH seconds every
 * EVERY seconds from START), `file:PATH` (NDJSON, see arrival-file.ts) or `recording:PATH`
 * (reconstructed from an `fpm record` recording, see recording-arrivals.ts).
 * Rates are requests per second for the whole deployment; times are simulated seconds.
 */
import fs from "node:fs";
import nodePath from "node:path";
import { ConfigError } from "../util/errors.js";
import { parseArrivalsNdjson, type LineProblem } from "./arrival-file.js";
import { type Arrival, type ArrivalSource, ListArrivals, RateArrivals, type RequestLengths } from "./arrivals.js";
import { type LoadShape, loadShapeProblem } from "./load-shape.js";
import { arrivalsFromRecording } from "./recording-arrivals.js";

export const ARRIVALS_HELP =
  "constant:RATE | poisson:RATE | step:BASE:STEP:AT[:UNTIL] | ramp:FROM:TO:START:DURATION | " +
  "sine:MIN:MAX:PERIOD[:PHASE] | burst:BASE:PEAK:EVERY:LENGTH[:START] | file:PATH.ndjson | recording:PATH.ndjson";

export interface ParsedArrivalSpec {
  source: ArrivalSource;
  /** Malformed lines of an arrivals file (skipped). */
  problems: LineProblem[];
  /** What the spec means, for the start-up log line. */
  description: string;
  /** The rate over time, for rate forms (absent for `file:`). */
  shape?: LoadShape;
  /** The arrivals of a `file:` form (absent for rate forms). */
  list?: readonly Arrival[];
}

/** Most `:`-separated fields after the form's name. */
const MAX_FIELDS: Record<string, number> = { constant: 1, poisson: 1, step: 4, ramp: 4, sine: 4, burst: 5 };

function num(text: string | undefined, what: string, spec: string): number {
  const v = text === undefined || text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(v) || v < 0)
    throw new ConfigError(
      `--arrivals ${spec}: ${what} must be a number >= 0, got ${JSON.stringify(text ?? "")} (forms: ${ARRIVALS_HELP})`,
    );
  return v;
}

export function parseArrivalSpec(
  spec: string,
  opts: {
    lengths: RequestLengths;
    seed: number;
    poisson: boolean;
    endS?: number;
    /** A relative `file:` path is read from here. Default: the working directory. */
    baseDir?: string;
  },
): ParsedArrivalSpec {
  const [kind, ...rest] = spec.split(":");
  if (MAX_FIELDS[kind] !== undefined && rest.length > MAX_FIELDS[kind])
    throw new ConfigError(`--arrivals ${spec}: too many fields for ${kind} (forms: ${ARRIVALS_HELP})`);
  let shape: LoadShape;
  let poisson = opts.poisson;
  switch (kind) {
    case "constant":
      shape = { kind: "constant", rate: num(rest[0], "RATE", spec) };
      break;
    case "poisson":
      shape = { kind: "constant", rate: num(rest[0], "RATE", spec) };
      poisson = true;
      break;
    case "step":
      shape = {
        kind: "step",
        baseRate: num(rest[0], "BASE", spec),
        stepRate: num(rest[1], "STEP", spec),
        atS: num(rest[2], "AT", spec),
        untilS: rest[3] === undefined ? undefined : num(rest[3], "UNTIL", spec),
      };
      break;
    case "ramp":
      shape = {
        kind: "ramp",
        fromRate: num(rest[0], "FROM", spec),
        toRate: num(rest[1], "TO", spec),
        startS: num(rest[2], "START", spec),
        durationS: num(rest[3], "DURATION", spec),
      };
      break;
    case "sine":
      shape = {
        kind: "sine",
        minRate: num(rest[0], "MIN", spec),
        maxRate: num(rest[1], "MAX", spec),
        periodS: num(rest[2], "PERIOD", spec),
        phaseS: rest[3] === undefined ? 0 : num(rest[3], "PHASE", spec),
      };
      break;
    case "burst":
      shape = {
        kind: "burst",
        baseRate: num(rest[0], "BASE", spec),
        burstRate: num(rest[1], "PEAK", spec),
        everyS: num(rest[2], "EVERY", spec),
        lengthS: num(rest[3], "LENGTH", spec),
        startS: rest[4] === undefined ? 0 : num(rest[4], "START", spec),
      };
      break;
    case "file":
    case "recording": {
      const given = rest.join(":");
      const path = opts.baseDir === undefined ? given : nodePath.resolve(opts.baseDir, given);
      let text: string;
      try {
        text = fs.readFileSync(path, "utf8");
      } catch (err) {
        throw new ConfigError(`--arrivals ${kind}:${given}: cannot read it (${(err as Error).message})`);
      }
      const parsed = kind === "file" ? parseArrivalsNdjson(text) : arrivalsFromRecording(text.split("\n"), opts.seed);
      const arrivals = opts.endS === undefined ? parsed.arrivals : parsed.arrivals.filter((a) => a.atS < opts.endS!);
      return {
        source: new ListArrivals(arrivals),
        problems: parsed.problems,
        description: `${arrivals.length} arrivals ${kind === "file" ? "from" : "reconstructed from"} ${given}`,
        list: arrivals,
      };
    }
    default:
      throw new ConfigError(`--arrivals ${JSON.stringify(spec)}: unknown form; use ${ARRIVALS_HELP}`);
  }
  const problem = loadShapeProblem(shape);
  if (problem) throw new ConfigError(`--arrivals ${spec}: ${problem}`);
  return {
    source: new RateArrivals({ shape, poisson, lengths: opts.lengths, seed: opts.seed, endS: opts.endS }),
    problems: [],
    description: `${poisson ? "Poisson" : "evenly spaced"} ${spec}`,
    shape,
  };
}

/** Parses `MIN[:MAX]` token ranges of `--input-tokens` / `--output-tokens`. */
export function parseTokenRange(text: string, flag: string): [number, number] {
  const parts = text.split(":");
  const nums = parts.map((p) => (/^\d+$/.test(p.trim()) ? Number(p) : NaN));
  if (parts.length > 2 || nums.some((n) => !Number.isInteger(n) || n < 1))
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: give MIN or MIN:MAX, integers >= 1`);
  const [min, max = min] = nums;
  if (max < min) throw new ConfigError(`${flag} ${text}: MAX is below MIN`);
  return [min, max];
}
