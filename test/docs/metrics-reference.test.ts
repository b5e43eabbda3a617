/**
 * docs/reference/metrics.md lists exactly the metrics the relay's and the planner's
 * registries hold, each with its type, label names and help text, and the label values it
 * names are the ones the code emits: the test builds both registries and compares.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Registry } from "prom-client";
import {
  DECISION_REASONS,
  DECISION_RULES,
  PlannerMetrics,
  RELAY_DROP_REASONS,
  RelayMetrics,
  SEQUENCE_RESET_REASONS,
} from "../../src/index.js";
import { codeSpans, readDoc, sections, tableRows } from "./markdown-tables.js";

const PAGE = "docs/reference/metrics.md";

/** `name type [labels] help`, one line per metric, for a readable diff. */
function describe(registry: Registry): string[] {
  return registry
    .getMetricsAsArray()
    .map((m) => {
      const { name, help, type, labelNames } = m as unknown as {
        name: string;
        help: string;
        type: string;
        labelNames: string[];
      };
      return `${name} ${type} [${labelNames.join(",")}] ${help}`;
    })
    .sort();
}

/** The same lines from the tables of a section of the page. */
function documented(section: string): string[] {
  const body = sections(readDoc(PAGE), 2).get(section);
  assert.ok(body, `${PAGE} has a section "${section}"`);
  return tableRows(body)
    .map(([name, type, labels, help]) => `${codeSpans(name)[0]} ${type} [${codeSpans(labels).join(",")}] ${help}`)
    .sort();
}

/** The values the page lists for `metric{label}` in "Label values". */
function listedValues(): Map<string, string[]> {
  const body = sections(readDoc(PAGE), 2).get("Label values") ?? "";
  const out = new Map<string, string[]>();
  for (const m of body.matchAll(/^- `(fpm_[a-z_]+\{[a-z_]+\})`: (.*)$/gm)) out.set(m[1], codeSpans(m[2]));
  return out;
}

/** Label values the registry shows at its first scrape (the drop reasons are there from the start, at 0). */
async function valuesAtStart(registry: Registry, metric: string, label: string): Promise<string[]> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metric);
  assert.ok(m, `${metric} exists`);
  return [...new Set(m.values.map((v) => String(v.labels[label])))];
}

test("docs - the metrics reference lists exactly the relay's metrics, types, labels and help", () => {
  assert.deepEqual(documented("Relay: `fpm_relay_*`"), describe(new RelayMetrics().registry));
});

test("docs - the metrics reference lists exactly the planner's metrics, types, labels and help", () => {
  assert.deepEqual(documented("Planner: `fpm_planner_*`"), describe(new PlannerMetrics().registry));
});

test("docs - the label values in the metrics reference are the ones the code emits", async () => {
  const relay = new RelayMetrics();
  relay.rank(0); // per-rank series appear with their rank
  const planner = new PlannerMetrics().registry;
  const expected = new Map<string, string[]>([
    ["fpm_relay_dropped_total{reason}", await valuesAtStart(relay.registry, "fpm_relay_dropped_total", "reason")],
    ["fpm_relay_seq_resets_total{reason}", await valuesAtStart(relay.registry, "fpm_relay_seq_resets_total", "reason")],
    [
      "fpm_planner_messages_dropped_total{reason}",
      await valuesAtStart(planner, "fpm_planner_messages_dropped_total", "reason"),
    ],
    [
      "fpm_planner_sequence_resets_total{field}",
      await valuesAtStart(planner, "fpm_planner_sequence_resets_total", "field"),
    ],
    [
      "fpm_planner_sequence_resets_total{reason}",
      await valuesAtStart(planner, "fpm_planner_sequence_resets_total", "reason"),
    ],
    ["fpm_planner_decisions_total{reason}", [...DECISION_REASONS]],
    ["fpm_planner_decision_rules_total{rule}", [...DECISION_RULES]],
  ]);
  // The series at start are the exported reason lists (a check of the check).
  assert.deepEqual(expected.get("fpm_relay_dropped_total{reason}"), [...RELAY_DROP_REASONS]);
  assert.deepEqual(expected.get("fpm_relay_seq_resets_total{reason}"), [...SEQUENCE_RESET_REASONS]);
  assert.deepEqual(Object.fromEntries(listedValues()), Object.fromEntries(expected));
});
