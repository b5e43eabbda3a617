import { test } from "node:test";
import assert from "node:assert/strict";
import { AggModel } from "../../src/planner/agg-model.js";
import { DecodeModel } from "../../src/planner/decode-model.js";
import { PrefillModel } from "../../src/planner/prefill-model.js";
import { fpm } from "./fpm-fixture.js";

function close(a: number | null, b: number, rel = 1e-9): void {
  assert.ok(a !== null, "estimate missing");
  assert.ok(Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(b)), `${a} != ${b}`);
}

test("planner - prefill TTFT: chunk loop over queued + avg_isl, worked by hand", () => {
  const m = new PrefillModel();
  // wall = 0.01 + 1e-5 * tokens; one request each, so avg_isl = mean(1000..5000) = 3000.
  for (const x of [1000, 2000, 3000, 4000, 5000])
    m.observe(fpm({ wallTimeS: 0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } }));
  assert.equal(m.status(), "fitted");
  close(m.avgIsl.value, 3000);
  // T = 2000 + 3000 = 5000 -> chunks 4096 (0.01 + 0.04096) and 904 (0.01 + 0.00904) = 0.07 s.
  close(m.estimateTtft(2000, 4096), 0.07);
  // max_num_batched_tokens <= 0: no estimate.
  assert.equal(m.estimateTtft(2000, 0), null);
});

test("planner - predictions are floored at 1e-6 s", () => {
  const m = new PrefillModel();
  // wall = -0.01 + 1e-5 * tokens (positive on the data, negative below 1000 tokens).
  // (1000 tokens would give wall 0, a heartbeat, so the data start at 2000; avg_isl = 4000.)
  for (const x of [2000, 3000, 4000, 5000, 6000])
    m.observe(fpm({ wallTimeS: -0.01 + 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } }));
  // T = 0 + 4000 with chunks of 3500: 3500 -> 0.025; 500 -> -0.005 floored to 1e-6. Total 0.025001.
  close(m.estimateTtft(0, 3500), 0.025001, 1e-7);
});

test("planner - heartbeats move the averages but are never samples; T <= 0 estimates 0", () => {
  const m = new PrefillModel({ minObservations: 1 });
  m.observe(fpm({ wallTimeS: 0 }));
  assert.equal(m.sampleCount, 0);
  m.observe(fpm({ wallTimeS: 0.02, scheduled: { numPrefillRequests: 1, sumPrefillTokens: 100 } }));
  m.observe(fpm({ wallTimeS: 0 })); // pushes avg_isl 0 now that a non-zero was seen: (100 + 0) / 2
  assert.equal(m.sampleCount, 1);
  close(m.avgIsl.value, 50);
  const m2 = new PrefillModel({ minObservations: 1 });
  m2.observe(fpm({ wallTimeS: 0.02, scheduled: { numPrefillRequests: 0, sumPrefillTokens: 0 } }));
  assert.equal(m2.estimateTtft(0, 100), 0, "no queue and no average: nothing ahead");
});

test("planner - a negative coefficient rejects the fit: no estimate", () => {
  const m = new PrefillModel();
  // wall falls as tokens rise: slope -1e-5.
  for (const x of [1000, 2000, 3000, 4000, 5000])
    m.observe(fpm({ wallTimeS: 0.1 - 1e-5 * x, scheduled: { numPrefillRequests: 1, sumPrefillTokens: x } }));
  assert.equal(m.status(), "fit_rejected");
  assert.equal(m.estimateTtft(0, 4096), null);
  assert.equal(m.fitsRejected, 1);
});

const DECODE_ROWS = [
  [1, 1000],
  [2, 1500],
  [4, 3000],
  [3, 5000],
  [8, 6000],
];

