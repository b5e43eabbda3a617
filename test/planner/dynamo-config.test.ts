/** A Dynamo 1.6.1 planner config file, as a user has it, loads; aliases map; misspellings stop the start. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { nearestConfigKey } from "../../src/planner/planner-config-keys.js";
import { plannerOptionsFromFlags } from "../../src/planner/planner-options.js";
import { ConfigError } from "../../src/util/errors.js";
import { REPO_ROOT } from "../harness/vectors.js";

const FULL = path.join(REPO_ROOT, "test/planner/fixtures/dynamo-1.6.1-planner.json");
const FPM = path.join(REPO_ROOT, "bin/fpm.js");

function withConfig(body: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-dyncfg-"));
  const file = path.join(dir, "planner.json");
  fs.writeFileSync(file, JSON.stringify(body));
  return file;
}

test("planner config - a full Dynamo 1.6.1 file loads: canonical names, null as unset, Dynamo's mode sets the components", () => {
  const o = plannerOptionsFromFlags({ config: FULL, maxNumBatchedTokens: "8192" }, {});
  const c = o.config;
  assert.equal(c.optimizationTarget, "sla");
  assert.equal(c.ttftMs, 300);
  assert.equal(c.itlMs, 25);
  assert.equal(c.loadAdjustmentIntervalS, 10);
  assert.equal(c.maxNumFpmSamples, 128);
  assert.equal(c.loadScalingDownSensitivity, 70);
  assert.equal(c.prefillMinEndpoint, 2);
  assert.equal(c.decodeMinEndpoint, undefined, "null is unset");
  assert.equal(c.decodeEngineNumGpu, 2);
  assert.equal(c.maxGpuBudget, 16);
  assert.equal(c.speculativeNextn, 2);
  assert.equal(c.deploymentMode, "disagg");
  assert.equal(c.mode, "default", "Dynamo's mode is the deployment, not fpm's planner mode");
  assert.deepEqual(
    o.components.map((x) => `${x.component}:${x.kind}`),
    ["prefill:prefill", "backend:decode"],
  );
  assert.equal(o.namespace, "llama-prod");
  assert.equal(o.metricsPort, null, "metric_reporting_prometheus_port 0: off");
  const ignored = o.ignoredKeys.map((k) => k.key);
  assert.ok(ignored.includes("enable_throughput_scaling") && ignored.includes("scheduling"), ignored.join(","));
  assert.ok(!ignored.includes("enable_power_awareness"), "false is what fpm does anyway: no warning");
  assert.ok(!ignored.includes("log_dir"), "null: nothing set, nothing to warn about");
});

test("planner config - the old names are aliases; the canonical name wins when both are given", () => {
  const c = plannerOptionsFromFlags(
    { config: withConfig({ ttft: 400, itl: 40, load_adjustment_interval: 3, ttft_ms: 250, max_kv_tokens: 1000 }) },
    {},
  ).config;
  assert.deepEqual([c.ttftMs, c.itlMs, c.loadAdjustmentIntervalS], [250, 40, 3]);
  const legacy = plannerOptionsFromFlags({ config: withConfig({ mode: "parity", max_kv_tokens: 1000 }) }, {}).config;
  assert.equal(legacy.mode, "parity", "fpm's old use of `mode` still works");
  assert.equal(legacy.parityRules, "1.6.1");
});

test("planner config - a misspelt key is an error naming the nearest key; bad values say what to change", () => {
  assert.throws(
    () => plannerOptionsFromFlags({ config: withConfig({ ttft_msec: 300 }) }, {}),
    (e: Error) => e instanceof ConfigError && /ttft_msec \(did you mean ttft_ms\?\)/.test(e.message),
  );
  assert.equal(nearestConfigKey("load_adjustmnet_interval_seconds"), "load_adjustment_interval_seconds");
  assert.equal(nearestConfigKey("completely_unrelated"), undefined);
  assert.throws(
    () => plannerOptionsFromFlags({ config: withConfig({ optimization_target: "load" }) }, {}),
    /needs decode_scale_up_kv_rate and decode_scale_down_kv_rate/,
  );
  assert.throws(
    () =>
      plannerOptionsFromFlags(
        { config: withConfig({ decode_scale_up_kv_rate: 20, decode_scale_down_kv_rate: 30 }) },
        {},
      ),
    /decode_scale_up_kv_rate \(20\) must be greater than decode_scale_down_kv_rate \(30\)/,
  );
  assert.throws(
    () => plannerOptionsFromFlags({ config: withConfig({ mode: "mixed" }) }, {}),
    /config key mode must be/,
  );
});

test("planner config - fpm planner with the full 1.6.1 file: starts, one warning names the keys it does not implement", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-dyncfg-"));
  const trace = path.join(dir, "empty.jsonl");
  fs.writeFileSync(trace, "");
  const r = spawnSync(
    "node",
    [FPM, "planner", "--config", FULL, "--max-num-batched-tokens", "8192", "--replay-trace", trace],
    { encoding: "utf8", env: { ...process.env, DYN_LOGGING_JSONL: "true" } },
  );
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split("\n").filter((l) => l.includes("does not implement"));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /enable_throughput_scaling \(fpm has no throughput/);
  const bad = spawnSync("node", [FPM, "planner", "--config", withConfig({ itl_msec: 1 })], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /did you mean itl_ms\?/);
});
