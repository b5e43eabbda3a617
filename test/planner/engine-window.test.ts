import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ARRIVAL_NOISE_SIGMAS,
  addIteration,
  demandOf,
  newEngineWindow,
  newPrefillRequestsOf,
  rollWindow,
} from "../../src/planner/engine-window.js";
import { predictAt } from "../../src/planner/default-policy.js";
import { fpm } from "./fpm-fixture.js";

const COSTS = { prefillS: 2e-5, decodeKvS: 5e-7, decodeRequestS: 0 };

test("planner - engine window: a prompt split into chunks counts as one request of its whole length", () => {
  // A 5,000-token prompt under a 2,048-token budget: 2,048 + 2,048 + 904, the KV of earlier chunks growing.
  const w = newEngineWindow(0);
  const chunks = [
    { sumPrefillTokens: 2048, sumPrefillKvTokens: 0 },
    { sumPrefillTokens: 2048, sumPrefillKvTokens: 2048 },
    { sumPrefillTokens: 904, sumPrefillKvTokens: 4096 },
  ];
  for (const [i, c] of chunks.entries())
    addIteration(w, fpm({ counterId: i + 1, wallTimeS: 0.05, scheduled: { numPrefillRequests: 1, ...c } }), 2048);
  assert.equal(w.newPrefillRequests, 1, "the second and third iterations continue the first one's prompt");
  const d = demandOf([w], 5000, COSTS, 0);
  assert.equal(d.promptTokens, 5000, "prompt tokens per request, not per chunk (the chunk mean is 1,666.7)");
  // The TTFT estimate's input is the prompt: three chunk iterations, not one.
  const p = predictAt(1, d, { iterationS: 0.005, prefillS: 2e-5, chunkTokens: 2048, ranks: 1 });
  const t = 0.005 / (1 - d.demand);
  assert.ok(Math.abs(p.ttftMeanMs - ((3 + 0.5) * t + 2e-5 * 5000) * 1000) < 1e-9);
});

test("planner - engine window: an iteration that filled the budget is followed by at most one continuing chunk", () => {
  assert.equal(newPrefillRequestsOf(3, true), 2);
  assert.equal(newPrefillRequestsOf(3, false), 3);
  assert.equal(newPrefillRequestsOf(0, true), 0);
  const w = newEngineWindow(0);
  // 2,000 prefill + 48 decode tokens fill a 2,048 budget.
  addIteration(
    w,
    fpm({
      counterId: 1,
      wallTimeS: 0.05,
      scheduled: { numPrefillRequests: 2, sumPrefillTokens: 2000, numDecodeRequests: 48 },
    }),
    2048,
  );
  assert.equal(w.lastFilledBudget, true);
  addIteration(
    w,
    fpm({ counterId: 2, wallTimeS: 0.05, scheduled: { numPrefillRequests: 1, sumPrefillTokens: 100 } }),
    2048,
  );
  assert.equal(w.newPrefillRequests, 2, "the second iteration's one prefill continues a chunk");
  addIteration(w, fpm({ counterId: 3, wallTimeS: 0 }), 2048);
  assert.equal(w.lastFilledBudget, false, "a heartbeat: nothing continues");
});

/** Ten 20 ms iterations over 5 s, one new 500-token prompt and 10,000 decode KV tokens each; `queued` after the last. */
function tenIterations(queued: { numPrefillRequests?: number; sumPrefillTokens?: number }) {
  const w = newEngineWindow(0);
  for (let i = 1; i <= 10; i++)
    addIteration(
      w,
      fpm({
        counterId: i,
        wallTimeS: 0.02,
        scheduled: { numPrefillRequests: 1, sumPrefillTokens: 500, sumDecodeKvTokens: 10_000, numDecodeRequests: 20 },
        queued: i === 10 ? queued : {},
      }),
      2048,
    );
  return w;
}

test("planner - engine window: demand is served work plus queue growth as work, with the backlog and arrival rate", () => {
  // Ten iterations in 5 s: 500 prompt tokens (one new request) and 10,000 decode KV tokens each.
  const w = tenIterations({ numPrefillRequests: 2, sumPrefillTokens: 1000 });
  const d = demandOf([w], 5000, COSTS, 3e-5);
  // Served: 10 x (500 x 2e-5 + 10,000 x 5e-7) = 0.15 engine-s over 5 s; growth 1,000 tokens x 3e-5 over 5 s.
  assert.ok(Math.abs(d.served - 0.03) < 1e-12);
  assert.ok(Math.abs(d.demand - 0.036) < 1e-12);
  assert.ok(Math.abs(d.backlogS - 0.03) < 1e-12, "1,000 queued tokens x 3e-5 s");
  assert.ok(Math.abs(d.requestRate - 2.4) < 1e-12, "10 admitted and 2 more queued over 5 s");
  assert.equal(d.promptTokens, 500);
  assert.ok(Math.abs(d.observedWorkPerPromptToken - 3e-5) < 1e-15, "0.15 s over 5,000 prompt tokens");
  assert.equal(d.kvDemandTokens, 10_500 + 20, "the last iteration's prefill, decode KV and new tokens");
  // The next window starts from this one's queue: a queue that stays is not growth.
  const next = rollWindow(w, 5000);
  assert.equal(next.queuedTokensAtStart, 1000);
  assert.equal(demandOf([next], 10_000, COSTS, 3e-5).demand, 0);
});

test("planner - engine window: prompts arriving beyond the noise of their count bound the demand without a queue", () => {
  // Ten iterations in 5 s, one new 500-token prompt each, no queue: served 0.03 engine-s/s.
  const w = tenIterations({});
  // 10 requests: the noise is 3 / sqrt(10) = 0.95 of the served work, so above 0.0585 counts.
  assert.equal(ARRIVAL_NOISE_SIGMAS, 3);
  // 1,000 prompt tokens/s x 1e-4 s of work each (long outputs still to decode) = 0.1: a rise.
  assert.ok(Math.abs(demandOf([w], 5000, COSTS, 1e-4).demand - 0.1) < 1e-12);
  // x 5e-5 = 0.05: within the noise, the served work stands.
  assert.ok(Math.abs(demandOf([w], 5000, COSTS, 5e-5).demand - 0.03) < 1e-12);
});

test("planner - engine window: preempted requests waiting mark KV saturation, and their recompute is backlog", () => {
  const w = newEngineWindow(0);
  addIteration(
    w,
    fpm({
      counterId: 1,
      wallTimeS: 0.03,
      scheduled: { numDecodeRequests: 60, sumDecodeKvTokens: 64_000 },
      queued: { numDecodeRequests: 3, sumDecodeKvTokens: 3000 },
    }),
    2048,
  );
  const d = demandOf([w], 5000, COSTS, 3e-5);
  assert.equal(d.preempted, true);
  assert.equal(d.queuedRequests, 3);
  assert.ok(Math.abs(d.backlogS - 3000 * 2e-5) < 1e-12, "preempted KV is recomputed as prefill");
  assert.equal(d.kvPeakTokens, 64_060);
});
