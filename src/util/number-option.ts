/**
 * The one validator of numeric settings, whatever they come from: `numberOption` reads the
 * text of a flag or an environment variable, `numberValue` checks a value from a JSON config
 * file or a library caller. Both refuse what is not a finite number (no arrays, no strings
 * where JSON wants a number, no Infinity/NaN), whole numbers where `integer` is set, and
 * values outside the rule's range, with a ConfigError (exit 2) naming the setting and the rule.
 */
import { ConfigError } from "./errors.js";

export interface NumberRule {
  /** Smallest value allowed (inclusive, unless `above`). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** `min` itself is not allowed. */
  above?: boolean;
  /** Only whole numbers (from text: decimal digits only, no 1e3, no 2.0). */
  integer?: boolean;
}

/** Longest delay Node's timers hold (setTimeout/setInterval): beyond it they fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The same bound for settings given in seconds. */
export const MAX_TIMER_S = Math.floor(MAX_TIMER_MS / 1000);
/** A duration in seconds that becomes a timer: more than 0, at most MAX_TIMER_S. */
export const TIMER_SECONDS: NumberRule = { min: 0, above: true, max: MAX_TIMER_S };

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** Parses `text` given for `name` (a flag or an environment variable). */
export function numberOption(text: string, name: string, rule: NumberRule = {}): number {
  const t = text.trim();
  const v = (rule.integer ? INTEGER : DECIMAL).test(t) ? Number(t) : NaN;
  return checkRule(v, name, JSON.stringify(text), rule);
}

/** Like numberOption, for an optional flag: undefined stays undefined. */
export function optionalNumberOption(
  text: string | undefined,
  name: string,
  rule: NumberRule = {},
): number | undefined {
  return text === undefined ? undefined : numberOption(text, name, rule);
}

/** Checks `value` given for `name` in a JSON config file or by a library caller: it must be a JSON number. */
export function numberValue(value: unknown, name: string, rule: NumberRule = {}): number {
  if (typeof value !== "number")
    throw new ConfigError(
      `${name} ${shown(value)}: must be ${describeRule(rule)} (a JSON number, not ${kindOf(value)})`,
    );
  return checkRule(value, name, shown(value), rule);
}

/** Like numberValue, for an optional setting: undefined stays undefined. */
export function optionalNumberValue(value: unknown, name: string, rule: NumberRule = {}): number | undefined {
  return value === undefined ? undefined : numberValue(value, name, rule);
}

/** A setting in seconds used as a timer: more than 0, at most MAX_TIMER_S; returns whole milliseconds (at least 1). */
export function timerSecondsToMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

function checkRule(v: number, name: string, given: string, rule: NumberRule): number {
  const min = rule.min ?? -Infinity;
  const max = rule.max ?? Infinity;
  if (
    !Number.isFinite(v) ||
    (rule.integer && !Number.isSafeInteger(v)) ||
    v < min ||
    v > max ||
    (rule.above && v === min)
  ) {
    throw new ConfigError(`${name} ${given}: must be ${describeRule(rule)}`);
  }
  return v;
}

function shown(value: unknown): string {
  if (typeof value === "number") return String(value); // JSON.stringify(Infinity) would say null
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "string") return "a string";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? "an integer" : "a number";
  if (rule.min !== undefined && rule.max !== undefined)
    return rule.above ? `${kind} > ${rule.min} and <= ${rule.max}` : `${kind} in ${rule.min}..${rule.max}`;
  if (rule.min !== undefined) return `${kind} ${rule.above ? ">" : ">="} ${rule.min}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}
