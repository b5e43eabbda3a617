/**
 * Commands load on demand: a subcommand loads only its own module (the relay process does
 * not carry the planner, the simulator or zod), and help still lists every command.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import { COMMAND_MODULES, loadCommands } from "../../src/cli/commands.js";
import { processContext } from "../../src/cli/context.js";
import { REPO_ROOT } from "../harness/vectors.js";

const ALL = COMMAND_MODULES.flatMap((m) => m.names).sort();

async function registered(argv: string[]): Promise<string[]> {
  const program = new Command("fpm");
  for (const register of await loadCommands(argv)) register(program, processContext());
  return program.commands.map((c) => c.name()).sort();
}

test("cli - each command module registers exactly the names the table declares", async () => {
  for (const m of COMMAND_MODULES) {
    const program = new Command("fpm");
    (await m.load())(program, processContext());
    assert.deepEqual(program.commands.map((c) => c.name()).sort(), [...m.names].sort());
  }
  assert.equal(new Set(ALL).size, ALL.length, "a command name is declared twice");
});

test("cli - a subcommand loads only its own module; help, no command or a typo load them all", async () => {
  assert.deepEqual(await registered(["node", "fpm", "relay", "--nats", "x"]), ["relay"]);
  assert.deepEqual(await registered(["node", "fpm", "encode"]), ["decode", "encode"]);
  for (const argv of [
    ["node", "fpm"],
    ["node", "fpm", "--help"],
    ["node", "fpm", "relya"],
  ])
    assert.deepEqual(await registered(argv), ALL);
});

test("cli - fpm --help lists every command; an unknown command is a usage error with a suggestion", () => {
  const help = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "fpm.js"), "--help"], { timeout: 30_000 });
  assert.equal(help.status, 0);
  for (const name of ALL) assert.match(help.stdout.toString(), new RegExp(`^  ${name}\\b`, "m"));
  const typo = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "fpm.js"), "relya"], { timeout: 30_000 });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr.toString(), /Did you mean relay\?/);
});
