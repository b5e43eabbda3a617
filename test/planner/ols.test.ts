import { test } from "node:test";
import assert from "node:assert/strict";
import { fitOls } from "../../src/planner/ols.js";

function close(a: number, b: number, rel = 1e-9): void {
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${a} != ${b}`);
}

test("planner - OLS recovers 1-D coefficients from noiseless data", () => {
  // y = 0.01 + 2e-5 x
  const xs = [100, 500, 1000, 2000, 4000];
  const ys = xs.map((x) => 0.01 + 2e-5 * x);
  const f = fitOls(xs, ys, 1)!;
  close(f.intercept, 0.01);
  close(f.coef[0], 2e-5);
});

test("planner - OLS recovers 2-D coefficients from noiseless data", () => {
  // y = 0.005 + 1e-4 a + 3e-6 b, with a and b not collinear
  const rows = [
    [1, 100],
    [2, 900],
    [4, 1200],
    [8, 5000],
    [16, 7000],
    [3, 10000],
  ];
  const xs = rows.flat();
  const ys = rows.map(([a, b]) => 0.005 + 1e-4 * a + 3e-6 * b);
  const f = fitOls(xs, ys, 2)!;
  close(f.intercept, 0.005);
  close(f.coef[0], 1e-4, 1e-7);
  close(f.coef[1], 3e-6, 1e-7);
});

test("planner - OLS on a constant axis gives coefficient 0 and the mean as intercept, never NaN", () => {
  const f = fitOls([5, 5, 5], [1, 2, 3], 1)!;
  assert.equal(f.coef[0], 0);
  close(f.intercept, 2);
  // 2-D with the second axis constant: minimum-norm solution puts 0 on it.
  const g = fitOls([1, 7, 2, 7, 3, 7], [2, 4, 6], 2)!;
  close(g.coef[0], 2);
  assert.ok(Math.abs(g.coef[1]) < 1e-12);
  close(g.intercept, 0);
});

test("planner - OLS on collinear axes gives the minimum-norm solution", () => {
  // b = 2a exactly; y = 5a = 1*a + 2*b is the min-norm split (coef proportional to (1, 2)).
  const rows = [
    [1, 2],
    [2, 4],
    [3, 6],
    [4, 8],
  ];
  const f = fitOls(
    rows.flat(),
    rows.map(([a]) => 5 * a),
    2,
  )!;
  close(f.coef[0], 1, 1e-9);
  close(f.coef[1], 2, 1e-9);
  assert.ok(Math.abs(f.intercept) < 1e-9);
});

test("planner - OLS with no samples returns null", () => {
  assert.equal(fitOls([], [], 1), null);
});
