/** The one child-process manager of the demo, the benchmarks and the harnesses. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isProcessAlive, ManagedProcess, ProcessRegistry } from "../../src/util/child-process.js";

const node = (name: string, script: string, extra: Partial<ConstructorParameters<typeof ManagedProcess>[0]> = {}) =>
  new ManagedProcess({ name, command: process.execPath, args: ["-e", script], ...extra });

test("child-process - stdout lines reach the callback whole; stderr is kept for error messages", async () => {
  const lines: string[] = [];
  const p = node(
    "lines",
    `process.stdout.write("a\\nb"); setTimeout(() => { process.stdout.write("c\\n"); console.error("oops"); }, 50)`,
    {
      onStdoutLine: (l) => lines.push(l),
    },
  );
  assert.equal(await p.exited, 0);
  assert.deepEqual(lines, ["a", "bc"]);
  assert.equal(p.recentStderr(), "oops");
  assert.equal(p.running, false);
});

test("child-process - the environment is merged, and a variable set to undefined is removed", async () => {
  process.env.FPM_TEST_REMOVED = "present";
  try {
    const p = node(
      "env",
      `console.log(JSON.stringify([process.env.FPM_TEST_ADDED, process.env.FPM_TEST_REMOVED ?? null, typeof process.env.PATH]))`,
      {
        env: { FPM_TEST_ADDED: "yes", FPM_TEST_REMOVED: undefined },
        keepOutputChars: 1000,
      },
    );
    const line = await p.waitForLine(/^\[/);
    assert.deepEqual(JSON.parse(line), ["yes", null, "string"]);
  } finally {
    delete process.env.FPM_TEST_REMOVED;
  }
});

test("child-process - kept output is bounded, and waitForLine sees only complete lines", async () => {
  const p = node(
    "bounded",
    `process.stdout.write("x".repeat(5000) + "\\nready\\n{\\"partial"); setInterval(() => {}, 1000)`,
    {
      keepOutputChars: 100,
    },
  );
  try {
    assert.equal(await p.waitForLine("ready"), "ready");
    assert.ok(p.stdoutText.length <= 100);
    await assert.rejects(
      p.waitForLine(/^\{/, { timeoutMs: 300 }),
      /timed out/,
      "a line still being written is not a line",
    );
  } finally {
    await p.stop(1000);
  }
});

test("child-process - waitForLine fails at once when the process exits, with its stderr", async () => {
  const p = node("dies", `console.error("cannot start: port taken"); process.exit(3)`, { keepOutputChars: 1000 });
  await assert.rejects(p.waitForLine("ready", { timeoutMs: 20_000 }), /dies exited \(3\)[\s\S]*port taken/);
});

test("child-process - stop() of a process with its own group also ends what it started", async () => {
  const p = node(
    "parent",
    `const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
     console.log(c.pid); setInterval(() => {}, 1000)`,
    { ownProcessGroup: true, keepOutputChars: 1000 },
  );
  const grandchild = Number(await p.waitForLine(/^\d+$/));
  assert.ok(isProcessAlive(grandchild));
  await p.stop(2000);
  assert.equal(p.signal, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (isProcessAlive(grandchild) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(isProcessAlive(grandchild), false, "the grandchild is gone");
});

test("child-process - SIGKILL after the grace period for a process that ignores SIGTERM", async () => {
  const p = node("stubborn", `process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)`, {
    keepOutputChars: 1000,
  });
  await p.waitForLine("up");
  await p.stop(200);
  assert.equal(p.signal, "SIGKILL");
});

test("child-process - a command that does not exist is reported, not thrown", async () => {
  const p = new ManagedProcess({ name: "missing", command: "/nonexistent/fpm-binary", args: [] });
  assert.equal(await p.exited, null);
  assert.match(String(p.spawnError), /ENOENT/);
  assert.equal(p.running, false);
  await p.stop(100);
});

test("child-process - the registry stops clients before the servers they need", async () => {
  const registry = new ProcessRegistry(["server"]);
  const order: string[] = [];
  const start = (name: string, delayMs: number) => {
    const p = registry.start({
      name,
      command: process.execPath,
      args: [
        "-e",
        `process.on("SIGTERM", () => setTimeout(() => process.exit(0), ${delayMs})); console.log("up"); setInterval(() => {}, 1000)`,
      ],
      keepOutputChars: 1000,
    });
    void p.exited.then(() => order.push(name));
    return p;
  };
  // The client takes a while to stop; the server must still be running until it has.
  await Promise.all([start("server", 0), start("client", 300)].map((p) => p.waitForLine("up")));
  await registry.stopAll();
  registry.dispose();
  assert.deepEqual(order, ["client", "server"]);
  assert.ok(registry.all().every((p) => !p.running));
});
