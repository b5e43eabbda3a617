import { test } from "node:test";
import assert from "node:assert/strict";
import { MovingAverage } from "../../src/planner/moving-average.js";

test("planner - moving average skips leading zeros, then counts zeros", () => {
  const m = new MovingAverage(3);
  m.add(0);
  m.add(0);
  assert.equal(m.value, 0);
  assert.equal(m.size, 0, "leading zeros are not kept");
  m.add(6); // [6] -> 6
  assert.equal(m.value, 6);
  m.add(0); // [6, 0] -> 3
  assert.equal(m.value, 3);
  m.add(3); // [6, 0, 3] -> 3
  assert.equal(m.value, 3);
  m.add(9); // window 3 evicts 6: [0, 3, 9] -> 4
  assert.equal(m.value, 4);
  assert.equal(m.size, 3);
});
