/**
 * Regression: `fpm replay --to-planner --planner-config` kept its own table of 17 config keys,
 * so a Dynamo 1.6.1 config file (load_adjustment_interval_seconds, ttft_ms, planner_mode, ...)
 * that `fpm planner --config` takes was refused, and values went in unchecked. It now reads
 * the file with the planner's own reader: the same keys, aliases, checks and suggestions.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { recordLine } from "../../src/recording/stream-recording.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { runFpm } from "../harness/fpm-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-replay-config-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const recording = path.join(dir, "rec.ndjson");
fs.writeFileSync(
  recording,
  `${Array.from({ length: 40 }, (_, i) => {
    const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: "w0", counterId: i, wallTimeS: 0.02 });
    const env = encodeEnvelope({ publisherId: 7n, sequence: BigInt(i), publishedAtMs: 0n, topic: "x", payload });
    return recordLine("namespace.dynamo.component.backend.forward-pass-metrics", env, 1000 + i * 250);
  }).join("\n")}\n`,
);

function config(obj: Record<string, unknown>): string {
  const p = path.join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(p, JSON.stringify(obj));
  return p;
}

test("replay - --planner-config takes the planner's Dynamo 1.6.1 keys, as fpm planner --config does", async () => {
  const cfg = config({
    planner_mode: "parity",
    load_adjustment_interval_seconds: 2,
    optimization_target: "sla",
    ttft_ms: 300,
    itl_ms: 30,
    max_num_batched_tokens: 2048,
    namespace: "dynamo",
    log_dir: "/tmp",
  });
  const r = await runFpm(["replay", recording, "--to-planner", "--planner-config", cfg]);
  assert.equal(r.code, 0, r.stderr);
  const records = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(records.length >= 4, `one record per 2 s tick over 10 s: ${records.length}`);
  assert.ok(records.every((d) => d.mode === "parity" && d.target === "sla"));
  assert.match(r.stderr, /config keys fpm does not implement were ignored.*log_dir/);
});

test("replay - a wrong --planner-config key or value stops with exit 2 and what to change", async () => {
  const misspelt = await runFpm(["replay", recording, "--to-planner", "--planner-config", config({ ttft_msx: 3 })]);
  assert.equal(misspelt.code, 2);
  assert.match(misspelt.stderr, /unknown key\(s\) ttft_msx \(did you mean ttft_ms\?\)/);
  const wrong = await runFpm(["replay", recording, "--to-planner", "--planner-config", config({ ttft_ms: "300" })]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /ttft_ms "300": must be a number > 0 \(a JSON number, not a string\)/);
});
