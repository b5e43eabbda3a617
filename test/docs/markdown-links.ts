/**
 * Checks the links of the repository's markdown: every link must stay inside the
 * repository (no scheme, no absolute path, no `..` out of it) and point at a file that
 * exists, and at a heading of it when it names one (GitHub's anchors). Links inside code
 * (fenced blocks, inline code spans) are text, not links.
 */
import fs from "node:fs";
import path from "node:path";

/** Folders that are not the repository's own documents. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", ".git", ".venv", ".cache", ".pytest_cache", "__pycache__"]);

export function markdownFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) walk(path.join(dir, e.name));
      } else if (e.name.endsWith(".md")) out.push(path.join(dir, e.name));
    }
  };
  walk(root);
  return out.sort();
}

/** The lines of `text` with every fenced code block (fences included) blanked, so line numbers hold. */
export function withoutFences(text: string): string[] {
  let fence: string | null = null;
  return text.split("\n").map((line) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null;
      return "";
    }
    if (m) {
      fence = m[1];
      return "";
    }
    return line;
  });
}

/**
 * The text without fenced code blocks (lines kept, so line numbers hold) and without inline
 * code spans, or with only their backticks gone when `keepSpanText` (a heading's anchor keeps it).
 */
function withoutCode(text: string, keepSpanText = false): string {
  return withoutFences(text)
    .map((line) => line.replace(/(`+)([^`]*?)\1/g, (_m, _ticks: string, inner: string) => (keepSpanText ? inner : "")))
    .join("\n");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCode(markdown, true).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}

export interface LinkProblem {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** Every link target in `markdown` with its line: inline links and images, reference definitions, autolinks. */
export function linkTargets(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  withoutCode(markdown)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g))
        out.push({ target: m[1], line: i + 1 });
      const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
      if (def) out.push({ target: def[1], line: i + 1 });
      for (const m of line.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]+)>/gi)) out.push({ target: m[1], line: i + 1 });
    });
  return out;
}

/** What is wrong with the links of `file` (a markdown file inside `root`). */
export function checkLinks(root: string, file: string): LinkProblem[] {
  const text = fs.readFileSync(file, "utf8");
  const rel = path.relative(root, file);
  const problems: LinkProblem[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (f: string) => {
    if (!anchorsOf.has(f)) anchorsOf.set(f, headingAnchors(fs.readFileSync(f, "utf8")));
    return anchorsOf.get(f)!;
  };
  for (const { target, line } of linkTargets(text)) {
    const bad = (problem: string) => problems.push({ file: rel, line, target, problem });
    if (target === "") bad("empty link");
    else if (/^[a-z][a-z0-9+.-]*:/i.test(target)) bad("leaves the repository (use a path inside it, or plain text)");
    else if (target.startsWith("/")) bad("absolute path (write it relative to this file)");
    else {
      const [p, anchor] = target.split("#", 2) as [string, string | undefined];
      const dest = p === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(p));
      if (dest !== root && !dest.startsWith(root + path.sep)) bad("points outside the repository");
      else if (!fs.existsSync(dest)) bad("points at nothing (no such file)");
      else if (anchor !== undefined && dest.endsWith(".md") && !anchors(dest).has(anchor))
        bad(`no heading #${anchor} in ${path.relative(root, dest)}`);
    }
  }
  return problems;
}
