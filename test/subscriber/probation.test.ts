import assert from "node:assert/strict";
import { test } from "node:test";
import { Logger } from "../../src/util/log.js";
import { FpmEventSubscriber } from "../../src/subscriber/fpm-event-subscriber.js";
import { PROBATION_MESSAGES, Probation } from "../../src/subscriber/probation.js";
import type { EngineEvent } from "../../src/subscriber/tracked-engine.js";
import { envelope } from "./envelope-fixture.js";

const SUBJ = "namespace.dynamo.component.backend.forward-pass-metrics";

test("probation - evicts the fewest messages first, oldest first among equals; promoted entries never", () => {
  const p = new Probation<{ name: string; messages: number }>();
  const a = { name: "a", messages: 1 };
  const b = { name: "b", messages: 1 };
  const c = { name: "c", messages: 1 };
  for (const e of [a, b, c]) p.enter(e);
  a.messages++;
  p.seen(a);
  assert.equal(p.evict()?.name, "b", "one message, oldest");
  assert.equal(p.evict()?.name, "c");
  for (let m = a.messages; m < PROBATION_MESSAGES; m++) {
    a.messages++;
    p.seen(a);
  }
  assert.equal(p.promoted(a), true);
  assert.equal(p.evict(), undefined, "a promoted entry is never evicted");
  assert.equal(p.size, 0);
});

test("subscriber - a full table makes room by evicting a stranger on probation, with an event; established engines stay", () => {
  const sub = new FpmEventSubscriber({
    logger: new Logger({ target: "t", level: "error" }),
    staleAfterMs: 0,
    maxEngines: 3,
  });
  const events: EngineEvent[] = [];
  sub.onEngineEvent((e) => events.push(e));
  let seq = 0n;
  for (let c = 1; c <= PROBATION_MESSAGES; c++)
    sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "genuine", counterId: c }));
  sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "stranger-1" }));
  sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "stranger-2" }));
  assert.equal(sub.ingest(SUBJ, envelope(1n, seq++, { workerId: "newcomer" })), null);
  assert.deepEqual(
    sub.snapshot().map((t) => t.workerId),
    ["genuine", "stranger-2", "newcomer"],
  );
  assert.deepEqual(events.at(-2), { type: "evicted", component: "backend", workerId: "stranger-1", dpRank: 0 });
  assert.equal(sub.stats().evicted, 1);
  assert.equal(sub.established(sub.get("backend", "genuine", 0)!), true);
  assert.equal(sub.established(sub.get("backend", "newcomer", 0)!), false);
});
