import assert from "node:assert/strict";
import { test } from "node:test";
import { EngineScheduler } from "../../src/sim/engine-scheduler.js";
import { SimRequest } from "../../src/sim/sim-request.js";

let ids = 0;
const req = (prompt: number, output: number, cached = 0) => new SimRequest(ids++, 0, prompt, output, cached);

/** Plans and completes one iteration, returning its plan. */
function step(s: EngineScheduler) {
  const plan = s.schedule();
  s.complete(plan);
  return plan;
}

test("sim - chunked prefill splits a long prompt by the token budget, then decodes", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 100, kvCapacityTokens: 10_000 });
  s.enqueue(req(250, 2));
  const p1 = step(s);
  assert.deepEqual(p1.scheduled, {
    numPrefillRequests: 1,
    sumPrefillTokens: 100,
    varPrefillLength: 0,
    sumPrefillKvTokens: 0,
    numDecodeRequests: 0,
    sumDecodeKvTokens: 0,
    varDecodeKvTokens: 0,
  });
  const p2 = step(s);
  assert.equal(p2.scheduled.sumPrefillTokens, 100);
  assert.equal(p2.scheduled.sumPrefillKvTokens, 100, "the first chunk is read, not computed");
  const p3 = step(s);
  assert.equal(p3.scheduled.sumPrefillTokens, 50);
  assert.equal(p3.scheduled.sumPrefillKvTokens, 200);
  const p4 = step(s);
  assert.deepEqual(p4.scheduled, {
    numPrefillRequests: 0,
    sumPrefillTokens: 0,
    varPrefillLength: 0,
    sumPrefillKvTokens: 0,
    numDecodeRequests: 1,
    sumDecodeKvTokens: 250,
    varDecodeKvTokens: 0,
  });
  assert.equal(s.hasWork(), false, "two output tokens: one sampled after prefill, one decode step");
  assert.equal(s.kvUsedTokens(), 0);
});

test("sim - population variances of prompt lengths and decode KV over a batch", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 100 });
  s.enqueue(req(10, 5));
  s.enqueue(req(30, 5));
  const p1 = step(s);
  assert.equal(p1.scheduled.numPrefillRequests, 2);
  assert.equal(p1.scheduled.sumPrefillTokens, 40);
  assert.equal(p1.scheduled.varPrefillLength, 100); // mean 20, deviations +-10
  const p2 = step(s);
  assert.equal(p2.scheduled.numDecodeRequests, 2);
  assert.equal(p2.scheduled.sumDecodeKvTokens, 40);
  assert.equal(p2.scheduled.varDecodeKvTokens, 100);
  const p3 = step(s);
  assert.equal(p3.scheduled.sumDecodeKvTokens, 42, "each decode step adds one KV token per request");
});

test("sim - without chunked prefill a prompt waits for a whole budget; queued fields count it", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 16, chunkedPrefill: false });
  s.enqueue(req(10, 3));
  s.enqueue(req(10, 3));
  s.enqueue(req(12, 3));
  const p1 = s.schedule();
  assert.equal(p1.scheduled.numPrefillRequests, 1);
  assert.deepEqual(p1.queued, {
    numPrefillRequests: 2,
    sumPrefillTokens: 22,
    varPrefillLength: 1,
    numDecodeRequests: 0,
    sumDecodeKvTokens: 0,
    varDecodeKvTokens: 0,
  });
  s.complete(p1);
  assert.equal(s.enqueue(req(17, 1)), "rejected_too_long", "a prompt above the budget could never be scheduled");
});

test("sim - a full KV cache preempts the newest running request, which waits as a queued decode", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 100, kvCapacityTokens: 24 });
  s.enqueue(req(10, 10));
  s.enqueue(req(10, 10));
  step(s); // both prefilled, kv 20
  step(s); // kv 22
  step(s); // kv 24
  const p4 = s.schedule();
  assert.equal(p4.preempted, 1);
  assert.equal(p4.scheduled.numDecodeRequests, 1);
  assert.equal(p4.scheduled.sumDecodeKvTokens, 12);
  assert.deepEqual(p4.queued, {
    numPrefillRequests: 0,
    sumPrefillTokens: 0,
    varPrefillLength: 0,
    numDecodeRequests: 1,
    sumDecodeKvTokens: 13,
    varDecodeKvTokens: 0,
  });
  assert.equal(s.kvUsedTokens(), 13);
  s.complete(p4);
  // Once the first request finishes, the preempted one is recomputed: prompt plus its 3 output tokens.
  let plan = step(s);
  while (plan.scheduled.numPrefillRequests === 0) plan = step(s);
  assert.equal(plan.scheduled.sumPrefillTokens, 13);
  assert.equal(plan.scheduled.varPrefillLength, 0);
});

test("sim - prefix-cache hits are read (sum_prefill_kv_tokens), not computed", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 1000 });
  s.enqueue(req(100, 1, 40));
  const p = step(s);
  assert.equal(p.scheduled.sumPrefillTokens, 60);
  assert.equal(p.scheduled.sumPrefillKvTokens, 40);
  assert.equal(s.hasWork(), false);
});

test("sim - max_num_seqs bounds the running batch and the queue bound rejects", () => {
  const s = new EngineScheduler({ maxNumBatchedTokens: 1000, maxNumSeqs: 2, maxQueuedRequests: 3 });
  for (let i = 0; i < 3; i++) assert.equal(s.enqueue(req(5, 4)), "queued");
  assert.equal(s.enqueue(req(5, 4)), "rejected_queue_full");
  const p = step(s);
  assert.equal(p.scheduled.numPrefillRequests, 2);
  assert.equal(p.queued.numPrefillRequests, 1);
  assert.equal(s.totals.rejected, 1);
});

test("sim - bad scheduler options are refused", () => {
  assert.throws(() => new EngineScheduler({ maxNumBatchedTokens: 0 }), /maxNumBatchedTokens/);
  assert.throws(() => new EngineScheduler({ kvCapacityTokens: 1.5 }), /kvCapacityTokens/);
});

test("sim - without FPM metrics the counts and sums are the same and the FPM-only fields are zero", () => {
  const run = (fpmMetrics: boolean) => {
    const s = new EngineScheduler({ maxNumBatchedTokens: 64, maxNumSeqs: 2, fpmMetrics });
    for (let i = 0; i < 4; i++) s.enqueue(new SimRequest(i, 0, 40 + i, 3));
    const plans = [];
    while (s.hasWork()) plans.push(step(s));
    return plans;
  };
  const full = run(true);
  const lean = run(false);
  assert.equal(lean.length, full.length);
  for (let i = 0; i < full.length; i++) {
    const { varPrefillLength, varDecodeKvTokens, ...sums } = full[i].scheduled;
    assert.deepEqual({ ...lean[i].scheduled, varPrefillLength, varDecodeKvTokens }, full[i].scheduled);
    assert.ok(Object.keys(sums).length === 5);
    assert.deepEqual(Object.values(lean[i].queued), [0, 0, 0, 0, 0, 0]);
  }
  assert.ok(
    full.some((p) => p.queued.numPrefillRequests > 0),
    "the full run did see a queue",
  );
});
