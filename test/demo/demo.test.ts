import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { isProcessAlive } from "../../src/util/child-process.js";
import { waitFor } from "../harness/ports.js";
import { FpmProcess } from "../harness/fpm-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-demo-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function childPids(stateFile: string): { name: string; pid: number }[] {
  return (JSON.parse(fs.readFileSync(stateFile, "utf8")) as { pids: { name: string; pid: number }[] }).pids.filter(
    (p) => typeof p.pid === "number",
  );
}

test("demo - headless run scales up under the load step and down around it, then exits 0", {
  timeout: 150_000,
}, async () => {
  const summaryFile = path.join(dir, "summary.json");
  const stateFile = path.join(dir, "state.json");
  const demo = new FpmProcess([
    "demo",
    "--headless",
    "--duration",
    "36",
    "--step-rate",
    "160",
    "--summary-json",
    summaryFile,
    "--state-file",
    stateFile,
    "--log-dir",
    path.join(dir, "logs"),
  ]);
  const code = await demo.wait(120_000);
  assert.equal(code, 0, `demo failed:\n${demo.stdout}\n${demo.stderr}`);
  const s = JSON.parse(fs.readFileSync(summaryFile, "utf8"));
  assert.ok(s.scaleUps >= 1, `at least one scale-up:\n${demo.stdout}`);
  assert.ok(s.scaleDowns >= 1, `at least one scale-down:\n${demo.stdout}`);
  assert.ok(s.relayed > 0 && s.enginesPublished >= s.relayed);
  assert.match(demo.stdout, /== fpm demo summary/);
  assert.match(demo.stdout, /scale-ups: \d+ {3}scale-downs: \d+/);
  assert.ok(!demo.stdout.includes("\u001b["), "headless output has no ANSI codes");
  // Everything it started has gone.
  const pids = childPids(stateFile);
  assert.ok(pids.length >= 4, "nats-server, planner, simulate and relays were started");
  await waitFor(() => pids.every((p) => !isProcessAlive(p.pid)), 10_000, "every child process to be gone");
});

test("demo - Ctrl-C (SIGINT) stops every process it started and exits 0", { timeout: 90_000 }, async () => {
  const stateFile = path.join(dir, "state-int.json");
  const demo = new FpmProcess([
    "demo",
    "--headless",
    "--duration",
    "300",
    "--state-file",
    stateFile,
    "--log-dir",
    path.join(dir, "logs-int"),
  ]);
  try {
    await waitFor(
      () => /relayed [1-9]/.test(demo.stdout) || demo.exitCode !== null,
      60_000,
      "the pipeline to relay messages",
    );
    const pids = childPids(stateFile);
    assert.ok(pids.some((p) => p.name === "nats-server") && pids.some((p) => p.name.startsWith("relay-")));
    // Relays come and go with workers; the long-lived processes must be up before the signal.
    for (const name of ["nats-server", "planner", "simulate"])
      assert.ok(
        pids.some((p) => p.name === name && isProcessAlive(p.pid)),
        `${name} is running`,
      );
    demo.proc.kill("SIGINT");
    assert.equal(await demo.wait(30_000), 0, demo.stderr);
    assert.match(demo.stdout, /== fpm demo summary/);
    await waitFor(
      () => childPids(stateFile).every((p) => !isProcessAlive(p.pid)),
      10_000,
      "every child process to be gone",
    );
  } finally {
    await demo.stop();
  }
});

test("demo - when nats-server cannot be found it says exactly how to install it", { timeout: 30_000 }, async () => {
  const demo = new FpmProcess(["demo", "--headless", "--duration", "5"], {
    env: { NATS_SERVER_BIN: "/nonexistent/nats-server" },
  });
  assert.equal(await demo.wait(20_000), 2);
  assert.match(demo.stderr, /apt-get install nats-server/);
  assert.match(demo.stderr, /NATS_SERVER_BIN=\/nonexistent\/nats-server/);
});
