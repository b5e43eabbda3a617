/**
 * Regression (issue 9, defect 5): `--command-timeout 3000000`, or `command_timeout: 1e400`
 * in the config file, overflowed Node's timer, so every scale command was killed after about
 * 1 ms; `"ttft": [500]` in the config file was taken as 500. Every numeric setting now goes
 * through util/number-option.ts with its range, and a bad one exits 2 naming it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { CommandConnector } from "../../src/planner/connectors/command-connector.js";
import type { PlannerDecision } from "../../src/planner/decision.js";
import { ConfigError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { MAX_TIMER_MS } from "../../src/util/number-option.js";
import { FPM_BIN } from "../harness/fpm-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-numbers-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `fpm planner` against a port where nothing listens: a valid configuration would exit 3. */
function planner(args: string[]) {
  return spawnSync(
    process.execPath,
    [FPM_BIN, "planner", "--nats", "nats://127.0.0.1:1", "--max-kv-tokens", "100", ...args],
    { encoding: "utf8" },
  );
}

function withConfig(text: string): string[] {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, text);
  return ["--config", file];
}

test("regression - a command timeout beyond Node's timer is refused; the largest allowed one does not kill the command", async () => {
  const logger = new Logger({ target: "test", level: "error" });
  assert.throws(
    () => new CommandConnector({ command: "true", logger, commandTimeoutMs: 3_000_000_000 }),
    (err: Error) =>
      err instanceof ConfigError &&
      /commandTimeoutMs 3000000000: must be an integer in 1\.\.2147483647/.test(err.message),
  );
  const c = new CommandConnector({ command: "sleep 0.3", logger, commandTimeoutMs: MAX_TIMER_MS });
  await c.apply({ component: "backend", desired: 2, replicas: 1, direction: "up" } as PlannerDecision, 0);
  assert.deepEqual([c.runs[0].timedOut, c.runs[0].exitCode], [false, 0], "ran to the end");
});

test("regression - fpm planner: out-of-range timers, non-finite numbers and arrays or strings in the config file exit 2 naming the key and its range", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--command-timeout", "3000000"], /--command-timeout "3000000": must be a number > 0 and <= 2147483/],
    [["--command-timeout", "1e400"], /--command-timeout "1e400": must be a number > 0 and <= 2147483/],
    [["--scale-timeout", "0"], /--scale-timeout "0": must be a number > 0/],
    [
      ["--load-adjustment-interval", "9999999"],
      /--load-adjustment-interval "9999999": must be a number > 0 and <= 2147483/,
    ],
    [["--stale-after-ms", "Infinity"], /--stale-after-ms "Infinity": must be a number in 0\.\.2147483647/],
    [["--ttft", "0x10"], /--ttft "0x10": must be a number > 0/],
    [["--min-endpoint", "1.5"], /--min-endpoint "1\.5": must be an integer >= 0/],
    [
      withConfig('{"command_timeout": 1e400}'),
      /config key command_timeout Infinity: must be a number > 0 and <= 2147483/,
    ],
    [withConfig('{"ttft": [500]}'), /config key ttft \[500\]: must be a number > 0 \(a JSON number, not an array\)/],
    [withConfig('{"itl": "50"}'), /config key itl "50": must be a number > 0 \(a JSON number, not a string\)/],
    [
      withConfig('{"max_engines": true}'),
      /config key max_engines true: must be an integer in 1\.\.10000000 \(a JSON number, not a boolean\)/,
    ],
    [withConfig('{"metrics_port": [9090]}'), /config key metrics_port \[9090\]: must be an integer in -1\.\.65535/],
    [withConfig('{"min_endpoint": 2.5}'), /config key min_endpoint 2\.5: must be an integer >= 0/],
    [
      withConfig('{"load_scaling_down_sensitivity": 101}'),
      /config key load_scaling_down_sensitivity 101: must be an integer in 0\.\.100/,
    ],
  ];
  for (const [args, says] of cases) {
    const r = planner(args);
    assert.equal(r.status, 2, `${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, says, args.join(" "));
  }
  // The largest timers are valid (the planner gets as far as connecting: exit 3).
  const ok = planner(["--command-timeout", "2147483", "--scale-timeout", "2147483", "--stale-after-ms", "2147483647"]);
  assert.equal(ok.status, 3, ok.stderr);
});
