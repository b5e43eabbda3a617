/**
 * Regression: `fpm relay --help | head` crashed with an unhandled EPIPE (a stack trace and
 * exit code 1) once the reader had gone. A closed stdout now ends any command quietly with
 * exit code 0, and a closed stderr does not crash it: it keeps its own exit code.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { COMMAND_MODULES } from "../../src/cli/commands.js";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { recordLine } from "../../src/recording/stream-recording.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { FPM_BIN } from "../harness/fpm-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-epipe-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs fpm with the read end of stdout (or stderr) closed before it writes; its exit code and what it said elsewhere. */
function withClosedPipe(args: string[], closed: "stdout" | "stderr"): Promise<{ code: number | null; said: string }> {
  const child = spawn(process.execPath, [FPM_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let said = "";
  const open = closed === "stdout" ? child.stderr : child.stdout;
  open.on("data", (d) => (said += d));
  (closed === "stdout" ? child.stdout : child.stderr).destroy();
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, said })));
}

test("cli - every command's --help into a closed pipe exits 0 without a stack trace", async () => {
  const names = ["", ...COMMAND_MODULES.flatMap((m) => m.names)];
  for (const name of names) {
    const r = await withClosedPipe(name ? [name, "--help"] : ["--help"], "stdout");
    assert.equal(r.code, 0, `fpm ${name} --help: ${r.said}`);
    assert.doesNotMatch(r.said, /EPIPE|Unhandled|at /, `fpm ${name} --help`);
  }
});

test("cli - a command streaming records into a closed pipe exits 0 quietly", async () => {
  const file = path.join(dir, "rec.ndjson");
  const lines = Array.from({ length: 2000 }, (_, i) => {
    const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: "w0", counterId: i, wallTimeS: 0.02 });
    const env = encodeEnvelope({ publisherId: 7n, sequence: BigInt(i), publishedAtMs: 0n, topic: "x", payload });
    return recordLine("namespace.dynamo.component.backend.forward-pass-metrics", env, 1000 + i * 100);
  });
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  const r = await withClosedPipe(["replay", file, "--to-planner", "--interval", "0.1"], "stdout");
  assert.equal(r.code, 0, r.said);
  assert.doesNotMatch(r.said, /EPIPE|Unhandled/);
});

test("cli - a closed stderr does not crash a command: it keeps its exit code", async () => {
  const r = await withClosedPipe(["relay", "--base-port", "not-a-port"], "stderr");
  assert.equal(r.code, 2, "a configuration error is still exit 2");
});
