/** Numeric command-line values: one parser, so every command refuses bad numbers the same way. */
import { ConfigError } from "./errors.js";

export interface NumberRule {
  /** Smallest value allowed (inclusive, unless `above`). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** `min` itself is not allowed. */
  above?: boolean;
  /** Only whole decimal numbers (no 1e3, no 2.0). */
  integer?: boolean;
}

/** Parses `text` given for `flag`; an empty, non-finite or out-of-range value is a ConfigError (exit 2) naming the flag and the rule. */
export function numberOption(text: string, flag: string, rule: NumberRule = {}): number {
  const t = text.trim();
  const v = t === "" || (rule.integer && !/^-?\d+$/.test(t)) ? NaN : Number(t);
  const min = rule.min ?? -Infinity;
  const max = rule.max ?? Infinity;
  if (!Number.isFinite(v) || v < min || v > max || (rule.above && v === min)) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: must be ${describeRule(rule)}`);
  }
  return v;
}

/** Like numberOption, for an optional flag: undefined stays undefined. */
export function optionalNumberOption(
  text: string | undefined,
  flag: string,
  rule: NumberRule = {},
): number | undefined {
  return text === undefined ? undefined : numberOption(text, flag, rule);
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? "an integer" : "a number";
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} in ${rule.min}..${rule.max}`;
  if (rule.min !== undefined) return `${kind} ${rule.above ? ">" : ">="} ${rule.min}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}
