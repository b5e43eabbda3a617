/**
 * `npm run soak`: the whole pipeline for a bounded time at a steady rate, with periodic
 * faults, then an account of every message and of each process's memory.
 *
 *   synthetic engines (FpmPublisher, 2 workers x 2 ranks) --ZMQ--> 2 x `fpm relay`
 *     --NATS (3-node cluster)--> `fpm planner`
 *
 * Faults, in turn, every --fault-interval seconds: a NATS node restart, an engine restart,
 * a burst of malformed payloads. At the end it checks, and exits 1 when any fails:
 *   - engine -> relay: every seq the engines used was received or counted lost by the relay;
 *   - relay: every message received was forwarded or dropped with a reason; every malformed
 *     payload was dropped as `decode`;
 *   - relay -> planner: every envelope the relays made was received once (copies sent again
 *     after a reconnect are dropped as duplicate) or counted lost (gaps) by the planner;
 *   - memory: each fpm process's mean RSS over the last third of the run is within
 *     tolerance of its mean over the second third;
 *   - the planner kept deciding through the last third.
 *
 * Usage: npm run soak -- [--duration 10m] [--rate 100] [--fault-interval 60] [--json FILE]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DELIVERY_DROP_REASONS } from "../src/eventplane/confirmed-publisher.js";
import { RELAY_DROP_REASONS } from "../src/relay/relay-metrics.js";
import { NatsCluster } from "../test/harness/nats-cluster.js";
import { freePort, sleep, waitFor } from "../test/harness/ports.js";
import { FpmProcess } from "../test/harness/fpm-process.js";
import { parsePrometheusText, sumByLabel } from "../src/util/prometheus-text.js";
import { REPO_ROOT } from "../test/harness/vectors.js";
import { SyntheticEngine } from "../test/ops/synthetic-engine.js";

export interface SoakOptions {
  /** Seconds of steady load. Default 600. */
  durationS: number;
  /** Forward passes per second per engine. Default 100. */
  rateHz: number;
  /** Seconds between faults. Default: 60, or a quarter of the duration when shorter. */
  faultIntervalS: number;
  /** Seconds between RSS samples. Default: 2, or 1 for runs under 2 minutes. */
  sampleIntervalS: number;
  /** Allowed RSS growth of the last third over the second third: fraction, with an absolute floor in MB. */
  rssTolerance: number;
  rssSlackMb: number;
  /** Where the JSON report goes. */
  jsonOut: string;
}

export interface RssSample {
  t: number;
  rssMb: Record<string, number>;
}

export interface SoakCounts {
  engineSeqsUsed: number;
  engineSent: number;
  engineMalformed: number;
  relayReceived: number;
  relayForwarded: number;
  relayLost: number;
  relayDropped: Record<string, number>;
  relayBuffered: number;
  relayEngineRestarts: number;
  plannerReceived: number;
  plannerAccepted: number;
  plannerLost: number;
  plannerDropped: Record<string, number>;
  decisions: number;
  decisionsLastThird: number;
}

