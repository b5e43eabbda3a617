import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseScenarios, scenarioPlannerConfig } from "../../src/eval/scenario.js";
import { scenarioLoad } from "../../src/eval/scenario-load.js";
import { ConfigError } from "../../src/util/errors.js";

const parse = (v: unknown, dir = ".") => parseScenarios(JSON.stringify(v), "test.json", dir);
const minimal = { name: "s", duration_s: 60, arrivals: "constant:5" };

function rejects(v: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => parse(v),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      for (const p of patterns) assert.match(err.message, p);
      return true;
    },
  );
}

test("eval - a scenario takes fpm simulate's defaults and the engine's facts for the planner", () => {
  const [s] = parse(minimal);
  assert.deepEqual(
    [s.seed, s.poisson, s.workers, s.dpRanks, s.maxWorkers, s.startupDelayS, s.scaleDown, s.engine.name],
    [1, false, 2, 2, 8, 5, "kill", "default"],
  );
  assert.deepEqual(s.lengths, { inputMin: 256, inputMax: 1024, outputMin: 32, outputMax: 128 });
  const c = scenarioPlannerConfig(s);
  assert.equal(c.maxNumBatchedTokens, 2048);
  assert.equal(c.maxKvTokens, 65536);
  assert.equal(c.gpusPerReplica, 2, "2 ranks of 1 GPU");
  assert.equal(c.maxGpuBudget, 16, "8 workers of 2 GPUs");
  const [big] = parse({ ...minimal, engine: "4xh100-70b", planner: { ttft: 300, max_gpu_budget: 64 } });
  const bc = scenarioPlannerConfig(big);
  assert.equal(bc.gpusPerReplica, 8);
  assert.equal(bc.maxGpuBudget, 64);
  assert.equal(bc.ttftMs, 300);
});

test("eval - a scenario file holds one object or an array; names are unique", () => {
  assert.equal(parse([minimal, { ...minimal, name: "t" }]).length, 2);
  rejects([minimal, minimal], /"s" appears twice/);
  rejects([], /no scenario/);
  assert.throws(() => parseScenarios("{", "x.json", "."), /x.json: not valid JSON/);
});

test("eval - an unknown key is an error naming it and the known keys", () => {
  rejects({ ...minimal, duration: 60 }, /scenario "s"/, /unknown key\(s\) duration/, /known: name, description/);
  rejects({ ...minimal, engine: { preset: "h100-8b", kv_tokens: 5 } }, /engine: unknown key\(s\) kv_tokens/);
});

test("eval - a misspelt planner key is an error naming it", () => {
  rejects({ ...minimal, planner: { ttft_slo: 100 } }, /scenario "s": planner/, /unknown key\(s\) ttft_slo/);
  rejects({ ...minimal, planner: { namespace: "x" } }, /namespace configure the fpm planner process/);
  rejects({ ...minimal, planner: { optimization_target: "fast" } }, /optimization_target/);
  rejects({ ...minimal, planner: { ttft: "soon" } }, /ttft/);
});

test("eval - scenario planner keys take Dynamo 1.6.1's names and aliases", () => {
  const [s] = parse({
    ...minimal,
    planner: { ttft_ms: 150, itl: 40, load_adjustment_interval_seconds: 10, planner_mode: "parity" },
  });
  const c = scenarioPlannerConfig(s);
  assert.deepEqual([c.ttftMs, c.itlMs, c.loadAdjustmentIntervalS, c.mode], [150, 40, 10, "parity"]);
  assert.equal(scenarioPlannerConfig(s, { planner_mode: "default" }).mode, "default", "a contender's mode wins");
});

test("eval - bad values name the scenario and the key", () => {
  rejects({ name: "s", arrivals: "constant:5" }, /duration_s is required/);
  rejects({ ...minimal, duration_s: -1 }, /duration_s -1: must be a number > 0/);
  rejects({ ...minimal, workers: 9 }, /workers must be at most max_workers \(8\)/);
  rejects({ ...minimal, workers: 1.5 }, /workers 1\.5: must be an integer/);
  rejects({ ...minimal, scale_down: "evict" }, /scale_down must be kill or drain/);
  rejects({ ...minimal, arrivals: "wave:1" }, /arrivals/, /unknown form/);
  rejects({ ...minimal, arrivals: "sine:10:130" }, /arrivals/, /PERIOD/);
  rejects({ ...minimal, input_tokens: "9:3" }, /input_tokens/);
  rejects({ ...minimal, engine: "b200" }, /unknown engine preset "b200"/);
  rejects({ ...minimal, engine: { cost_a: -1 } }, /engine: cost_a -1: must be a number >= 0/);
  rejects({ ...minimal, name: "a b" }, /name must be/);
  rejects({ ...minimal, planner: [] }, /planner must be an object/);
});

test("eval - an engine object sets cost and capacity over a preset", () => {
  const [s] = parse({ ...minimal, engine: { preset: "a100-8b", kv_capacity_tokens: 100000, cost_d: 0 } });
  assert.equal(s.engine.name, "a100-8b+custom");
  assert.equal(s.engine.scheduler.kvCapacityTokens, 100000);
  assert.equal(s.engine.cost.d, 0);
  assert.equal(s.engine.cost.a, 0.012, "the rest from the preset");
});

test("eval - relative file arrivals are read beside the scenario file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-eval-"));
  try {
    fs.writeFileSync(
      path.join(dir, "traffic.ndjson"),
      ['{"t": 0, "input_tokens": 100, "output_tokens": 10}', '{"t": 30, "input_tokens": 50, "output_tokens": 5}'].join(
        "\n",
      ),
    );
    const [s] = parse({ ...minimal, arrivals: "file:traffic.ndjson" }, dir);
    const load = scenarioLoad(s);
    assert.equal(load.list?.length, 2);
    assert.ok(load.rateAt(2) > 0 && load.rateAt(50) === 0);
    rejects({ ...minimal, arrivals: "file:missing.ndjson" }, /cannot read it/);
    // A file too big to read whole is refused up front (sparse: no disk used).
    const huge = path.join(dir, "huge.ndjson");
    fs.writeFileSync(huge, "");
    fs.truncateSync(huge, 600 * 2 ** 20);
    assert.throws(
      () => parse({ ...minimal, arrivals: "file:huge.ndjson" }, dir),
      /file:huge.ndjson: 600 MiB is more than 512 MiB/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
