/** `fpm evaluate` as a user runs it: the real executable, scenario files, exit codes, outputs. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { RateArrivals } from "../../src/sim/arrivals.js";
import { SimulatedDeployment } from "../../src/sim/deployment.js";
import { recordLine } from "../../src/recording/stream-recording.js";
import { REPO_ROOT } from "../harness/vectors.js";

const FPM = path.join(REPO_ROOT, "bin", "fpm.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-evaluate-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) =>
  spawnSync(process.execPath, [FPM, "evaluate", "--quiet", "--threads", "1", ...args], { timeout: 120_000 });

const jsonRows = (out: Buffer) =>
  out
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

const SCENARIOS = [
  {
    name: "tiny-step",
    duration_s: 60,
    arrivals: "step:5:30:20:40",
    poisson: true,
    workers: 1,
    max_workers: 2,
    startup_delay_s: 5,
    planner: { optimization_target: "sla", ttft: 100, itl: 50, load_adjustment_interval: 5 },
  },
  { name: "tiny-flat", duration_s: 30, arrivals: "constant:10", max_workers: 2, workers: 1 },
];
const file = path.join(dir, "scenarios.json");
fs.writeFileSync(file, JSON.stringify(SCENARIOS));

const FIELDS = [
  "scenario",
  "contender",
  "requests",
  "requests_finished",
  "ttft_within_sla",
  "itl_within_sla",
  "both_within_sla",
  "ttft_p50_ms",
  "ttft_p95_ms",
  "ttft_p99_ms",
  "itl_p50_ms",
  "itl_p95_ms",
  "itl_p99_ms",
  "replica_seconds",
  "cost_vs_oracle",
  "scale_actions",
  "flaps",
  "reaction_time_s",
  "under_provisioned_s",
  "requests_restarted",
  "requests_rejected",
  "requests_unfinished",
];

test("cli - evaluate --help names the scenario keys, the contenders and the columns", () => {
  const r = spawnSync(process.execPath, [FPM, "evaluate", "--help"], { timeout: 30_000 });
  assert.equal(r.status, 0);
  const text = r.stdout.toString();
  for (const word of ["--from-recording", "--plot", "--json", "startup_delay_s", "fixed-peak", "oracle", "Exit codes"])
    assert.ok(text.includes(word), word);
});

test("cli - evaluate --json prints one object per scenario x contender with every field", () => {
  const r = run([file, "--json", "--contenders", "default,fixed-peak"]);
  assert.equal(r.status, 0, r.stderr.toString());
  const rows = jsonRows(r.stdout);
  assert.deepEqual(
    rows.map((x) => `${x.scenario}/${x.contender}`),
    ["tiny-step/default", "tiny-step/fixed-peak", "tiny-flat/default", "tiny-flat/fixed-peak"],
  );
  for (const row of rows) assert.deepEqual(Object.keys(row), FIELDS);
  assert.ok(rows.every((x) => x.requests > 0 && x.both_within_sla >= 0 && x.both_within_sla <= 1));
});

test("cli - evaluate prints the same table for the same seed, and --plot writes one SVG per scenario", () => {
  const plots = path.join(dir, "plots");
  const a = run([file, "--scenario", "tiny-step", "--contenders", "parity,fixed-peak,oracle", "--plot", plots]);
  const b = run([file, "--scenario", "tiny-step", "--contenders", "parity,fixed-peak,oracle"]);
  assert.equal(a.status, 0, a.stderr.toString());
  assert.equal(b.stdout.toString(), a.stdout.toString());
  assert.match(a.stdout.toString(), /== tiny-step: step:5:30:20:40, 60 s/);
  assert.match(a.stdout.toString(), /^contender +both +ttft +itl/m);
  assert.match(a.stdout.toString(), /^== summary/m);
  assert.deepEqual(fs.readdirSync(plots), ["tiny-step.svg"]);
  const svg = fs.readFileSync(path.join(plots, "tiny-step.svg"), "utf8");
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  // Well formed: every opened element is closed, in order.
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[1]) assert.equal(stack.pop(), m[2]);
    else if (!m[3]) stack.push(m[2]);
  }
  assert.deepEqual(stack, []);
  for (const name of ["parity", "fixed-peak", "oracle", "TTFT SLA 100 ms"]) assert.ok(svg.includes(name), name);
});

test("cli - evaluate: a bad scenario, contender or flag is exit 2 with what to change", () => {
  const bad = path.join(dir, "bad.json");
  fs.writeFileSync(bad, JSON.stringify({ ...SCENARIOS[1], startup_delay: 5 }));
  const cases: [string[], RegExp][] = [
    [[bad], /unknown key\(s\) startup_delay/],
    [[path.join(dir, "missing.json")], /cannot read scenario file/],
    [[file, "--contenders", "default,nobody"], /unknown contender "nobody"/],
    [[file, "--scenario", "nope"], /--scenario nope: no such scenario; there are tiny-step, tiny-flat/],
    [[file, "--workers", "3"], /--workers goes with --from-recording/],
    [[file, "--engine", "b200"], /unknown engine preset "b200"/],
    [
      [file, "--contender", "x=nofile.json", "--contenders", "x"],
      /--contender x nofile.json: not a readable JSON file/,
    ],
  ];
  for (const [args, want] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr.toString(), want);
    assert.equal(r.stdout.length, 0);
  }
});

test("cli - evaluate --from-recording reconstructs the traffic of an fpm record recording", () => {
  const lines: string[] = [];
  let seq = 0;
  const d = new SimulatedDeployment({
    arrivals: new RateArrivals({ shape: { kind: "constant", rate: 10 }, poisson: true, endS: 40 }),
    workers: 1,
    dpRanks: 2,
    heartbeatIntervalS: 1,
    onForwardPass: (e) => {
      const env = encodeEnvelope({
        publisherId: 3n,
        sequence: BigInt(++seq),
        publishedAtMs: 0n,
        topic: FPM_TOPIC,
        payload: encodeFpm(e.fpm),
      });
      lines.push(recordLine("namespace.dynamo.component.backend.forward-pass-metrics", env, 1e12 + e.atS * 1000));
    },
  });
  d.advanceTo(45);
  const rec = path.join(dir, "rec.ndjson");
  fs.writeFileSync(rec, `${lines.join("\n")}\n`);
  const out = path.join(dir, "arrivals.ndjson");
  const r = run([
    "--from-recording",
    rec,
    "--arrivals-out",
    out,
    "--max-workers",
    "2",
    "--contenders",
    "default,oracle",
    "--json",
  ]);
  assert.equal(r.status, 0, r.stderr.toString());
  const rows = jsonRows(r.stdout);
  assert.deepEqual(
    rows.map((x) => `${x.scenario}/${x.contender}`),
    ["rec/default", "rec/oracle"],
  );
  const arrivals = fs.readFileSync(out, "utf8").trim().split("\n");
  assert.equal(rows[0].requests, arrivals.length);
  assert.ok(Math.abs(arrivals.length - d.totals.arrivals) <= 2, `${arrivals.length} of ${d.totals.arrivals}`);
  const empty = path.join(dir, "empty.ndjson");
  fs.writeFileSync(empty, "");
  const none = run(["--from-recording", empty]);
  assert.equal(none.status, 2);
  assert.match(none.stderr.toString(), /no request arrivals could be reconstructed/);
});
