/**
 * No function in src/cli/ is longer than can be read at once (about 60 lines): a command is
 * its flags (grouped by concern, in its own file), their parsing, and small steps over
 * typed state, not one function sharing mutable variables.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../harness/vectors.js";

const MAX_LINES = 60;

function longFunctions(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && "body" in n && n.body) {
      const from = src.getLineAndCharacterOfPosition(n.getStart()).line;
      const to = src.getLineAndCharacterOfPosition(n.getEnd()).line;
      const name = n.name?.getText(src) ?? "(anonymous)";
      if (to - from + 1 > MAX_LINES)
        out.push(`${path.relative(REPO_ROOT, file)}:${from + 1} ${name}: ${to - from + 1} lines`);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

test(`cli - no function in src/cli/ is over ${MAX_LINES} lines`, () => {
  const dir = path.join(REPO_ROOT, "src", "cli");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 15, `the command files are found: ${files.join(", ")}`);
  assert.deepEqual(
    files.flatMap((f) => longFunctions(path.join(dir, f))),
    [],
  );
});
