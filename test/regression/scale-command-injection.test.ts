/**
 * Regression (issue 9, defect 4): `--scale-command` pasted the component name, single-quoted,
 * into the shell text, so in `"deployment/{component}"` a `$(...)` or backticks ran and in
 * `'{component}'` a `;` split the command. Now values are never command text: the old
 * placeholders are refused, the values arrive as "$1"/"$2" and FPM_* variables, and names
 * outside the safe set are refused, at start (exit 2) and by the connector itself.
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
import { FPM_BIN } from "../harness/fpm-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-scale-inject-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const marker = path.join(dir, "pwned");

/** Component names (and one replica value) that would run `touch marker` if pasted into shell text. */
const HOSTILE = [
  `x$(touch ${marker})`,
  `x\`touch ${marker}\``,
  `x; touch ${marker}`,
  `x' ; touch ${marker} ; '`,
  `x" ; touch ${marker} ; "`,
  `x\ntouch ${marker}`,
  `x && touch ${marker}`,
  `x | touch ${marker}`,
];
const TEMPLATES = [
  // The old forms: each of them ran the marker before the fix.
  "echo deployment/{component} --replicas={replicas}",
  'echo "deployment/{component}" --replicas="{replicas}"',
  "echo '{component}' {replicas}",
  // The new forms.
  'echo "deployment/$FPM_COMPONENT" --replicas="$FPM_REPLICAS"',
  'echo "$1" "$2"',
];

test("regression - no component name or value given to --scale-command runs as shell code", async () => {
  const logger = new Logger({ target: "test", level: "error" });
  let refusedAtConstruction = 0;
  for (const command of TEMPLATES) {
    let c: CommandConnector;
    try {
      c = new CommandConnector({ command, logger, commandTimeoutMs: 5000 });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      refusedAtConstruction++;
      continue;
    }
    for (const component of HOSTILE) {
      await c.apply({ component, desired: 2, replicas: 1, direction: "up" } as PlannerDecision, 0);
    }
    // A count that is not a whole number never reaches the command either.
    await c.apply({ component: "backend", desired: Number.NaN, replicas: 1, direction: "up" } as PlannerDecision, 0);
    assert.equal(c.runs.length, 0, `${command}: nothing ran for an unsafe name or count`);
    await c.close();
  }
  assert.equal(refusedAtConstruction, 3, "the old {component}/{replicas} templates are refused");
  assert.equal(fs.existsSync(marker), false, "no injected command ran");
});

test("regression - fpm planner refuses unsafe component names and the old placeholders at start (exit 2)", () => {
  const run = (args: string[]) =>
    spawnSync(
      process.execPath,
      [FPM_BIN, "planner", "--nats", "nats://127.0.0.1:1", "--max-kv-tokens", "100", ...args],
      {
        encoding: "utf8",
      },
    );
  const safe = ["--scale-command", 'echo "$FPM_COMPONENT" "$FPM_REPLICAS"'];
  for (const component of HOSTILE) {
    const r = run(["--connector", "command", ...safe, "--component", `${component}:agg`]);
    assert.equal(r.status, 2, `${JSON.stringify(component)}: ${r.stderr}`);
    assert.match(r.stderr, /a component name must be letters, digits, '\.', '_' and '-' only/);
  }
  const old = run([
    "--connector",
    "command",
    "--scale-command",
    "kubectl scale deployment/{component} --replicas={replicas}",
  ]);
  assert.equal(old.status, 2, old.stderr);
  assert.match(old.stderr, /uses \{component\} and \{replicas\}, which are no longer replaced/);
  assert.match(old.stderr, /kubectl scale "deployment\/\$FPM_COMPONENT" --replicas="\$FPM_REPLICAS"/);
  const cfg = path.join(dir, "planner.json");
  fs.writeFileSync(cfg, JSON.stringify({ connector: "command", scale_command: "scale '{component}'" }));
  const fromFile = run(["--config", cfg]);
  assert.equal(fromFile.status, 2, fromFile.stderr);
  assert.match(fromFile.stderr, /uses \{component\}/);
  assert.equal(fs.existsSync(marker), false);
});
