/**
 * Regression: the test harnesses stopped a child only when `exitCode` was null, so a
 * child already killed by a signal (exitCode stays null, signalCode is set) was waited on
 * for an "exit" event that had already been emitted: the test hung until its timeout.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { hasExited, stopChild } from "../../src/util/child-process.js";

test("regression - stopChild returns at once for a child already killed by a signal", async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await new Promise<void>((resolve) => child.once("spawn", () => resolve()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
  assert.equal(child.exitCode, null, "a signal-killed child has no exit code");
  assert.equal(hasExited(child), true);
  const outcome = await Promise.race([
    stopChild(child, 1000).then(() => "returned"),
    new Promise((r) => setTimeout(() => r("hung"), 3000)),
  ]);
  assert.equal(outcome, "returned");
});

test("regression - stopChild ends a running child with SIGTERM", async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await new Promise<void>((resolve) => child.once("spawn", () => resolve()));
  await stopChild(child, 2000);
  assert.equal(hasExited(child), true);
  assert.equal(child.signalCode, "SIGTERM");
});
