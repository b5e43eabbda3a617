/**
 * docs/reference/configuration.md names every planner config key the code knows, with the
 * aliases, default and allowed values the code has, fpm's own keys, and the 1.6.1 keys that
 * are only warned about with the reason the warning gives: the test reads the key table
 * (src/planner/planner-config-keys.ts) and the defaults, and compares them with the page.
 * Every flag the page names exists on `fpm planner`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadCommands } from "../../src/cli/commands.js";
import { processContext } from "../../src/cli/context.js";
import { buildProgram } from "../../src/cli/main.js";
import {
  DYNAMO_OPTION_KEYS,
  FPM_OPTION_KEYS,
  IMPLEMENTED_KEYS,
  type ImplementedKey,
  MODE_KEY,
  WARNED_KEYS,
} from "../../src/planner/planner-config-keys.js";
import { DEFAULT_PLANNER_CONFIG } from "../../src/planner/planner-config.js";
import { codeSpans, readDoc, sections, tableRows } from "./markdown-tables.js";

const PAGE = "docs/reference/configuration.md";

function section(title: string): string[][] {
  const body = sections(readDoc(PAGE), 3).get(title);
  assert.ok(body, `${PAGE} has a section "${title}"`);
  return tableRows(body);
}

/** The allowed values of a key, as the page writes them. */
function allowed(k: ImplementedKey): string {
  if (k.choices) return k.choices.map((c) => `\`${c}\``).join(", ");
  if (k.kind === "boolean") return "`true`, `false`";
  const r = k.rule ?? {};
  const int = r.integer ? "integer " : "";
  if (r.min !== undefined && r.max !== undefined)
    return r.above ? `${int}> ${r.min} and <= ${r.max}` : `${int}${r.min}..${r.max}`;
  if (r.min !== undefined) return `${int}${r.above ? ">" : ">="} ${r.min}`;
  if (r.max !== undefined) return `${int}<= ${r.max}`;
  return r.integer ? "integer" : "number";
}

function defaultOf(k: ImplementedKey): string {
  const v = DEFAULT_PLANNER_CONFIG[k.field];
  return v === undefined ? "unset" : `\`${String(v)}\``;
}

test("docs - the configuration reference lists every implemented planner key with its aliases, default and range", () => {
  const rows = section("Keys the planner implements");
  const page = rows.map(([key, aliases, , def, range]) => ({
    key: codeSpans(key)[0],
    aliases: codeSpans(aliases),
    default: def,
    allowed: range,
  }));
  const expected = [
    ...IMPLEMENTED_KEYS.map((k) => ({
      key: k.key,
      aliases: [...k.aliases],
      default: defaultOf(k),
      allowed: allowed(k),
    })),
    {
      key: MODE_KEY.key,
      aliases: [],
      default: "unset",
      allowed: [...MODE_KEY.deployment, ...MODE_KEY.legacyPlannerModes].map((m) => `\`${m}\``).join(", "),
    },
    ...DYNAMO_OPTION_KEYS.map((key) => ({ key, aliases: [], default: "unset", allowed: "" })),
  ];
  const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
  assert.deepEqual([...page].sort(byKey), [...expected].sort(byKey));
});

test("docs - the configuration reference lists fpm's own keys and the warned 1.6.1 keys with their reasons", () => {
  const own = section("fpm's own keys").map(([key]) => codeSpans(key)[0]);
  assert.deepEqual([...own].sort(), [...FPM_OPTION_KEYS].sort());
  const warned = section("Keys accepted and named in one warning").map(([key, aliases, why]) => ({
    key: codeSpans(key)[0],
    aliases: codeSpans(aliases),
    why,
  }));
  assert.deepEqual(
    warned,
    WARNED_KEYS.map((k) => ({ key: k.key, aliases: [...(k.aliases ?? [])], why: k.why })),
  );
});

test("docs - every flag the configuration reference names exists on fpm planner", async () => {
  const program = buildProgram(processContext(), await loadCommands(["node", "fpm", "planner"]));
  const planner = program.commands.find((c) => c.name() === "planner")!;
  const flags = new Set(planner.options.map((o) => o.long));
  const named = [...section("Keys the planner implements"), ...section("fpm's own keys")].flatMap((row) =>
    row.flatMap(codeSpans).filter((s) => s.startsWith("--")),
  );
  assert.ok(named.length > 30);
  assert.deepEqual(
    named.filter((f) => !flags.has(f)),
    [],
  );
});
