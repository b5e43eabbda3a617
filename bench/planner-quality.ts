/**
 * `npm run bench:planner-quality`: the planner's decision quality in closed loop, on the
 * standard scenario set (scenarios/standard.json), for every built-in contender, on the
 * default engine and on a calibrated preset (h100-8b). The baselines run in the same
 * evaluation: a fixed deployment sized for the peak and the oracle.
 *
 * Every scenario is deterministic for its seed, so a second run of the same seed gives
 * the same figures; what varies is the traffic. The minute-scale scenarios therefore run
 * on BENCH_SEEDS seeds (default 1,2,3) and the summary quotes the median over seeds; the
 * hour-scale ones, long enough to average out, on the first seed. The table printed per
 * scenario is the first seed's (what `fpm evaluate --engine E` prints).
 *
 * Environment: BENCH_ENGINES (default "default,h100-8b"), BENCH_SEEDS (default "1,2,3"),
 * BENCH_THREADS (default: CPU cores, at most 8). Writes bench/results/planner-quality.json.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CONTENDERS } from "../src/eval/contenders.js";
import { evaluate, type ScenarioEvaluation } from "../src/eval/evaluation.js";
import type { EvaluationRow } from "../src/eval/metrics.js";
import { alignColumns, renderTable } from "../src/eval/report.js";
import { loadScenarioFile, type Scenario } from "../src/eval/scenario.js";
import { engineConfig } from "../src/sim/engine-presets.js";
import { machineInfo, median, printMachine } from "./machine.js";

const SELF = fileURLToPath(import.meta.url);
const REPO = path.resolve(path.dirname(SELF), "..", "..");
const ENGINES = (process.env.BENCH_ENGINES ?? "default,h100-8b").split(",").filter(Boolean);
const SEEDS = (process.env.BENCH_SEEDS ?? "1,2,3").split(",").map(Number);
const THREADS = Number(process.env.BENCH_THREADS ?? Math.min(8, os.availableParallelism()));
/** Groups run on every seed; the others on the first. */
const MULTI_SEED_GROUPS = new Set(["minute"]);

interface GroupSummary {
  group: string;
  contender: string;
  scenarios: number;
  /** Medians over seeds of: the mean and the lowest share within both SLAs, the mean cost, the flaps. */
  both_mean: number;
  both_min: number;
  cost_vs_oracle_mean: number;
  flaps: number;
  seeds: number;
}

function seeded(base: Scenario[]): Scenario[] {
  const out: Scenario[] = [];
  for (const seed of SEEDS)
    for (const s of base) {
      if (seed !== SEEDS[0] && !MULTI_SEED_GROUPS.has(s.group)) continue;
      out.push(seed === SEEDS[0] ? s : { ...s, name: `${s.name}.s${seed}`, seed });
    }
  return out;
}

const baseName = (name: string) => name.replace(/\.s\d+$/, "");

function summarise(result: ScenarioEvaluation[], seedOf: Map<string, number>): GroupSummary[] {
  const out: GroupSummary[] = [];
  const groups = [...new Set(result.map((e) => e.scenario.group))];
  for (const group of groups)
    for (const contender of DEFAULT_CONTENDERS) {
      const perSeed = new Map<number, EvaluationRow[]>();
      for (const e of result) {
        if (e.scenario.group !== group) continue;
        const row = e.rows.find((r) => r.contender === contender);
        if (!row) continue;
        const seed = seedOf.get(e.scenario.name)!;
        perSeed.set(seed, [...(perSeed.get(seed) ?? []), row]);
      }
      const stats = [...perSeed.values()].map((rows) => ({
        mean: rows.reduce((a, r) => a + r.both_within_sla, 0) / rows.length,
        min: Math.min(...rows.map((r) => r.both_within_sla)),
        cost: rows.reduce((a, r) => a + (r.cost_vs_oracle ?? 0), 0) / rows.length,
        flaps: rows.reduce((a, r) => a + r.flaps, 0),
        n: rows.length,
      }));
      out.push({
        group,
        contender,
        scenarios: stats[0]?.n ?? 0,
        both_mean: Number(median(stats.map((s) => s.mean)).toFixed(4)),
        both_min: Number(median(stats.map((s) => s.min)).toFixed(4)),
        cost_vs_oracle_mean: Number(median(stats.map((s) => s.cost)).toFixed(3)),
        flaps: median(stats.map((s) => s.flaps)),
        seeds: stats.length,
      });
    }
  return out;
}

function renderSummary(engine: string, rows: GroupSummary[]): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const cells = [
    ["engine", "group", "contender", "scenarios", "seeds", "both mean", "both min", "x oracle mean", "flaps"],
    ...rows.map((r) => [
      engine,
      r.group,
      r.contender,
      String(r.scenarios),
      String(r.seeds),
      pct(r.both_mean),
      pct(r.both_min),
      r.cost_vs_oracle_mean.toFixed(2),
      String(r.flaps),
    ]),
  ];
  return alignColumns(cells, [true, true, true, false, false, false, false, false, false]).join("\n");
}

async function main(): Promise<void> {
  const machine = machineInfo("npm run bench:planner-quality");
  printMachine(machine);
  console.log(
    `# engines ${ENGINES.join(", ")}; seeds ${SEEDS.join(", ")} (minute group; hour group seed ${SEEDS[0]}); ${THREADS} threads; load average ${os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(" ")}`,
  );
  const base = loadScenarioFile(path.join(REPO, "scenarios", "standard.json"));
  const results: Record<string, unknown> = {};
  const t0 = performance.now();
  for (const name of ENGINES) {
    const engine = engineConfig(name);
    const scenarios = seeded(base).map((s) => ({ ...s, engine }));
    const seedOf = new Map(scenarios.map((s) => [s.name, s.seed]));
    const t = performance.now();
    const result = await evaluate({
      scenarios,
      contenders: DEFAULT_CONTENDERS.map((c) => ({ name: c })),
      threads: THREADS,
      onProgress: (line) => process.stderr.write(`${name}: ${line}\n`),
    });
    const wallS = (performance.now() - t) / 1000;
    const first = result.filter((e) => baseName(e.scenario.name) === e.scenario.name);
    console.log(`\n## engine ${name}: ${engine.description} (${wallS.toFixed(0)} s wall)\n`);
    process.stdout.write(renderTable(first));
    const summary = summarise(result, seedOf);
    console.log(`\n${renderSummary(name, summary)}`);
    results[name] = {
      engine,
      wall_s: Number(wallS.toFixed(1)),
      summary,
      scenarios: result.map((e) => ({ ...e.scenario, rows: e.rows, controllers: e.controllerSummaries })),
    };
  }
  const totalS = (performance.now() - t0) / 1000;
  console.log(`\n# total ${totalS.toFixed(0)} s wall`);
  const out = path.join(REPO, "bench", "results", "planner-quality.json");
  fs.writeFileSync(
    out,
    `${JSON.stringify({ machine, seeds: SEEDS, threads: THREADS, wall_s: Number(totalS.toFixed(1)), engines: results }, null, 2)}\n`,
  );
  console.log(`# wrote ${path.relative(REPO, out)}`);
}

await main();
