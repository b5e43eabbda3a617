/**
 * `npm run bench:codec`: decode+validate and encode throughput of the FPM codec on the
 * `typical` vector, beside msgpackr's bare unpack/pack of the same bytes in the same run.
 * Runs alternate between contenders; each figure is the median of RUNS runs.
 */
import fs from "node:fs";
import path from "node:path";
import { Packr } from "msgpackr";
import { decodeFpm, encodeFpm } from "../src/index.js";
import { fpmVectors, REPO_ROOT } from "../test/harness/vectors.js";
import { machineInfo, median, printMachine } from "./machine.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ITER = Number(process.env.BENCH_ITERATIONS ?? 300_000);

const typical = fpmVectors().find((v) => v.name === "typical")!;
const bytes = Buffer.from(typical.hex, "hex");
// The same values with keys in reverse order: not the canonical layout, so the general decoder runs.
const reordered = Buffer.from(fpmVectors().find((v) => v.name === "reordered_keys")!.hex, "hex");
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const decoded = decodeFpm(bytes);
if (!decoded.ok) throw new Error("typical vector does not decode");
const plain = packr.unpack(bytes);

let sink = 0;
const contenders: Record<string, () => void> = {
  "fpm decodeFpm (decode+validate)": () => {
    const r = decodeFpm(bytes);
    if (r.ok) sink += r.value.dpRank;
  },
  "fpm decodeFpm, reordered keys (general path)": () => {
    const r = decodeFpm(reordered);
    if (r.ok) sink += r.value.dpRank;
  },
  "msgpackr unpack (bare, no checks)": () => {
    sink += (packr.unpack(bytes) as { dp_rank: number }).dp_rank;
  },
  "fpm encodeFpm": () => {
    sink += encodeFpm(decoded.value).length;
  },
  "msgpackr pack (bare)": () => {
    sink += packr.pack(plain).length;
  },
};

function rate(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITER; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return ITER / (ns / 1e9);
}

const m = machineInfo("npm run bench:codec");
printMachine(m);
console.log(`# payload: typical vector, ${bytes.length} bytes; ${RUNS} runs x ${ITER} messages each, medians`);
for (const fn of Object.values(contenders)) rate(fn); // warm-up: let V8 optimize every path first
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) for (const [name, fn] of Object.entries(contenders)) samples[name].push(rate(fn));

const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const decodeRatio = med["fpm decodeFpm (decode+validate)"] / med["msgpackr unpack (bare, no checks)"];
const encodeRatio = med["fpm encodeFpm"] / med["msgpackr pack (bare)"];
const generalRatio = med["fpm decodeFpm, reordered keys (general path)"] / med["msgpackr unpack (bare, no checks)"];
for (const [name, v] of Object.entries(med))
  console.log(
    `${name.padEnd(46)} ${(v / 1e6).toFixed(3).padStart(8)} M msg/s  (runs: ${samples[name].map((x) => (x / 1e6).toFixed(2)).join(" ")})`,
  );
console.log(`decode+validate / bare unpack: ${(decodeRatio * 100).toFixed(0)}%  (target >= 75%)`);
console.log(`general path / bare unpack:    ${(generalRatio * 100).toFixed(0)}%  (non-canonical key order)`);
console.log(`encode / bare pack:            ${(encodeRatio * 100).toFixed(0)}%`);
if (sink === 42) console.log(""); // keeps the work observable

const out = {
  machine: m,
  payloadBytes: bytes.length,
  runs: RUNS,
  iterations: ITER,
  medianMsgPerS: med,
  samples,
  decodeRatio,
  generalRatio,
  encodeRatio,
};
fs.mkdirSync(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
fs.writeFileSync(path.join(REPO_ROOT, "bench", "results", "codec.json"), `${JSON.stringify(out, null, 2)}\n`);
