/**
 * The `--arrivals` flag of `fpm simulate`, parsed into an arrival source:
 * `constant:RATE`, `poisson:RATE`, `step:BASE:STEP:AT[:UNTIL]`,
 * `ramp:FROM:TO:START:DURATION`, `sine:MIN:MAX:PERIOD[:PHASE]` (MIN at PHASE, MAX half a
 * period later), `burst:BASE:PEAK:EVERY:LENGTH[:START]` (PEAK for LENGTH seconds every
 * EVERY seconds from START), `file:PATH` (NDJSON, see arrival-file.ts) or `recording:PATH`
 * (reconstructed from an `fpm record` recording, see recording-arrivals.ts).
 * Rates are requests per second for the whole deployment; times are simulated seconds.
 */
import nodePath from "node:path";
import { ConfigError } from "../util/errors.js";
import { type LineProblem, readNdjsonText } from "../recording/ndjson-file.js";
import { numberOption } from "../util/number-option.js";
import { parseArrivalsNdjson } from "./arrival-file.js";
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

/**
 * The `:`-separated fields of each rate form, in order: the LoadShape key, the name the
 * help uses, and for an optional trailing field its default (`null`: left unset).
 */
const RATE_FORMS: Record<LoadShape["kind"], [string, string, (number | null)?][]> = {
  constant: [["rate", "RATE"]],
  step: [
    ["baseRate", "BASE"],
    ["stepRate", "STEP"],
    ["atS", "AT"],
    ["untilS", "UNTIL", null],
  ],
  ramp: [
    ["fromRate", "FROM"],
    ["toRate", "TO"],
    ["startS", "START"],
    ["durationS", "DURATION"],
  ],
  sine: [
    ["minRate", "MIN"],
    ["maxRate", "MAX"],
    ["periodS", "PERIOD"],
    ["phaseS", "PHASE", 0],
  ],
  burst: [
    ["baseRate", "BASE"],
    ["burstRate", "PEAK"],
    ["everyS", "EVERY"],
    ["lengthS", "LENGTH"],
    ["startS", "START", 0],
  ],
};

function num(text: string | undefined, what: string, spec: string): number {
  try {
    return numberOption(text ?? "", `--arrivals ${spec}: ${what}`, { min: 0 });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (forms: ${ARRIVALS_HELP})`);
  }
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
  const [name, ...rest] = spec.split(":");
  // `poisson:RATE` is a constant rate with Poisson arrivals whatever the flag says.
  const kind = name === "poisson" ? "constant" : name;
  const poisson = opts.poisson || name === "poisson";
  const form = Object.hasOwn(RATE_FORMS, kind) ? RATE_FORMS[kind as LoadShape["kind"]] : undefined;
  if (form) {
    if (rest.length > form.length)
      throw new ConfigError(`--arrivals ${spec}: too many fields for ${name} (forms: ${ARRIVALS_HELP})`);
    const fields: Record<string, unknown> = { kind };
    form.forEach(([key, label, def], i) => {
      if (def !== undefined && rest[i] === undefined) {
        if (def !== null) fields[key] = def;
      } else fields[key] = num(rest[i], label, spec);
    });
    const shape = fields as unknown as LoadShape;
    const problem = loadShapeProblem(shape);
    if (problem) throw new ConfigError(`--arrivals ${spec}: ${problem}`);
    return {
      source: new RateArrivals({ shape, poisson, lengths: opts.lengths, seed: opts.seed, endS: opts.endS }),
      problems: [],
      description: `${poisson ? "Poisson" : "evenly spaced"} ${spec}`,
      shape,
    };
  }
  switch (name) {
    case "file":
    case "recording": {
      const given = rest.join(":");
      const path = opts.baseDir === undefined ? given : nodePath.resolve(opts.baseDir, given);
      const text = readNdjsonText(path, `--arrivals ${name}:${given}`);
      const parsed = name === "file" ? parseArrivalsNdjson(text) : arrivalsFromRecording(text.split("\n"), opts.seed);
      const arrivals = opts.endS === undefined ? parsed.arrivals : parsed.arrivals.filter((a) => a.atS < opts.endS!);
      return {
        source: new ListArrivals(arrivals),
        problems: parsed.problems,
        description: `${arrivals.length} arrivals ${name === "file" ? "from" : "reconstructed from"} ${given}`,
        list: arrivals,
      };
    }
    default:
      throw new ConfigError(`--arrivals ${JSON.stringify(spec)}: unknown form; use ${ARRIVALS_HELP}`);
  }
}

/** Parses `MIN[:MAX]` token ranges of `--input-tokens` / `--output-tokens`. */
export function parseTokenRange(text: string, flag: string): [number, number] {
  const parts = text.split(":");
  let nums: number[];
  try {
    if (parts.length > 2) throw new ConfigError("too many parts");
    nums = parts.map((p) => numberOption(p, flag, { integer: true, min: 1 }));
  } catch {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: give MIN or MIN:MAX, integers >= 1`);
  }
  const [min, max = min] = nums;
  if (max < min) throw new ConfigError(`${flag} ${text}: MAX is below MIN`);
  return [min, max];
}
