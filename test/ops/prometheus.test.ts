/**
 * dashboards/fpm.json and dashboards/alerts.yml proven on a real Prometheus: it scrapes two
 * real `fpm relay` processes and two real `fpm planner` processes (sla and throughput
 * targets) fed by synthetic engines over ZMQ and NATS. Every PromQL expression of the
 * dashboard (Grafana variables replaced by their defaults) must return data, and every
 * alert rule, loaded by Prometheus from the file, must fire (pending or firing) when its
 * condition is driven:
 *   FpmRelayDropping             malformed payloads from an engine (reason decode)
 *   FpmRelayLosingMessages       a burst through a 1-message send queue (seq gaps)
 *   FpmEngineSilent              one engine stops (its ZMQ connection drops)
 *   FpmPlannerBlind              a planned component no relay publishes for (no_fpm_data)
 *   FpmPlannerFitRejected        an engine whose wall time falls as prefill grows (negative coefficient)
 *   FpmPlannerDroppingMessages   garbage published on the FPM subject (envelope_decode)
 *   FpmPlannerSequenceResets     a forged envelope out of line under a publisher id (reverted)
 * The alerts true only when NATS itself fails, or that need an engine or a flood this test
 * does not run, are checked through their underlying series instead (and say so):
 * FpmRelayNatsDisconnected (fpm_relay_nats_connected), FpmPlannerLosingMessages
 * (fpm_planner_messages_lost_total; the cluster test drives real gaps), FpmRelayNatsNotConfirming
 * (fpm_relay_nats_confirm_wait_seconds; test/regression/relay-frozen-nats.test.ts freezes a
 * server), FpmRelaySeqResets (fpm_relay_seq_resets_total; test/regression/relay-malformed-seq),
 * FpmPlannerEnginesEvicted (fpm_planner_engines_evicted_total; test/regression/planner-engine-flood)
 * and FpmPlannerScalingStuck, which needs an actuator that never completes a scale
 * (fpm_planner_decisions_total).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { defaultForwardPassMetrics, FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { Prometheus, promtoolCheckRules } from "../harness/prometheus.js";
import { FpmProcess } from "../harness/fpm-process.js";
import { REPO_ROOT } from "../harness/vectors.js";
import { SyntheticEngine } from "./synthetic-engine.js";

const DASHBOARD = path.join(REPO_ROOT, "dashboards", "fpm.json");
const ALERTS = path.join(REPO_ROOT, "dashboards", "alerts.yml");

interface GrafanaPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: GrafanaPanel[];
}

/** Every PromQL expression of the dashboard, with Grafana's variables replaced by their defaults. */
export function dashboardExpressions(file = DASHBOARD, rateInterval = "20s"): { title: string; expr: string }[] {
  const dash = JSON.parse(fs.readFileSync(file, "utf8")) as {
    panels: GrafanaPanel[];
    templating: {
      list: { name: string; type: string; query?: unknown; allValue?: string; current?: { value?: string } }[];
    };
  };
  const vars = new Map<string, string>([
    ["__rate_interval", rateInterval],
    ["__interval", rateInterval],
  ]);
  for (const v of dash.templating.list) {
    if (v.type === "textbox" || v.type === "constant") vars.set(v.name, String(v.query));
    else if (v.type === "query") vars.set(v.name, v.allValue ?? ".*");
  }
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: GrafanaPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        const expr = t.expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => {
          const value = vars.get(name);
          if (value === undefined) throw new Error(`dashboard panel ${p.title}: unknown variable ${m}`);
          return value;
        });
        out.push({ title: p.title ?? "", expr });
      }
      if (p.panels) walk(p.panels);
    }
  };
  walk(dash.panels);
  return out;
}

/** Alert names in alerts.yml (each `- alert: NAME` line). */
function alertNamesInFile(): string[] {
  return [...fs.readFileSync(ALERTS, "utf8").matchAll(/^\s*- alert:\s*(\S+)/gm)].map((m) => m[1]);
}