export interface SoakReport {
  command: string;
  date: string;
  machine: { cpu: string; cores: number };
  options: SoakOptions;
  faults: { t: number; kind: string; target: string }[];
  counts: SoakCounts;
  rss: RssSample[];
  rssSummary: Record<string, { secondThirdMb: number; lastThirdMb: number; growthMb: number }>;
  failures: string[];
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Mean RSS of the second and last thirds of the samples, per process. */
export function summarizeRss(samples: RssSample[]): SoakReport["rssSummary"] {
  const out: SoakReport["rssSummary"] = {};
  const n = samples.length;
  const names = n ? Object.keys(samples[0].rssMb) : [];
  for (const name of names) {
    const series = samples.map((s) => s.rssMb[name]).filter((v) => Number.isFinite(v));
    const third = Math.floor(series.length / 3);
    const second = mean(series.slice(third, 2 * third));
    const last = mean(series.slice(2 * third));
    out[name] = { secondThirdMb: round(second), lastThirdMb: round(last), growthMb: round(last - second) };
  }
  return out;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Everything that makes a soak fail; empty when it passed. */
export function judgeSoak(
  counts: SoakCounts,
  rssSummary: SoakReport["rssSummary"],
  opts: Pick<SoakOptions, "rssTolerance" | "rssSlackMb">,
): string[] {
  const f: string[] = [];
  const uncountedZmq = counts.engineSeqsUsed - counts.relayReceived - counts.relayLost;
  if (uncountedZmq !== 0)
    f.push(
      `engine -> relay: ${uncountedZmq} messages neither received nor counted lost by the relay (engines used ${counts.engineSeqsUsed} seqs, relay received ${counts.relayReceived}, lost ${counts.relayLost})`,
    );
  const relayOut = counts.relayForwarded + sum(counts.relayDropped) + counts.relayBuffered;
  if (counts.relayReceived !== relayOut)
    f.push(`relay: received ${counts.relayReceived} but forwarded + dropped + buffered = ${relayOut}`);
  if ((counts.relayDropped.decode ?? 0) !== counts.engineMalformed)
    f.push(
      `relay: ${counts.engineMalformed} malformed payloads sent, ${counts.relayDropped.decode ?? 0} dropped as decode`,
    );
  // Every envelope made was confirmed by NATS or dropped on the way to it.
  let envelopesMade = counts.relayForwarded;
  for (const r of DELIVERY_DROP_REASONS) envelopesMade += counts.relayDropped[r] ?? 0;
  // A relay sends again what NATS had not confirmed at a reconnect: the planner drops the copies as duplicate.
  const copies = counts.plannerDropped.duplicate ?? 0;
  const plannerSeen = counts.plannerReceived - copies + counts.plannerLost;
  if (envelopesMade !== plannerSeen)
    f.push(
      `relay -> planner: relays made ${envelopesMade} envelopes, planner received ${counts.plannerReceived} - copies ${copies} + counted lost ${counts.plannerLost} = ${plannerSeen}`,
    );
  if (counts.decisions === 0) f.push("planner: no decision at all");
  if (counts.decisionsLastThird === 0) f.push("planner: no decision in the last third of the run");
  for (const [name, r] of Object.entries(rssSummary)) {
    const allowed = Math.max(r.secondThirdMb * opts.rssTolerance, opts.rssSlackMb);
    if (!(r.growthMb <= allowed))
      f.push(
        `memory: ${name} RSS grew ${r.growthMb} MB (second third ${r.secondThirdMb} MB -> last third ${r.lastThirdMb} MB; allowed ${round(allowed)} MB)`,
      );
  }
  return f;
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration ${text}: use seconds (45), or 45s, 10m, 1h`);
  return Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
}

export function parseSoakArgs(argv: string[]): SoakOptions {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(
      "Usage: npm run soak -- [--duration 10m] [--rate 100] [--fault-interval 60] [--sample-interval 2] [--json bench/results/soak.json]\n",
    );
    process.exit(0);
  }
  const durationS = parseDuration(get("--duration") ?? "600");
  const faultIntervalS = Number(get("--fault-interval") ?? Math.min(60, durationS / 4));
  const sampleIntervalS = Number(get("--sample-interval") ?? (durationS < 120 ? 1 : 2));
  const rateHz = Number(get("--rate") ?? 100);
  for (const [k, v] of Object.entries({ durationS, faultIntervalS, sampleIntervalS, rateHz }))
    if (!(v > 0)) throw new Error(`${k} must be positive, got ${v}`);
  return {
    durationS,
    rateHz,
    faultIntervalS,
    sampleIntervalS,
    rssTolerance: Number(get("--rss-tolerance") ?? 0.1),
    rssSlackMb: Number(get("--rss-slack-mb") ?? 8),
    jsonOut: get("--json") ?? path.join(REPO_ROOT, "bench", "results", "soak.json"),
  };
}

function log(msg: string): void {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const cluster = await NatsCluster.start({ size: 3 });
  const procs: Record<string, FpmProcess> = {};
  const engines: SyntheticEngine[] = [];
  const engineRank: { relay: FpmProcess; rank: number }[] = [];
  const faults: SoakReport["faults"] = [];
  const rss: RssSample[] = [];
  const decisionsAt: { t: number; n: number }[] = [];
  const t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  try {
    const z = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const mp = await Promise.all([0, 1, 2].map(() => freePort()));
    const env = { DYN_LOG: "warn" };
    const relay = (_name: string, zs: number[], port: number, node: number) =>
      new FpmProcess(
        [
          "relay",
          "--component",
          "backend",
          "--dp-size",
          "2",
          ...zs.flatMap((p) => ["--zmq-endpoint", `tcp://127.0.0.1:${p}`]),
          "--metrics-port",
          String(port),
          "--metrics-host",
          "127.0.0.1",
          "--nats",
          cluster.url(node),
        ],
        { metricsPort: port, env },
      );
    procs.relayA = relay("relayA", [z[0], z[1]], mp[0], 0);
    procs.relayB = relay("relayB", [z[2], z[3]], mp[1], 1);
    procs.planner = new FpmProcess(
      [
        "planner",
        "--component",
        "backend:agg",
        "--optimization-target",
        "sla",
        "--max-num-batched-tokens",
        "2048",
        "--load-adjustment-interval",
        "1",
        "--decisions-file",
        "/dev/null",
        "--metrics-port",
        String(mp[2]),
        "--metrics-host",
        "127.0.0.1",
        "--nats",
        cluster.url(2),
      ],
      { metricsPort: mp[2], env },
    );
    for (const p of Object.values(procs)) await p.waitHealthy();
    log(`cluster ${cluster.urls}; relays and planner healthy`);

