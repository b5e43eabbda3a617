import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_ENGINE,
  ENGINE_PRESETS,
  engineConfig,
  kvBytesPerToken,
  LLAMA_70B,
  LLAMA_8B,
} from "../../src/sim/engine-presets.js";
import { ConfigError } from "../../src/util/errors.js";

test("sim - KV bytes per token: K and V x layers x KV heads x head dim x 2 bytes", () => {
  assert.equal(kvBytesPerToken(LLAMA_8B), 2 * 32 * 8 * 128 * 2);
  assert.equal(kvBytesPerToken(LLAMA_8B), 131_072);
  assert.equal(kvBytesPerToken(LLAMA_70B), 327_680);
});

test("sim - the H100 8B preset is the hand-worked arithmetic of the design doc", () => {
  const e = engineConfig("h100-8b");
  // 16.06 GB of weights at 0.7 x 3.35 TB/s = 6.85 ms, plus 0.5 ms host overhead.
  assert.equal(e.cost.a, 0.00735);
  // 2 x 8.03e9 FLOPs per token at 0.5 x 989 TFLOP/s.
  assert.equal(e.cost.b, 3.25e-5);
  // 131,072 bytes per KV token at 0.7 x 3.35 TB/s.
  assert.equal(e.cost.c, 5.59e-8);
  // 16.06 GFLOPs at the full 989 TFLOP/s, plus 5 us of sampling.
  assert.equal(e.cost.d, 2.12e-5);
  // 0.9 x 80 GiB - 2 GB reserved - 16.06 GB of weights, over 131,072 bytes, in thousands.
  assert.equal(e.scheduler.kvCapacityTokens, 452_000);
  assert.equal(e.gpusPerEngine, 1);
});

test("sim - presets are within an order of magnitude of each other where physics says so", () => {
  const h = engineConfig("h100-8b");
  const a = engineConfig("a100-8b");
  const big = engineConfig("4xh100-70b");
  assert.ok(a.cost.c! / h.cost.c! > 1.6 && a.cost.c! / h.cost.c! < 1.7, "bandwidth ratio 3.35 / 2.0");
  assert.ok(a.cost.b! / h.cost.b! > 3 && a.cost.b! / h.cost.b! < 3.3, "FLOPs ratio 989 / 312");
  assert.equal(big.gpusPerEngine, 4);
  assert.ok(big.cost.a! > h.cost.a!, "a 70B iteration streams more weights even over four GPUs");
  // The numbers: the default engine is ~9x slow per decode KV token and ~7x small in KV.
  assert.ok(DEFAULT_ENGINE.cost.c! / h.cost.c! > 8 && DEFAULT_ENGINE.cost.c! / h.cost.c! < 10);
  assert.ok(h.scheduler.kvCapacityTokens / DEFAULT_ENGINE.scheduler.kvCapacityTokens > 6.5);
});

test("sim - an unknown preset is a ConfigError naming the presets", () => {
  assert.throws(
    () => engineConfig("h200"),
    (err: unknown) => err instanceof ConfigError && /h100-8b/.test(err.message) && /default/.test(err.message),
  );
  assert.deepEqual([...ENGINE_PRESETS.keys()], ["default", "h100-8b", "a100-8b", "4xh100-70b"]);
});
