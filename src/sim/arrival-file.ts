/**
 * Recorded arrivals as NDJSON, one request per line:
 * `{"t": 0.25, "input_tokens": 512, "output_tokens": 128, "cached_tokens": 0}`
 * (`t` in seconds from the start; `cached_tokens` optional). A malformed line is reported
 * with its line number and skipped, never fatal.
 */
import type { LineProblem } from "../recording/ndjson-file.js";
import type { Arrival } from "./arrivals.js";

export interface ParsedArrivals {
  arrivals: Arrival[];
  problems: LineProblem[];
}

function tokenCount(v: unknown, name: string, min: number): number | string {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) return `${name} must be an integer >= ${min}`;
  return v;
}

export function parseArrivalsNdjson(text: string): ParsedArrivals {
  const arrivals: Arrival[] = [];
  const problems: LineProblem[] = [];
  const lines = text.split("\n");
  let lastT = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      problems.push({ line, reason: "not JSON" });
      continue;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      problems.push({ line, reason: "not a JSON object" });
      continue;
    }
    const o = obj as Record<string, unknown>;
    if (typeof o.t !== "number" || !Number.isFinite(o.t) || o.t < 0) {
      problems.push({ line, reason: "t must be a number of seconds >= 0" });
      continue;
    }
    const input = tokenCount(o.input_tokens, "input_tokens", 1);
    const output = tokenCount(o.output_tokens, "output_tokens", 1);
    const cached = o.cached_tokens === undefined ? 0 : tokenCount(o.cached_tokens, "cached_tokens", 0);
    const bad = [input, output, cached].find((x) => typeof x === "string");
    if (bad !== undefined) {
      problems.push({ line, reason: bad as string });
      continue;
    }
    if ((cached as number) >= (input as number)) {
      problems.push({ line, reason: "cached_tokens must be below input_tokens" });
      continue;
    }
    if (o.t < lastT) {
      problems.push({ line, reason: `t goes back in time (${o.t} < ${lastT})` });
      continue;
    }
    lastT = o.t;
    arrivals.push({
      atS: o.t,
      inputTokens: input as number,
      outputTokens: output as number,
      cachedTokens: cached as number,
    });
  }
  return { arrivals, problems };
}