    const connected = (relay: FpmProcess, rank: number) =>
      relay.metricSum("fpm_relay_engine_connected", `dp_rank="${rank}"`);
    for (let i = 0; i < 4; i++) {
      const r = { relay: i < 2 ? procs.relayA : procs.relayB, rank: i % 2 };
      engineRank.push(r);
      const engine = new SyntheticEngine({
        endpoint: `tcp://127.0.0.1:${z[i]}`,
        workerId: i < 2 ? "soak-w0" : "soak-w1",
        dpRank: r.rank,
        rateHz: opts.rateHz,
        heartbeats: false,
        untilSubscribed: async () => {
          await waitFor(async () => (await connected(r.relay, r.rank)) === 1, 30_000, `relay connected to engine ${i}`);
          await sleep(150);
        },
      });
      engines.push(await engine.start());
    }
    log(`4 engines at ${opts.rateHz} Hz; running ${opts.durationS} s, a fault every ${opts.faultIntervalS} s`);

    const sampler = setInterval(() => {
      const sample: RssSample = { t: round(elapsed()), rssMb: {} };
      for (const [name, p] of Object.entries(procs)) sample.rssMb[name] = round(p.rssBytes() / 1048576);
      rss.push(sample);
      void procs.planner.metricSum("fpm_planner_decisions_total").then((n) => decisionsAt.push({ t: sample.t, n }));
    }, opts.sampleIntervalS * 1000);

    let k = 0;
    const end = t0 + opts.durationS * 1000;
    let nextFault = t0 + opts.faultIntervalS * 1000;
    while (Date.now() < end) {
      await sleep(Math.max(0, Math.min(end, nextFault) - Date.now()));
      if (Date.now() >= end) break;
      const kind = k % 3;
      if (kind === 0) {
        const node = Math.floor(k / 3) % 3;
        faults.push({ t: round(elapsed()), kind: "nats_node_restart", target: `node ${node}` });
        log(`fault: restart NATS node ${node}`);
        await cluster.kill(node);
        await sleep(1000);
        await cluster.restart(node);
      } else if (kind === 1) {
        const i = Math.floor(k / 3) % engines.length;
        faults.push({ t: round(elapsed()), kind: "engine_restart", target: `engine ${i}` });
        log(`fault: restart engine ${i}`);
        const r = engineRank[i];
        await engines[i].stop();
        await waitFor(async () => (await connected(r.relay, r.rank)) === 0, 30_000, `relay saw engine ${i} go`);
        await engines[i].start();
      } else {
        const i = Math.floor(k / 3) % engines.length;
        faults.push({ t: round(elapsed()), kind: "malformed_burst", target: `engine ${i}` });
        log(`fault: 500 malformed payloads from engine ${i}`);
        engines[i].sendMalformed(500);
      }
      k++;
      nextFault += opts.faultIntervalS * 1000;
    }
    clearInterval(sampler);

    log("stopping engines; waiting for the counters to settle");
    for (const e of engines) await e.stop();
    const counts = await settleCounts(procs, engines);
    const lastThirdStart = opts.durationS * (2 / 3);
    const atStart = decisionsAt.filter((d) => d.t <= lastThirdStart).at(-1)?.n ?? 0;
    counts.decisionsLastThird = counts.decisions - atStart;
    const rssSummary = summarizeRss(rss);
    const report: SoakReport = {
      command: `npm run soak -- --duration ${opts.durationS} --rate ${opts.rateHz} --fault-interval ${opts.faultIntervalS}`,
      date: new Date().toISOString(),
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length },
      options: opts,
      faults,
      counts,
      rss,
      rssSummary,
      failures: judgeSoak(counts, rssSummary, opts),
    };
    if (faults.length < 3)
      report.failures.push(
        `only ${faults.length} faults ran: make --fault-interval shorter than a third of --duration`,
      );
    return report;
  } finally {
    for (const e of engines) await e.stop();
    for (const p of Object.values(procs)) await p.stop();
    await cluster.cleanup();
  }
}