test("planner - decode clamps a negative num_decode_requests coefficient to 0 and estimates ITL by hand", () => {
  const m = new DecodeModel();
  // wall = 0.02 - 0.001 * n + 1e-5 * kv: the n coefficient is negative and gets clamped (intercept kept).
  for (const [n, kv] of DECODE_ROWS)
    m.observe(
      fpm({ wallTimeS: 0.02 - 0.001 * n + 1e-5 * kv, scheduled: { numDecodeRequests: n, sumDecodeKvTokens: kv } }),
    );
  const c = m.coefficients()!;
  assert.equal(c.coef[0], 0);
  close(c.coef[1], 1e-5, 1e-7);
  close(c.intercept, 0.02, 1e-7);
  // avg_num_decode = (1+2+4+3+8)/5 = 3.6; avg_decode_len = (1000+750+750+1666.67+750)/5 = 983.33
  // ITL = predict([4.6, 2000 + 0 + 983.33]) = 0 * 4.6 + 1e-5 * 2983.33 + 0.02 = 0.0498333 s
  close(m.estimateItl(2000, 0), 0.02 + 1e-5 * (2000 + 4916.666666666667 / 5), 1e-6);
});

test("planner - decode keeps a negative num_decode_requests coefficient within 1e-6 of zero", () => {
  const m = new DecodeModel();
  for (const [n, kv] of DECODE_ROWS)
    m.observe(
      fpm({ wallTimeS: 0.02 - 5e-7 * n + 1e-5 * kv, scheduled: { numDecodeRequests: n, sumDecodeKvTokens: kv } }),
    );
  const c = m.coefficients()!;
  close(c.coef[0], -5e-7, 1e-4);
});

test("planner - decode rejects a negative KV coefficient", () => {
  const m = new DecodeModel();
  for (const [n, kv] of DECODE_ROWS)
    m.observe(
      fpm({ wallTimeS: 0.2 + 0.001 * n - 1e-5 * kv, scheduled: { numDecodeRequests: n, sumDecodeKvTokens: kv } }),
    );
  assert.equal(m.status(), "fit_rejected");
  assert.equal(m.estimateItl(100, 0), null);
});

test("planner - agg TTFT and ITL worked by hand", () => {
  const m = new AggModel();
  // wall = 0.01 + 2e-5 * prefill + 1e-6 * decode_kv; rows (prefill, decode_kv, num_prefill, num_decode)
  const rows = [
    [1000, 0, 1, 0],
    [0, 20000, 0, 10],
    [2000, 10000, 2, 5],
    [500, 30000, 1, 15],
    [3000, 5000, 3, 2],
  ];
  for (const [p, d, np, nd] of rows) {
    m.observe(
      fpm({
        wallTimeS: 0.01 + 2e-5 * p + 1e-6 * d,
        scheduled: { sumPrefillTokens: p, sumDecodeKvTokens: d, numPrefillRequests: np, numDecodeRequests: nd },
      }),
    );
  }
  // avg_isl over rows with prefill: (1000 + 1000 + 500 + 1000) / 4 = 875
  // avg_prefill_tokens: (1000 + 0 + 2000 + 500 + 3000) / 5 = 1300
  // avg_decode_len over rows with decode: (2000 + 2000 + 2000 + 2500) / 4 = 2125
  close(m.avgIsl.value, 875);
  close(m.avgPrefillTokens.value, 1300);
  close(m.avgDecodeLen.value, 2125);
  // TTFT: T = 1000 + 875 = 1875, chunks 1024 and 851 at decode_kv 4000:
  //   (0.01 + 0.02048 + 0.004) + (0.01 + 0.01702 + 0.004) = 0.0655 s
  close(m.estimateTtft(1000, 1024, 4000), 0.0655, 1e-7);
  // ITL: predict([1300, 4000 + 1000 + 2125]) = 0.01 + 0.026 + 0.007125 = 0.043125 s
  close(m.estimateItl(4000, 1000), 0.043125, 1e-7);
});

test("planner - too few samples: insufficient_data and no estimate", () => {
  const m = new AggModel();
  m.observe(fpm({ wallTimeS: 0.01, scheduled: { sumPrefillTokens: 10 } }));
  assert.equal(m.status(), "insufficient_data");
  assert.equal(m.estimateItl(0, 0), null);
});
