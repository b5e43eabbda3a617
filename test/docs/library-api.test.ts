/**
 * The TypeScript examples of the documentation compile against the package's public types:
 * every ```ts block that imports from "fpm" (README.md and docs/) is type-checked, as a module
 * of its own, against dist/src/index.d.ts with the compiler API. The library reference names
 * every exported class, so a new class is documented or the test says so.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../harness/vectors.js";
import { markdownFiles } from "./markdown-links.js";
import { readDoc } from "./markdown-tables.js";

interface Example {
  file: string;
  line: number;
  code: string;
}

/** The ```ts blocks of a page that import from "fpm". */
function examples(file: string): Example[] {
  const out: Example[] = [];
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1])) i++;
    const code = lines.slice(start, i + 1).join("\n");
    if (/from "fpm"/.test(code)) out.push({ file: path.relative(REPO_ROOT, file), line: start, code });
    i++;
  }
  return out;
}

test("docs - every TypeScript example in the documentation compiles against the public API", () => {
  const pages = markdownFiles(REPO_ROOT).filter((f) => {
    const rel = path.relative(REPO_ROOT, f);
    return rel === "README.md" || rel.startsWith(`docs${path.sep}`);
  });
  const all = pages.flatMap(examples);
  assert.ok(all.length >= 8, `found ${all.length} examples`);
  const index = path.join(REPO_ROOT, "dist", "src", "index.js");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-doc-examples-"));
  try {
    const files = all.map((ex, i) => {
      const f = path.join(dir, `example-${i}.mts`);
      fs.writeFileSync(f, `${ex.code.replaceAll('from "fpm"', `from ${JSON.stringify(index)}`)}\nexport {};\n`);
      return f;
    });
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const ex = d.file ? all[files.indexOf(path.normalize(d.file.fileName))] : undefined;
      const where =
        ex && d.file && d.start !== undefined
          ? `${ex.file}:${ex.line + d.file.getLineAndCharacterOfPosition(d.start).line + 1}`
          : "(options)";
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
    });
    assert.deepEqual(problems, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("docs - the library reference names every exported class", () => {
  const page = readDoc("docs/reference/library-api.md");
  const classes = fs
    .readFileSync(path.join(REPO_ROOT, "test", "api", "public-api.txt"), "utf8")
    .split("\n")
    .map((l) => /^value class (\w+)$/.exec(l.trim())?.[1])
    .filter((c): c is string => c !== undefined);
  assert.ok(classes.length > 20);
  assert.deepEqual(
    classes.filter((c) => !page.includes(`\`${c}\``)),
    [],
  );
});
