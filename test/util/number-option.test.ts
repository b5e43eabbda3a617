import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_TIMER_MS,
  MAX_TIMER_S,
  numberOption,
  numberValue,
  optionalNumberOption,
  optionalNumberValue,
  TIMER_SECONDS,
  timerSecondsToMs,
} from "../../src/util/number-option.js";
import { untilStopped } from "../../src/util/stop-signal.js";

const refuses = (text: string, rule: Parameters<typeof numberOption>[2], says: RegExp) =>
  assert.throws(
    () => numberOption(text, "--x", rule),
    (err: Error) => err.name === "ConfigError" && says.test(err.message),
  );

test("number option - parses numbers and integers within their rule", () => {
  assert.equal(numberOption(" 2.5 ", "--x"), 2.5);
  assert.equal(numberOption("7", "--x", { integer: true, min: 1, max: 10 }), 7);
  assert.equal(numberOption("0.1", "--x", { min: 0, above: true }), 0.1);
  assert.equal(optionalNumberOption(undefined, "--x", { min: 1 }), undefined);
});

test("number option - refuses empty, non-finite, non-integer and out-of-range values, naming the flag and the rule", () => {
  refuses("", {}, /^--x "": must be a number$/); // Number("") would be 0
  refuses("Infinity", {}, /must be a number/);
  refuses("abc", { integer: true, min: 1 }, /--x "abc": must be an integer >= 1/);
  refuses("2.0", { integer: true }, /an integer/);
  refuses("1e3", { integer: true }, /an integer/);
  refuses("0", { min: 0, above: true }, /must be a number > 0/);
  refuses("11", { integer: true, min: 1, max: 10 }, /an integer in 1\.\.10/);
  refuses("49", { min: 50 }, /a number >= 50/);
});

test("number option - text: only decimal numbers (no hex, no Infinity, nothing beyond a double), integers exactly", () => {
  refuses("0x10", {}, /must be a number/);
  refuses("1e400", {}, /must be a number/);
  refuses("NaN", {}, /must be a number/);
  refuses("12abc", {}, /must be a number/);
  refuses("99999999999999999999", { integer: true }, /an integer/);
  assert.equal(numberOption("+5", "--x", { integer: true }), 5);
  assert.equal(numberOption("1.5e3", "--x"), 1500);
  assert.equal(numberOption(".5", "--x"), 0.5);
});

test("number option - JSON and library values must be finite numbers in their rule, and say what they got", () => {
  const refusesValue = (v: unknown, rule: Parameters<typeof numberValue>[2], says: RegExp) =>
    assert.throws(
      () => numberValue(v, "config key k", rule),
      (err: Error) => err.name === "ConfigError" && says.test(err.message),
      String(v),
    );
  assert.equal(numberValue(2.5, "k", { min: 0 }), 2.5);
  assert.equal(optionalNumberValue(undefined, "k"), undefined);
  refusesValue(
    [500],
    { min: 0, above: true },
    /^config key k \[500\]: must be a number > 0 \(a JSON number, not an array\)$/,
  );
  refusesValue("500", {}, /"500": must be a number \(a JSON number, not a string\)/);
  refusesValue(null, {}, /null: .*not null/);
  refusesValue(true, {}, /not a boolean/);
  refusesValue({ v: 1 }, {}, /not an object/);
  refusesValue(Number.POSITIVE_INFINITY, {}, /config key k Infinity: must be a number$/);
  refusesValue(Number.NaN, {}, /NaN: must be a number/);
  refusesValue(2.5, { integer: true }, /an integer/);
  refusesValue(2 ** 53, { integer: true }, /an integer/);
  refusesValue(MAX_TIMER_S + 1, TIMER_SECONDS, /must be a number > 0 and <= 2147483$/);
  assert.equal(MAX_TIMER_S * 1000 <= MAX_TIMER_MS, true, "a timer in seconds never overflows once in ms");
  assert.equal(timerSecondsToMs(0.0001), 1, "at least 1 ms");
});

test("number option - a duration Node's timer cannot hold is refused before anything waits on it", () => {
  assert.throws(() => untilStopped({ durationS: MAX_TIMER_S + 1 }), /duration \(s\) 2147484: must be a number > 0/);
});
