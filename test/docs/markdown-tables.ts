/**
 * Reads the reference pages' structure for the tests that keep them in line with the code:
 * the sections under a heading level, the rows of the markdown tables in a section, and the
 * code spans of a cell. Fenced code blocks are skipped, as a reader's eye skips them.
 */
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../harness/vectors.js";
import { withoutFences } from "./markdown-links.js";

export function readDoc(relative: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relative), "utf8");
}

/** Sections under headings of exactly `level` (`##` = 2): heading text -> body up to the next heading of that level or above. */
export function sections(markdown: string, level: number): Map<string, string> {
  const out = new Map<string, string>();
  let title: string | null = null;
  let body: string[] = [];
  const flush = () => {
    if (title !== null) out.set(title, body.join("\n"));
  };
  for (const line of withoutFences(markdown)) {
    const m = /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    if (m && m[1].length <= level) {
      flush();
      title = m[1].length === level ? m[2] : null;
      body = [];
      continue;
    }
    body.push(line);
  }
  flush();
  return out;
}

/** The data rows of every table in `text`, as cells (header and separator rows left out; `\|` is a literal bar). */
export function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of withoutFences(text)) {
    if (!line.trimStart().startsWith("|")) {
      inTable = false;
      continue;
    }
    const cells = line
      .trim()
      .replace(/^\||\|$/g, "")
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replaceAll("\\|", "|"));
    if (!inTable) {
      inTable = true; // the header row
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

/** The contents of the code spans of a cell, in order. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}
