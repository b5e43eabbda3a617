/**
 * The evaluation as text: one aligned table per scenario (a heading with its load,
 * deployment, SLAs and sizing, then a row per contender) and a summary per scenario group;
 * and as JSON lines, one `EvaluationRow` per scenario x contender. Nothing here reads a
 * clock, so the same result prints the same bytes.
 */
import type { ScenarioEvaluation } from "./evaluation.js";
import type { EvaluationRow } from "./metrics.js";

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const ms = (v: number | null) => (v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const opt = (v: number | null, digits = 0) => (v === null ? "-" : v.toFixed(digits));

interface Column {
  title: string;
  /** Left-aligned (text) instead of right-aligned (numbers). */
  left?: boolean;
  cell(r: EvaluationRow): string;
}

const COLUMNS: Column[] = [
  { title: "contender", left: true, cell: (r) => r.contender },
  { title: "both", cell: (r) => pct(r.both_within_sla) },
  { title: "ttft", cell: (r) => pct(r.ttft_within_sla) },
  { title: "itl", cell: (r) => pct(r.itl_within_sla) },
  { title: "ttft p50/p95/p99 ms", cell: (r) => [r.ttft_p50_ms, r.ttft_p95_ms, r.ttft_p99_ms].map(ms).join(" / ") },
  { title: "itl p50/p95/p99 ms", cell: (r) => [r.itl_p50_ms, r.itl_p95_ms, r.itl_p99_ms].map(ms).join(" / ") },
  { title: "replica-s", cell: (r) => r.replica_seconds.toFixed(0) },
  { title: "x oracle", cell: (r) => opt(r.cost_vs_oracle, 2) },
  { title: "actions", cell: (r) => String(r.scale_actions) },
  { title: "flaps", cell: (r) => String(r.flaps) },
  { title: "react s", cell: (r) => opt(r.reaction_time_s) },
  { title: "under s", cell: (r) => String(r.under_provisioned_s) },
  { title: "restarted", cell: (r) => String(r.requests_restarted) },
  { title: "rejected", cell: (r) => String(r.requests_rejected) },
  { title: "unfinished", cell: (r) => String(r.requests_unfinished) },
];

/** Rows of cells aligned in columns, two spaces apart. */
export function alignColumns(rows: string[][], left: readonly boolean[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (left[c] ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ")
      .trimEnd(),
  );
}

function heading(e: ScenarioEvaluation): string[] {
  const s = e.scenario;
  const sizing = s.sizing
    .slice(1)
    .map((r) => r.toFixed(1))
    .join(" / ");
  return [
    `== ${s.name}${s.group ? ` (${s.group})` : ""}: ${s.arrivals}, ${s.duration_s} s${s.description ? ` - ${s.description}` : ""}`,
    `   engine ${s.engine}, ${s.dp_ranks} ranks per worker, at most ${s.max_workers} workers, start-up ${s.startup_delay_s} s, scale-down ${s.scale_down}, ticks ${s.interval_s} s`,
    `   SLA TTFT ${s.ttft_sla_ms} ms, ITL ${s.itl_sla_ms} ms; peak ${s.peak_rate.toFixed(1)} req/s; 1, 2, ... workers serve up to ${sizing} req/s`,
  ];
}

/** One table per scenario, then a summary per group. */
export function renderTable(result: readonly ScenarioEvaluation[]): string {
  const lines: string[] = [];
  const left = COLUMNS.map((c) => c.left === true);
  for (const e of result) {
    lines.push(...heading(e));
    lines.push(
      ...alignColumns([COLUMNS.map((c) => c.title), ...e.rows.map((r) => COLUMNS.map((c) => c.cell(r)))], left),
    );
    lines.push("");
  }
  lines.push(...renderSummary(result));
  return `${lines.join("\n")}\n`;
}

/** Per group and contender: mean and lowest share within both SLAs, mean cost against the oracle, flaps. */
export function renderSummary(result: readonly ScenarioEvaluation[]): string[] {
  const groups = [...new Set(result.map((e) => e.scenario.group))];
  const rows: string[][] = [["group", "contender", "scenarios", "both mean", "both min", "x oracle mean", "flaps"]];
  for (const g of groups) {
    const inGroup = result.filter((e) => e.scenario.group === g);
    const contenders = [...new Set(inGroup.flatMap((e) => e.rows.map((r) => r.contender)))];
    for (const c of contenders) {
      const rs = inGroup.flatMap((e) => e.rows.filter((r) => r.contender === c));
      const costs = rs.map((r) => r.cost_vs_oracle).filter((v): v is number => v !== null);
      rows.push([
        g || "-",
        c,
        String(rs.length),
        pct(rs.reduce((a, r) => a + r.both_within_sla, 0) / rs.length),
        pct(Math.min(...rs.map((r) => r.both_within_sla))),
        costs.length ? (costs.reduce((a, v) => a + v, 0) / costs.length).toFixed(2) : "-",
        String(rs.reduce((a, r) => a + r.flaps, 0)),
      ]);
    }
  }
  return ["== summary", ...alignColumns(rows, [true, true, false, false, false, false, false])];
}

/** One JSON object per scenario x contender, one per line. */
export function renderJsonLines(result: readonly ScenarioEvaluation[]): string {
  return result.flatMap((e) => e.rows.map((r) => JSON.stringify(r))).join("\n") + (result.length ? "\n" : "");
}
