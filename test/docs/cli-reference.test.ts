/**
 * docs/reference/cli.md lists every command and every flag the program has, and no other:
 * the test builds `fpm` with every command module loaded (what `fpm --help` shows) and
 * compares each command's options with the flags in the first column of its section's
 * tables. The NATS flags every NATS command shares are listed once, in their own section,
 * which the command's section links.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Command } from "commander";
import { loadCommands } from "../../src/cli/commands.js";
import { processContext } from "../../src/cli/context.js";
import { buildProgram } from "../../src/cli/main.js";
import { readDoc, sections, tableRows } from "./markdown-tables.js";

const PAGE = "docs/reference/cli.md";
const NATS_SECTION = "NATS connection flags";
const NATS_LINK = "](#nats-connection-flags)";

async function program(): Promise<Command> {
  return buildProgram(processContext(), await loadCommands(["node", "fpm"]));
}

/** Long flags of a command, as commander knows them (`--no-x` for negations); help is everyone's. */
function flagsOf(cmd: Command): Set<string> {
  return new Set(cmd.options.map((o) => o.long).filter((f): f is string => f !== undefined && f !== "--help"));
}

/** The long flags named in the first cell of every table row of a section. */
function tableFlags(body: string): Set<string> {
  const out = new Set<string>();
  for (const row of tableRows(body)) for (const m of row[0].matchAll(/--[a-z][a-z0-9-]*/g)) out.add(m[0]);
  return out;
}

test("docs - the CLI reference has a section per command and none for a command that does not exist", async () => {
  const names = (await program()).commands.map((c) => `fpm ${c.name()}`).sort();
  const page = [...sections(readDoc(PAGE), 2).keys()].filter((t) => t.startsWith("fpm ")).sort();
  assert.deepEqual(page, names);
});

test("docs - every flag of every command is in the CLI reference, and every flag there exists", async () => {
  const prog = await program();
  const docs = sections(readDoc(PAGE), 2);
  const nats = tableFlags(docs.get(NATS_SECTION) ?? "");
  // The shared set: the --nats* flags every command that talks to NATS has.
  const natsCommands = prog.commands.map(flagsOf).filter((f) => f.has("--nats"));
  const shared = [...natsCommands[0]].filter((f) => f.startsWith("--nats") && natsCommands.every((c) => c.has(f)));
  assert.deepEqual([...nats].sort(), shared.sort(), `"${NATS_SECTION}" lists the flags every NATS command shares`);
  const problems: string[] = [];
  for (const cmd of prog.commands) {
    const body = docs.get(`fpm ${cmd.name()}`) ?? "";
    const has = flagsOf(cmd);
    const listed = tableFlags(body);
    if (body.includes(NATS_LINK)) {
      for (const f of nats) if (!has.has(f)) problems.push(`fpm ${cmd.name()} links the NATS flags but has no ${f}`);
      for (const f of nats) listed.add(f);
    }
    for (const f of has) if (!listed.has(f)) problems.push(`fpm ${cmd.name()} ${f}: not in ${PAGE}`);
    for (const f of listed) if (!has.has(f)) problems.push(`fpm ${cmd.name()} ${f}: in ${PAGE}, but no such flag`);
  }
  assert.deepEqual(problems, []);
});
