/**
 * Functions in the files held to it stay short enough to read at once (about 60 lines):
 * the demo's orchestration is a set of small steps over a typed state, not one function
 * sharing mutable variables. Files are added to CHECKED as they are brought under the limit.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../harness/vectors.js";

const MAX_LINES = 60;
/** src/cli files held to the limit. */
const CHECKED = /^demo[a-z-]*\.ts$/;

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

test(`cli - no function in src/cli/demo*.ts is over ${MAX_LINES} lines`, () => {
  const dir = path.join(REPO_ROOT, "src", "cli");
  const files = fs.readdirSync(dir).filter((f) => CHECKED.test(f));
  assert.ok(files.length >= 5, `the demo's files are found: ${files.join(", ")}`);
  assert.deepEqual(
    files.flatMap((f) => longFunctions(path.join(dir, f))),
    [],
  );
});
