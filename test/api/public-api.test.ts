/**
 * The public API is reviewable: the export list of src/index.ts (names and kinds) must equal
 * test/api/public-api.txt, every fpm type a public signature uses must be exported, and no
 * export may be command-line glue. After an intended change: `npm run api:update` (or
 * FPM_UPDATE_API=1 with this test) rewrites the file; commit it with the change.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { API_FILE, readApiSurface } from "./api-surface.js";

const surface = readApiSurface();

function lineDiff(expected: string[], actual: string[]): string {
  const want = new Set(expected);
  const have = new Set(actual);
  return [
    ...expected.filter((l) => !have.has(l)).map((l) => `- ${l}`),
    ...actual.filter((l) => !want.has(l)).map((l) => `+ ${l}`),
  ].join("\n");
}

test("api - the export list of src/index.ts equals test/api/public-api.txt", () => {
  const text = `${surface.lines.join("\n")}\n`;
  if (process.env.FPM_UPDATE_API === "1") fs.writeFileSync(API_FILE, text);
  const recorded = fs.existsSync(API_FILE) ? fs.readFileSync(API_FILE, "utf8") : "";
  const diff = lineDiff(recorded.split("\n").filter(Boolean), surface.lines);
  assert.ok(
    diff === "" && recorded === text,
    `The public API (src/index.ts) is not what test/api/public-api.txt records (- recorded, + now):\n${diff || "(same names, different order)"}\n` +
      "If you changed the API on purpose, run `npm run api:update` and commit test/api/public-api.txt with your change, " +
      "so the change is reviewed. Otherwise restore the export.",
  );
});

test("api - every fpm type a public declaration uses is exported", () => {
  assert.deepEqual(surface.unexportedTypes, [], "export these from src/index.ts (export type { X } for types)");
});

test("api - no export is command-line glue", () => {
  assert.deepEqual(surface.cliGlue, [], "flag parsing and commander helpers stay in src/cli");
});