const DRIVEN = [
  "FpmRelayDropping",
  "FpmRelayLosingMessages",
  "FpmEngineSilent",
  "FpmPlannerBlind",
  "FpmPlannerFitRejected",
  "FpmPlannerDroppingMessages",
  "FpmPlannerSequenceResets",
];
const BY_SELECTOR: Record<string, string> = {
  FpmRelayNatsDisconnected: "fpm_relay_nats_connected",
  FpmPlannerLosingMessages: "fpm_planner_messages_lost_total",
  FpmRelayNatsNotConfirming: "fpm_relay_nats_confirm_wait_seconds",
  FpmRelaySeqResets: "fpm_relay_seq_resets_total",
  FpmPlannerEnginesEvicted: "fpm_planner_engines_evicted_total",
  // True only when a scale never completes; the deadlock regression test drives that case.
  FpmPlannerScalingStuck: "fpm_planner_decisions_total",
};

/**
 * Three envelopes under a fresh publisher id: 0, one far out of line, 1. The planner
 * follows 0 -> 1 and counts the middle one as a sequence reset (reverted).
 */
function publishOutOfLine(nc: NatsConnection): void {
  const publisherId = BigInt(1 + Math.floor(Math.random() * 2 ** 40));
  for (const sequence of [0n, 1n << 45n, 1n]) {
    const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: "forger", wallTimeS: 0 });
    const envelope = encodeEnvelope({ publisherId, sequence, publishedAtMs: 1n, topic: FPM_TOPIC, payload });
    nc.publish("namespace.dynamo.component.backend.forward-pass-metrics", envelope);
  }
}

