/** The errors module: one class per failure mode, each with its name and its cause; lifecycle misuse has its own class. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { FpmEventRelay } from "../../src/relay/relay.js";
import { EngineScheduler } from "../../src/sim/engine-scheduler.js";
import { errors, FpmEncodeError, LifecycleError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { PACKAGE_VERSION } from "../../src/util/version.js";
import { REPO_ROOT } from "../harness/vectors.js";

test("errors - every class sets its name and keeps its cause", () => {
  const cause = new Error("lower level");
  for (const [name, ErrorClass] of Object.entries(errors)) {
    const err = new ErrorClass("what went wrong", { cause });
    assert.ok(err instanceof Error, `${name} is an Error`);
    assert.equal(err.name, name);
    assert.equal(err.cause, cause, `${name} keeps its cause`);
    assert.equal(err.message, "what went wrong");
    assert.match(String(err.stack), new RegExp(`^${name}: what went wrong`));
  }
});

test("errors - FpmEncodeError is still a TypeError", () => {
  assert.ok(new FpmEncodeError("x") instanceof TypeError);
});

test("errors - starting a stopped relay is a LifecycleError", async () => {
  const relay = new FpmEventRelay({
    endpoints: [{ dpRank: 0, url: "tcp://127.0.0.1:20380" }],
    nats: { servers: ["nats://127.0.0.1:1"] },
    logger: new Logger({ target: "test", level: "error", sink: () => undefined }),
  });
  await relay.stop();
  await assert.rejects(relay.start(), LifecycleError);
});

test("errors - completing an iteration the scheduler did not plan is a LifecycleError", () => {
  const scheduler = new EngineScheduler();
  const plan = scheduler.schedule();
  assert.throws(() => scheduler.complete({ ...plan }), LifecycleError);
});

test("version - read from package.json, and `fpm --version` prints it", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  assert.equal(PACKAGE_VERSION, pkg.version);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "fpm.js"), "--version"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});
