/** No markdown link leaves the repository or points at nothing. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../harness/vectors.js";
import { checkLinks, headingAnchors, markdownFiles } from "./markdown-links.js";

test("docs - every markdown link in the repository resolves to a file and heading inside it", () => {
  const files = markdownFiles(REPO_ROOT);
  assert.ok(files.some((f) => f.endsWith("README.md")) && files.some((f) => f.endsWith("wire-format.md")));
  const problems = files.flatMap((f) => checkLinks(REPO_ROOT, f));
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} (${p.target}): ${p.problem}`),
    [],
  );
});

test("docs - the link check catches external, missing, escaping and unanchored links, and skips code", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-links-"));
  try {
    fs.mkdirSync(path.join(root, "docs"));
    fs.writeFileSync(path.join(root, "docs", "page.md"), "# A page\n\n## 2. The payload: v1\n");
    fs.writeFileSync(
      path.join(root, "README.md"),
      [
        "[ok](docs/page.md) [ok anchor](docs/page.md#2-the-payload-v1) [self](#top) ![img](docs/page.md)",
        "# Top",
        "[web](https://example.com) [mail](mailto:a@b.c) <https://example.org>",
        "[missing](docs/nothing.md) [bad anchor](docs/page.md#nope) [out](../elsewhere.md) [abs](/docs/page.md)",
        "[ref]: https://example.net",
        "`[code](https://in.code)`",
        "```",
        "[fenced](https://in.fence)",
        "```",
      ].join("\n"),
    );
    const found = checkLinks(root, path.join(root, "README.md")).map((p) => `${p.line} ${p.target}`);
    assert.deepEqual(found, [
      "3 https://example.com",
      "3 mailto:a@b.c",
      "3 https://example.org",
      "4 docs/nothing.md",
      "4 docs/page.md#nope",
      "4 ../elsewhere.md",
      "4 /docs/page.md",
      "5 https://example.net",
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("docs - heading anchors follow GitHub's rules", () => {
  const a = headingAnchors(
    "# 4.1 Subjects and scopes\n## The `fpm` CLI!\n## Same\n## Same\n```\n# not a heading\n```\n",
  );
  assert.deepEqual([...a], ["41-subjects-and-scopes", "the-fpm-cli", "same", "same-1"]);
});
