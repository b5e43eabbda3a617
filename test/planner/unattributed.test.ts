import assert from "node:assert/strict";
import { test } from "node:test";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { FpmPlanner } from "../../src/planner/fpm-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { Logger } from "../../src/util/log.js";
import { envelope } from "../subscriber/envelope-fixture.js";

test("planner - FPM with worker_id '' is counted as unattributed and kept out of the workers and the worker-count gate", async () => {
  let now = 1_000_000;
  const planner = new FpmPlanner({
    namespace: "u",
    components: [{ component: "backend", kind: "agg" }],
    config: resolvePlannerConfig({ optimizationTarget: "throughput", maxKvTokens: 10_000, contextLength: 4096 }),
    autoTick: false,
    now: () => now,
    logger: new Logger({ target: "test", level: "error" }),
  });
  const subject = fpmSubject({ namespace: "u", endpoint: "generate" }, {});
  for (let i = 0; i < 20; i++) {
    now += 100;
    const busy = { wallTimeS: 0.01, scheduled: { numDecodeRequests: 2, sumDecodeKvTokens: 200 } };
    assert.equal(
      planner.subscriber.ingest(subject, envelope(1n, BigInt(i), { workerId: "w1", counterId: i + 1, ...busy })),
      null,
    );
    assert.equal(
      planner.subscriber.ingest(subject, envelope(2n, BigInt(i), { workerId: "", counterId: i + 1, ...busy })),
      null,
    );
  }
  assert.equal(planner.subscriber.stats().unattributed, 20);
  const [d] = planner.tick(now);
  assert.equal(d.replicas, 1, "one worker: the unattributed engine is no replica");
  assert.notEqual(d.reason, "worker_count_mismatch");
  assert.deepEqual(
    d.engines.map((e) => e.workerId),
    ["w1"],
  );
  assert.match(await planner.metrics.registry.metrics(), /^fpm_planner_messages_unattributed_total 20$/m);
});
