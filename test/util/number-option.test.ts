import assert from "node:assert/strict";
import { test } from "node:test";
import { numberOption, optionalNumberOption } from "../../src/util/number-option.js";

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
