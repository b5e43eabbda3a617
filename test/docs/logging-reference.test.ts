/**
 * docs/reference/logging.md says what the logger does; the test holds the code to it: the
 * DYN_LOG values and default, the text and JSON examples (the page's example event is logged
 * through a real `Logger` and must come out as the page prints it), the flood limits the page
 * names, and every target the code gives a logger is named under "Targets" (found by reading
 * every source file under src/, wherever a command or part lives).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { Logger, levelFromEnv } from "../../src/util/log.js";
import { REPO_ROOT } from "../harness/vectors.js";
import { codeSpans, readDoc, sections, tableRows } from "./markdown-tables.js";

const PAGE = "docs/reference/logging.md";
const page = readDoc(PAGE);

function section(title: string): string {
  const body = sections(page, 2).get(title);
  assert.ok(body, `${PAGE} has a section "${title}"`);
  return body;
}

/** The fenced blocks of a section, as written (sections() leaves fences out). */
function fences(title: string): { lang: string; body: string }[] {
  const start = page.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `${PAGE} has a section "${title}"`);
  const end = page.indexOf("\n## ", start + 1);
  const text = page.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2].trim() }));
}

/** The lines a real Logger writes while `run` uses it, with `Date.now` (the limiter's clock) under the test's hand. */
function capture(json: boolean, run: (log: Logger, setNow: (t: number) => void) => void): string[] {
  const lines: string[] = [];
  const realNow = Date.now;
  let now = 1_000_000;
  Date.now = () => now;
  try {
    const log = new Logger({ target: "fpm.docs", level: "info", json, sink: (l) => lines.push(l) });
    run(log, (t) => {
      now = t;
    });
  } finally {
    Date.now = realNow;
  }
  return lines;
}

test("docs - the logging page's DYN_LOG levels and default are the ones levelFromEnv reads", () => {
  const dynLog = tableRows(page).find((r) => codeSpans(r[0])[0] === "DYN_LOG");
  assert.ok(dynLog, `${PAGE} has a DYN_LOG row`);
  const levels = codeSpans(dynLog[1]);
  assert.ok(levels.length >= 5, `levels listed: ${dynLog[1]}`);
  for (const level of levels) assert.equal(levelFromEnv(level), level, `DYN_LOG=${level}`);
  assert.equal(levelFromEnv(undefined), codeSpans(dynLog[2])[0], "the default");
  assert.equal(levelFromEnv("no-such-level"), "info", "an unknown value means info");
  // The Rust-style filter the page shows: its first bare level is the one used.
  const filter = codeSpans(page).find((s) => /^[a-z]+,[a-z_]+=[a-z]+$/.test(s));
  assert.ok(filter, `${PAGE} shows a Rust-style filter`);
  assert.equal(levelFromEnv(filter), filter.split(",")[0]);
});

test("docs - the logging page's text and JSON examples are what the Logger writes for that event", () => {
  const blocks = fences("Formats");
  const text = blocks.find((b) => b.lang === "")?.body;
  const json = blocks.find((b) => b.lang === "json")?.body;
  assert.ok(text && json, `${PAGE} "Formats" shows a text line and a JSON line`);
  const event = JSON.parse(json) as Record<string, unknown>;
  const { time, level, target, message, ...fields } = event;
  assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "ISO 8601 in UTC");
  const write = (asJson: boolean) => {
    const lines: string[] = [];
    const log = new Logger({ target: String(target), level: "trace", json: asJson, sink: (l) => lines.push(l) });
    log.log(String(level).toLowerCase() as "info", String(message), fields);
    assert.equal(lines.length, 1);
    return lines[0].replace(/^(\{"time":")?[^ "]+/, `$1${time}`);
  };
  assert.equal(write(false), text);
  assert.deepEqual(JSON.parse(write(true)), event);
  // "64-bit ids are written as decimal strings"
  const [big] = capture(true, (log) => log.info("id", { id: 2n ** 63n }));
  assert.equal(JSON.parse(big).id, "9223372036854775808");
});

test("docs - the logging page's flood limits are the Logger's: lines per reason, window, reasons limited apart", () => {
  const body = section("Floods");
  const perWindow = /at most (\d+) lines per reason per (\d+) s/.exec(body);
  const reasons = /At most (\d+) reasons/.exec(body);
  assert.ok(perWindow && reasons, `${PAGE} "Floods" names its numbers`);
  const [n, windowMs, maxReasons] = [Number(perWindow[1]), Number(perWindow[2]) * 1000, Number(reasons[1])];

  const lines = capture(false, (log, setNow) => {
    for (let i = 0; i < n + 3; i++) log.limited("bad", "warn", "dropped");
    setNow(1_000_000 + windowMs - 1);
    log.limited("bad", "warn", "dropped"); // still inside the window
    setNow(1_000_000 + windowMs);
    log.limited("bad", "warn", "dropped");
  });
  assert.equal(lines.length, n + 1, lines.join("\n"));
  assert.match(lines[n], / suppressed=4$/, "the first line after the window counts what was left out");

  const shared = capture(false, (log) => {
    for (let k = 0; k < maxReasons; k++) log.limited(`reason-${k}`, "warn", "dropped");
    for (let k = maxReasons; k < maxReasons + n + 5; k++) log.limited(`reason-${k}`, "warn", "dropped");
  });
  assert.equal(shared.length, maxReasons + n, "reasons beyond the limit share one");
});

/** The targets the code gives loggers (`new Logger({ target })`) and the parts it names for child loggers, across src/. */
function targetsInCode(): { roots: Map<string, string>; parts: Map<string, string> } {
  const roots = new Map<string, string>();
  const parts = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) {
        const src = fs.readFileSync(p, "utf8");
        const file = path.relative(REPO_ROOT, p);
        for (const m of src.matchAll(/new Logger\(\{\s*target:\s*"([^"]+)"/g)) roots.set(m[1], file);
        for (const m of src.matchAll(/\.child\("([^"]+)"\)/g)) parts.set(m[1], file);
      }
    }
  };
  walk(path.join(REPO_ROOT, "src"));
  return { roots, parts };
}

test("docs - every logger target the code names is under Targets on the logging page", () => {
  const named = codeSpans(section("Targets"));
  const { roots, parts } = targetsInCode();
  assert.ok(roots.size >= 5, `targets found in src/: ${[...roots.keys()]}`);
  const missing = [...roots].filter(([t]) => !named.includes(t)).map(([t, file]) => `${t} (${file})`);
  // A child's part is named as itself or at the end of its full target (`fpm.relay.nats`).
  const isNamed = (part: string) => named.some((n) => n === part || n.endsWith(`.${part}`) || n.endsWith(`::${part}`));
  for (const [part, file] of parts) if (!isNamed(part)) missing.push(`child ${part} (${file})`);
  assert.deepEqual(missing, [], `${PAGE} "Targets" names them`);
});
