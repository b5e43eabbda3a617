/**
 * docs/reference/exit-codes.md lists exactly the exit codes the CLI has (`EXIT`), each with the
 * meaning `--help` prints (`EXIT_CODES_HELP`), and every command's `--help` does print them,
 * as the page says: the test reads both from the code and compares them with the page's table.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadCommands } from "../../src/cli/commands.js";
import { processContext } from "../../src/cli/context.js";
import { EXIT, EXIT_CODES_HELP } from "../../src/cli/exit-codes.js";
import { buildProgram } from "../../src/cli/main.js";
import { readDoc, tableRows } from "./markdown-tables.js";

const PAGE = "docs/reference/exit-codes.md";

/** `code meaning` from the `--help` text, one per code. */
function helpLines(): string[] {
  return EXIT_CODES_HELP.split("\n")
    .map((l) => /^\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

test("docs - the exit-codes page lists exactly the codes of EXIT, with the meaning --help prints", () => {
  const codes = Object.values(EXIT).map(String).sort();
  const rows = tableRows(readDoc(PAGE));
  assert.deepEqual(rows.map((r) => r[0]).sort(), codes, `${PAGE}: one row per code`);
  assert.deepEqual(
    helpLines()
      .map((l) => l.split(" ")[0])
      .sort(),
    codes,
    "--help names every code",
  );
  // The page may mark names as code; the words are --help's.
  const page = rows.map(([code, meaning]) => `${code} ${meaning.replaceAll("`", "")}`);
  assert.deepEqual(page.sort(), helpLines().sort());
});

test("docs - fpm --help and every command's --help print the exit codes, as the exit-codes page says", async () => {
  const program = buildProgram(processContext(), await loadCommands(["node", "fpm"]));
  const missing: string[] = [];
  for (const cmd of [program, ...program.commands]) {
    let help = "";
    cmd.configureOutput({ writeOut: (s) => (help += s) });
    cmd.outputHelp();
    if (!help.includes(EXIT_CODES_HELP.trim())) missing.push(cmd.name());
  }
  assert.deepEqual(missing, []);
});