describe("ops prometheus", () => {
  test("ops - promtool check rules accepts dashboards/alerts.yml", () => {
    const r = promtoolCheckRules(ALERTS);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${alertNamesInFile().length} rules found`));
  });

  test("ops - the dashboard is valid Grafana JSON whose panels cover the pipeline", () => {
    const exprs = dashboardExpressions();
    assert.ok(exprs.length >= 20, `${exprs.length} expressions`);
    const text = exprs.map((e) => e.expr).join("\n");
    for (const metric of [
      "fpm_relay_received_total",
      "fpm_relay_dropped_total",
      "fpm_relay_lost_total",
      "fpm_planner_engine_wall_time_seconds",
      "fpm_planner_engine_load_ratio",
      "fpm_planner_engine_queued_requests",
      "fpm_planner_engine_queued_prefill_tokens",
      "fpm_planner_engine_ttft_estimate_seconds",
      "fpm_planner_engine_itl_estimate_seconds",
      "fpm_planner_desired_replicas",
      "fpm_planner_replicas",
      "fpm_planner_decisions_total",
    ]) {
      assert.ok(text.includes(metric), `dashboard uses ${metric}`);
    }
  });

  describe("ops prometheus - live pipeline", () => {
    let nats: NatsServer;
    let prom: Prometheus;
    const procs: FpmProcess[] = [];
    const engines: SyntheticEngine[] = [];
    let healthy: SyntheticEngine, silent: SyntheticEngine, unfittable: SyntheticEngine, lossy: SyntheticEngine;

    before(async () => {
      nats = await NatsServer.start();
      const z = [await freePort(), await freePort(), await freePort(), await freePort()];
      const mp = [await freePort(), await freePort(), await freePort(), await freePort()];
      const common = ["--metrics-host", "127.0.0.1", "--nats", nats.url];
      const relayA = new FpmProcess(
        [
          "relay",
          "--component",
          "backend",
          "--zmq-endpoint",
          `tcp://127.0.0.1:${z[0]}`,
          "--zmq-endpoint",
          `tcp://127.0.0.1:${z[1]}`,
          "--dp-size",
          "2",
          "--metrics-port",
          String(mp[0]),
          ...common,
        ],
        { metricsPort: mp[0], env: { DYN_LOG: "warn" } },
      );
      const relayB = new FpmProcess(
        [
          "relay",
          "--component",
          "rejected",
          "--zmq-endpoint",
          `tcp://127.0.0.1:${z[2]}`,
          "--zmq-endpoint",
          `tcp://127.0.0.1:${z[3]}`,
          "--dp-size",
          "2",
          "--metrics-port",
          String(mp[1]),
          ...common,
        ],
        { metricsPort: mp[1], env: { DYN_LOG: "warn" } },
      );
      const plannerSla = new FpmProcess(
        [
          "planner",
          "--optimization-target",
          "sla",
          "--component",
          "backend:agg",
          "--component",
          "rejected:prefill",
          "--component",
          "prefill:prefill",
          "--max-num-batched-tokens",
          "2048",
          "--load-adjustment-interval",
          "1",
          "--metrics-port",
          String(mp[2]),
          ...common,
        ],
        { metricsPort: mp[2], env: { DYN_LOG: "warn" } },
      );
      const plannerThroughput = new FpmProcess(
        [
          "planner",
          "--optimization-target",
          "throughput",
          "--component",
          "backend:agg",
          "--max-kv-tokens",
          "65536",
          "--load-adjustment-interval",
          "1",
          "--metrics-port",
          String(mp[3]),
          ...common,
        ],
        { metricsPort: mp[3], env: { DYN_LOG: "warn" } },
      );
      procs.push(relayA, relayB, plannerSla, plannerThroughput);
      for (const p of procs) await p.waitHealthy();
      healthy = await new SyntheticEngine({
        endpoint: `tcp://127.0.0.1:${z[0]}`,
        workerId: "w-a",
        dpRank: 0,
        rateHz: 40,
      }).start();
      silent = await new SyntheticEngine({
        endpoint: `tcp://127.0.0.1:${z[1]}`,
        workerId: "w-a",
        dpRank: 1,
        rateHz: 40,
      }).start();
      unfittable = await new SyntheticEngine({
        endpoint: `tcp://127.0.0.1:${z[2]}`,
        workerId: "w-b",
        dpRank: 0,
        rateHz: 40,
        cost: { a: 0.06, b: -0.00002, c: 0 },
      }).start();
      lossy = await new SyntheticEngine({
        endpoint: `tcp://127.0.0.1:${z[3]}`,
        workerId: "w-b",
        dpRank: 1,
        rateHz: 20,
        maxQueuedMessages: 1,
        cost: { a: 0.06, b: -0.00002, c: 0 },
      }).start();
      engines.push(healthy, silent, unfittable, lossy);
      prom = await Prometheus.start({
        targets: [
          { job: "fpm-relay-a", address: `127.0.0.1:${mp[0]}` },
          { job: "fpm-relay-b", address: `127.0.0.1:${mp[1]}` },
          { job: "fpm-planner-sla", address: `127.0.0.1:${mp[2]}` },
          { job: "fpm-planner-throughput", address: `127.0.0.1:${mp[3]}` },
        ],
        ruleFiles: [ALERTS],
      });
    });

    after(async () => {
      for (const e of engines) await e.stop();
      await prom?.cleanup();
      for (const p of procs) await p.stop();
      await nats?.cleanup();
    });

    test("ops - Prometheus scrapes both relays and both planners", async () => {
      await waitFor(
        async () => Object.values(await prom.targetHealth()).filter((h) => h === "up").length === 4,
        30_000,
        "4 targets up",
      );
      const names = await prom.ruleNames();
      assert.deepEqual([...names].sort(), alertNamesInFile().sort(), "Prometheus loaded every rule of alerts.yml");
    });

    test("ops - every dashboard expression returns data from the Prometheus HTTP API", async () => {
      // Drive what only shows under trouble: relay drops, gaps, planner drops.
      await waitFor(
        async () => (await procs[0].metricSum("fpm_relay_forwarded_total")) > 20,
        30_000,
        "traffic through relay A",
      );
      healthy.sendMalformed(20);
      lossy.burst(200);
      const nc = await connect({ servers: nats.url });
      nc.publish("namespace.dynamo.component.backend.forward-pass-metrics", new Uint8Array([0xc1, 0xc1]));
      await nc.flush();
      await nc.close();

      const exprs = dashboardExpressions();
      const missing = new Map<string, string>();
      await waitFor(
        async () => {
          missing.clear();
          for (const { title, expr } of exprs) if ((await prom.seriesCount(expr)) === 0) missing.set(expr, title);
          return missing.size === 0;
        },
        120_000,
        "data for every dashboard expression",
      ).catch((err: Error) => {
        throw new Error(`${err.message}; still empty:\n${[...missing].map(([e, t]) => `  [${t}] ${e}`).join("\n")}`);
      });
      // Data, and the right data: the relays really moved messages, and the SLA planner has estimates.
      const rate = await prom.query("sum(rate(fpm_relay_forwarded_total[20s]))");
      assert.ok(Number((rate.result as { value: [number, string] }[])[0].value[1]) > 0, "relay throughput above zero");
      // Prometheus sees the drop counter at its next scrape: wait for it rather than read it once.
      let decodeDrops = 0;
      await waitFor(
        async () => {
          const drops = await prom.query('sum(fpm_relay_dropped_total{reason="decode"})');
          decodeDrops = Number((drops.result as { value: [number, string] }[])[0]?.value[1] ?? 0);
          return decodeDrops >= 20;
        },
        30_000,
        "malformed payloads counted as decode drops",
      ).catch(() => undefined);
      assert.ok(decodeDrops >= 20, `malformed payloads counted as decode drops (${decodeDrops} of 20)`);
    });

    test("ops - every alert rule fires when its condition is driven, and the others' series exist", async () => {
      await silent.stop();
      // A counter's first sample shows no increase, so keep each trouble coming until its alert is active.
      const nc = await connect({ servers: nats.url });
      const state = new Map<string, string>();
      await waitFor(
        async () => {
          if (!state.has("FpmRelayDropping")) healthy.sendMalformed(1);
          if (!state.has("FpmRelayLosingMessages")) lossy.burst(20);
          if (!state.has("FpmPlannerDroppingMessages"))
            nc.publish("namespace.dynamo.component.backend.forward-pass-metrics", new Uint8Array([0xc1, 0xc1]));
          if (!state.has("FpmPlannerSequenceResets")) publishOutOfLine(nc);
          await nc.flush();
          for (const a of await prom.alerts()) state.set(a.name, a.state);
          return DRIVEN.every((n) => state.has(n));
        },
        120_000,
        "every driven alert pending or firing",
      )
        .catch((err: Error) => {
          throw new Error(
            `${err.message}; active: ${JSON.stringify([...state])}; missing: ${DRIVEN.filter((n) => !state.has(n)).join(", ")}`,
          );
        })
        .finally(() => nc.close());
      for (const n of DRIVEN) assert.match(state.get(n)!, /pending|firing/, n);
      // Each alert's own expression, as Prometheus parsed it from the file, answers through the API.
      const res = await fetch(`${prom.url}/api/v1/rules`);
      const rules = (
        (await res.json()) as { data: { groups: { rules: { name: string; query: string }[] }[] } }
      ).data.groups.flatMap((g) => g.rules);
      for (const r of rules) {
        if (DRIVEN.includes(r.name))
          assert.ok((await prom.seriesCount(r.query)) > 0, `${r.name}: ${r.query} returns data`);
        else {
          assert.ok(BY_SELECTOR[r.name], `alert ${r.name} is neither driven nor checked by selector`);
          await prom.query(r.query); // valid PromQL on live data
          assert.ok(
            (await prom.seriesCount(BY_SELECTOR[r.name])) > 0,
            `${r.name}: ${BY_SELECTOR[r.name]} returns data`,
          );
        }
      }
      // The undriven alerts are quiet in a healthy pipeline.
      assert.ok(!state.has("FpmRelayNatsDisconnected"));
    });
  });
});
