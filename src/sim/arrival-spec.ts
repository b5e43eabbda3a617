/**
 * The `--arrivals` flag of `fpm simulate`, parsed into an arrival source:
 * `constant:RATE`, `poisson:RATE`, `step:BASE:STEP:AT[:UNTIL]`,
 * `ramp:FROM:TO:START:DURATION` or `file:PATH` (NDJSON, see arrival-file.ts).
 * Rates are requests per second for the whole deployment; times are simulated seconds.
 */
import fs from "node:fs";
import { ConfigError } from "../util/errors.js";
import { numberOption } from "../util/number-option.js";
import { parseArrivalsNdjson, type LineProblem } from "./arrival-file.js";
import { type ArrivalSource, ListArrivals, RateArrivals, type RequestLengths } from "./arrivals.js";
import { type LoadShape, loadShapeProblem } from "./load-shape.js";

export const ARRIVALS_HELP =
  "constant:RATE | poisson:RATE | step:BASE:STEP:AT[:UNTIL] | ramp:FROM:TO:START:DURATION | file:PATH.ndjson";

export interface ParsedArrivalSpec {
  source: ArrivalSource;
  /** Malformed lines of an arrivals file (skipped). */
  problems: LineProblem[];
  /** What the spec means, for the start-up log line. */
  description: string;
}

function num(text: string | undefined, what: string, spec: string): number {
  try {
    return numberOption(text ?? "", `--arrivals ${spec}: ${what}`, { min: 0 });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (forms: ${ARRIVALS_HELP})`);
  }
}

export function parseArrivalSpec(
  spec: string,
  opts: { lengths: RequestLengths; seed: number; poisson: boolean; endS?: number },
): ParsedArrivalSpec {
  const [kind, ...rest] = spec.split(":");
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
    case "file": {
      const path = rest.join(":");
      let text: string;
      try {
        text = fs.readFileSync(path, "utf8");
      } catch (err) {
        throw new ConfigError(`--arrivals file:${path}: cannot read it (${(err as Error).message})`);
      }
      const parsed = parseArrivalsNdjson(text);
      const arrivals = opts.endS === undefined ? parsed.arrivals : parsed.arrivals.filter((a) => a.atS < opts.endS!);
      return {
        source: new ListArrivals(arrivals),
        problems: parsed.problems,
        description: `${arrivals.length} arrivals from ${path}`,
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
  };
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
