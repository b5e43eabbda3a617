/**
 * The planner with Dynamo's discovery (a real file store): a worker whose model card is
 * removed leaves at once, and the card's engine facts fill what the configuration leaves
 * unset, while what the configuration sets wins.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { FileDiscoveryStore } from "../../src/discovery/file-store.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { FpmPlanner } from "../../src/planner/fpm-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { Logger } from "../../src/util/log.js";
import { waitFor } from "../harness/ports.js";
import { envelope } from "../subscriber/envelope-fixture.js";

const quiet = new Logger({ target: "test", level: "error" });
const WORKER = "16273329045391755948";

function card(workerId: string, component: string, maxNumBatchedTokens: number): string {
  return `{"type":"Model","namespace":"mc","component":"${component}","endpoint":"generate","instance_id":${workerId},"card_json":{"display_name":"m","kv_cache_block_size":16,"runtime_config":{"total_kv_blocks":500,"max_num_batched_tokens":${maxNumBatchedTokens},"context_length":4096}}}`;
}

test("planner - model cards: facts fill unset config, flags win, a removed card removes the worker at once", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-cards-"));
  const worker = new FileDiscoveryStore({ root, logger: quiet });
  const store = new FileDiscoveryStore({ root, logger: quiet, rescanMs: 50 });
  const key = (id: string, comp: string) => `v1/mdc/mc/${comp}/generate/${BigInt(id).toString(16)}`;
  await worker.register(key(WORKER, "backend"), card(WORKER, "backend", 8192));
  await worker.register(key("17", "prefill"), card("17", "prefill", 2048));
  const planner = new FpmPlanner({
    namespace: "mc",
    components: [
      { component: "backend", kind: "agg" },
      { component: "prefill", kind: "prefill" },
    ],
    config: resolvePlannerConfig({ optimizationTarget: "sla", maxNumBatchedTokens: undefined }),
    discovery: store,
    autoTick: false,
    logger: quiet,
  });
  try {
    await planner.watchModelCards();
    const backend = planner.planners.get("backend")!;
    assert.equal(backend.config.maxNumBatchedTokens, 8192);
    assert.equal(backend.config.maxKvTokens, 8000);
    assert.equal(planner.planners.get("prefill")!.config.maxNumBatchedTokens, 2048);

    const subject = fpmSubject({ namespace: "mc", component: "backend", endpoint: "generate" }, {});
    assert.equal(planner.subscriber.ingest(subject, envelope(1n, 0n, { workerId: WORKER, counterId: 1 })), null);
    assert.equal(planner.subscriber.snapshot("backend").length, 1);
    await worker.unregister(key(WORKER, "backend"));
    await waitFor(() => planner.subscriber.snapshot("backend").length === 0, 5000, "the worker to leave");
    assert.equal(planner.subscriber.stats().removed, 1);
  } finally {
    await planner.stop();
    await worker.close();
    await store.close();
  }

  // A value given by flag or config file is not replaced by the card's.
  const store2 = new FileDiscoveryStore({ root, logger: quiet });
  const pinned = new FpmPlanner({
    namespace: "mc",
    components: [{ component: "prefill", kind: "prefill" }],
    config: resolvePlannerConfig({ optimizationTarget: "sla", maxNumBatchedTokens: 1024 }),
    discovery: store2,
    autoTick: false,
    logger: quiet,
  });
  try {
    const w2 = new FileDiscoveryStore({ root, logger: quiet });
    await w2.register(key("17", "prefill"), card("17", "prefill", 2048));
    await pinned.watchModelCards();
    assert.equal(pinned.planners.get("prefill")!.config.maxNumBatchedTokens, 1024);
    await w2.close();
  } finally {
    await pinned.stop();
    await store2.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
