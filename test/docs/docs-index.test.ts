/** docs/README.md, the index, links every page under docs/: a new page is listed for its readers. */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../harness/vectors.js";
import { linkTargets, markdownFiles } from "./markdown-links.js";
import { readDoc } from "./markdown-tables.js";

test("docs - the docs index links every page under docs/", () => {
  const docs = path.join(REPO_ROOT, "docs");
  const pages = markdownFiles(docs)
    .map((f) => path.relative(docs, f))
    .filter((f) => f !== "README.md");
  const linked = new Set(
    linkTargets(readDoc("docs/README.md")).map(({ target }) => path.normalize(target.split("#")[0])),
  );
  assert.ok(pages.length >= 15);
  assert.deepEqual(
    pages.filter((p) => !linked.has(p)),
    [],
  );
});