async function readCounts(procs: Record<string, FpmProcess>, engines: SyntheticEngine[]): Promise<SoakCounts> {
  const relays = [procs.relayA, procs.relayB];
  const relaySum = async (name: string, label = "") =>
    (await Promise.all(relays.map((r) => r.metricSum(name, label)))).reduce((a, b) => a + b, 0);
  const reasons = RELAY_DROP_REASONS;
  const relayDropped: Record<string, number> = {};
  for (const r of reasons) relayDropped[r] = await relaySum("fpm_relay_dropped_total", `reason="${r}"`);
  const plannerText = (await procs.planner.get("/metrics"))?.body ?? "";
  const plannerDropped = sumByLabel(parsePrometheusText(plannerText), "fpm_planner_messages_dropped_total", "reason");
  const t = engines.map((e) => e.totals);
  return {
    engineSeqsUsed: t.reduce((a, x) => a + x.sent + x.publisherDropped, 0),
    engineSent: t.reduce((a, x) => a + x.sent, 0),
    engineMalformed: t.reduce((a, x) => a + x.malformed, 0),
    relayReceived: await relaySum("fpm_relay_received_total"),
    relayForwarded: await relaySum("fpm_relay_forwarded_total"),
    relayLost: await relaySum("fpm_relay_lost_total"),
    relayDropped,
    relayBuffered: await relaySum("fpm_relay_buffered_messages"),
    relayEngineRestarts: await relaySum("fpm_relay_engine_restarts_total"),
    plannerReceived: await procs.planner.metricSum("fpm_planner_messages_received_total"),
    plannerAccepted: await procs.planner.metricSum("fpm_planner_messages_accepted_total"),
    plannerLost: await procs.planner.metricSum("fpm_planner_messages_lost_total"),
    plannerDropped,
    decisions: await procs.planner.metricSum("fpm_planner_decisions_total"),
    decisionsLastThird: 0,
  };
}

/** Reads the counters until two reads a planner tick apart agree. */
async function settleCounts(procs: Record<string, FpmProcess>, engines: SyntheticEngine[]): Promise<SoakCounts> {
  const key = (c: SoakCounts) =>
    JSON.stringify([c.relayReceived, c.relayForwarded, c.relayBuffered, c.plannerReceived, c.plannerLost]);
  let last = await readCounts(procs, engines);
  const deadline = Date.now() + 30_000;
  for (;;) {
    await sleep(2500);
    const now = await readCounts(procs, engines);
    if (key(now) === key(last) || Date.now() > deadline) return now;
    last = now;
  }
}

export function formatReport(r: SoakReport): string {
  const c = r.counts;
  const lines = [
    `soak: ${r.options.durationS} s on ${r.machine.cpu} (${r.machine.cores} cores), ${r.date}`,
    `command: ${r.command}`,
    `faults: ${r.faults.map((f) => `${f.t}s ${f.kind} (${f.target})`).join(", ")}`,
    "",
    "| stage | count |",
    "|---|---:|",
    `| engine seqs used (sent ${c.engineSent}, of which malformed ${c.engineMalformed}) | ${c.engineSeqsUsed} |`,
    `| relay received | ${c.relayReceived} |`,
    `| relay lost (ZMQ seq gaps) | ${c.relayLost} |`,
    `| relay forwarded | ${c.relayForwarded} |`,
    ...Object.entries(c.relayDropped)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `| relay dropped: ${k} | ${n} |`),
    `| relay engine restarts seen | ${c.relayEngineRestarts} |`,
    `| planner received | ${c.plannerReceived} |`,
    `| planner accepted | ${c.plannerAccepted} |`,
    `| planner lost (envelope gaps) | ${c.plannerLost} |`,
    ...Object.entries(c.plannerDropped)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `| planner dropped: ${k} | ${n} |`),
    `| decisions (last third) | ${c.decisions} (${c.decisionsLastThird}) |`,
    "",
    "| process | RSS second third (MB) | RSS last third (MB) | growth (MB) |",
    "|---|---:|---:|---:|",
    ...Object.entries(r.rssSummary).map(([n, s]) => `| ${n} | ${s.secondThirdMb} | ${s.lastThirdMb} | ${s.growthMb} |`),
    "",
    r.failures.length
      ? `FAILED:\n${r.failures.map((f) => `  - ${f}`).join("\n")}`
      : "PASSED: every message accounted for, memory flat, planner deciding",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const opts = parseSoakArgs(process.argv.slice(2));
  const report = await runSoak(opts);
  fs.mkdirSync(path.dirname(opts.jsonOut), { recursive: true });
  fs.writeFileSync(opts.jsonOut, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\nreport: ${opts.jsonOut}\n`);
  process.exitCode = report.failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  });
}
