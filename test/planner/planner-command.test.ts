/** `fpm planner` as users run it: a real process, a real nats-server, decisions on stdout and NATS, /metrics. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { CommandConnector } from "../../src/planner/connectors/command-connector.js";
import type { PlannerDecision } from "../../src/planner/decision.js";
import { parseDecisionRecord } from "../../src/planner/decision-record.js";
import { Logger } from "../../src/util/log.js";
import type { NatsServer } from "../harness/nats-server.js";
import { FpmProcess, runFpm } from "../harness/fpm-process.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { waitFor } from "../harness/ports.js";
import { envelope } from "../subscriber/envelope-fixture.js";

let server: NatsServer;
let nc: NatsConnection;
let testbed: NatsTestbed | undefined;
let dir: string;
before(async () => {
  testbed = await startNatsTestbed("fpm-plancmd-");
  ({ server, nc, dir } = testbed);
});
after(() => testbed?.close());

test("planner - bad configuration exits 2 with a message that says what to change", async () => {
  const cfg = path.join(dir, "bad.json");
  fs.writeFileSync(cfg, JSON.stringify({ ttft: 300, load_adjustmnet_interval: 2 }));
  const r = await runFpm(["planner", "--config", cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown key\(s\) load_adjustmnet_interval/);
  const r2 = await runFpm(["planner", "--optimization-target", "sla", "--component", "prefill"]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /needs max_num_batched_tokens/);
});

test("planner - runs against NATS: one decision record per tick on stdout and on the decisions subject, /metrics, clean stop", async () => {
  const cfg = path.join(dir, "planner.json");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      load_adjustment_interval: 0.2,
      optimization_target: "throughput",
      max_kv_tokens: 1000,
      namespace: "cmdns",
      components: ["backend:agg"],
    }),
  );
  const decisionsOnNats: PlannerDecision[] = [];
  /** Messages on the decisions subject that are no decision record (by the schema). */
  const notRecords: string[] = [];
  const sub = nc.subscribe("namespace.cmdns.planner.decisions", {
    callback: (_e, m) => {
      const r = parseDecisionRecord(m.data);
      if (r.ok) decisionsOnNats.push(r.value);
      else notRecords.push(r.reason);
    },
  });
  await nc.flush();
  const planner = new FpmProcess(
    ["planner", "--config", cfg, "--nats", server.url, "--metrics-port", "0", "--metrics-host", "127.0.0.1"],
    { env: { DYN_LOGGING_JSONL: "true", DYN_LOG: "info" } },
  );
  try {
    await planner.waitForLog("planner running");
    const serving = await planner.managed.waitForLine("serving /metrics", { stream: "stderr" });
    const port = Number(/"port":(\d+)/.exec(serving)![1]);
    // One agg engine at 150% KV utilisation: throughput says up.
    let seq = 0n;
    await waitFor(
      async () => {
        nc.publish(
          "namespace.cmdns.component.backend.forward-pass-metrics",
          envelope(5n, seq++, {
            workerId: "w1",
            counterId: Number(seq),
            wallTimeS: 0.01,
            scheduled: { sumDecodeKvTokens: 1500 },
          }),
        );
        await nc.flush();
        return decisionsOnNats.some((d) => d.direction === "up");
      },
      20_000,
      "a scale-up decision on NATS",
    );
    const up = decisionsOnNats.find((d) => d.direction === "up")!;
    assert.equal(up.component, "backend");
    assert.equal(up.replicas, 1);
    assert.equal(up.desired, 2);
    assert.equal(up.reason, "scale_up");
    assert.equal(up.engines[0].loadRatio, 1.5);
    // The records on NATS can arrive before the same records' stdout lines reach this process.
    await waitFor(() => planner.stdout.includes("\n"), 10_000, "a decision record on stdout");
    // The planner keeps writing: read only the lines it has finished (the last may be half there).
    const out = planner.stdout;
    const lines = out
      .slice(0, out.lastIndexOf("\n"))
      .split("\n")
      .map((l) => {
        const r = parseDecisionRecord(l);
        assert.ok(r.ok, `stdout line is a decision record (${!r.ok && r.reason}): ${l}`);
        return r.value;
      });
    assert.deepEqual(notRecords, [], "every message on the decisions subject is a decision record");
    assert.ok(lines.length >= 1 && lines.every((d) => d.component === "backend" && typeof d.time === "string"));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /fpm_planner_decisions_total\{component="backend",direction="up",reason="scale_up"\} [1-9]/);
    assert.match(metrics, /fpm_planner_engine_load_ratio\{component="backend",worker_id="w1",dp_rank="0"\} 1.5/);
    assert.match(metrics, /fpm_planner_messages_accepted_total [1-9]/);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
  } finally {
    sub.unsubscribe();
    assert.equal(await planner.stop(), 0, planner.stderr.slice(-2000));
  }
});

test("planner - command connector hands the values to the scale command as $1 $2 and FPM_* variables, with a timeout", async () => {
  const out = path.join(dir, "scaled.txt");
  const c = new CommandConnector({
    command: `printf '%s %s %s %s %s %s\\n' "$1" "$2" "$FPM_COMPONENT" "$FPM_REPLICAS" "$FPM_CURRENT_REPLICAS" "$FPM_DIRECTION" >> "${out}"`,
    logger: new Logger({ target: "t", level: "error" }),
    commandTimeoutMs: 5000,
  });
  const d = { component: "backend", desired: 3, direction: "up", replicas: 2 } as PlannerDecision;
  await c.apply(d, 0);
  assert.equal(fs.readFileSync(out, "utf8"), "backend 3 backend 3 2 up\n");
  assert.equal(c.scaleInProgress({ component: "backend", liveWorkers: 2 }, 1000), true, "until 3 workers are live");
  assert.equal(c.scaleInProgress({ component: "backend", liveWorkers: 3 }, 2000), false);
  const slow = new CommandConnector({
    command: "sleep 60",
    logger: new Logger({ target: "t", level: "error" }),
    commandTimeoutMs: 200,
  });
  await slow.apply(d, 0);
  assert.equal(slow.runs[0].timedOut, true);
  await c.close();
  await slow.close();
});

test("planner - fpm planner --connector command runs the scale command of a decision (real process and nats-server)", async () => {
  const out = path.join(dir, "cli-scaled.txt");
  const decisions = path.join(dir, "cli-decisions.ndjson");
  const planner = new FpmProcess(
    [
      "planner",
      "--namespace",
      "scalecmd",
      "--optimization-target",
      "throughput",
      "--max-kv-tokens",
      "1000",
      "--load-adjustment-interval",
      "0.2",
      "--connector",
      "command",
      "--scale-command",
      'printf "%s %s %s\\n" "$1" "$FPM_REPLICAS" "$FPM_DIRECTION" >> "$SCALE_OUT"',
      "--nats",
      server.url,
      "--decisions-file",
      decisions,
    ],
    { env: { SCALE_OUT: out } },
  );
  try {
    await planner.waitForLog("planner running");
    let seq = 0n;
    // One agg engine at 150% KV utilisation: throughput says up, to 2.
    await waitFor(
      async () => {
        if (planner.exitCode !== null) throw new Error(`fpm planner exited: ${planner.stderr.slice(-2000)}`);
        nc.publish(
          "namespace.scalecmd.component.backend.forward-pass-metrics",
          envelope(6n, seq++, { workerId: "w1", counterId: Number(seq), scheduled: { sumDecodeKvTokens: 1500 } }),
        );
        await nc.flush();
        return fs.existsSync(out) && fs.readFileSync(out, "utf8").includes("\n");
      },
      20_000,
      "the scale command to run",
    ).catch((err: Error) => {
      // What the planner said is what tells a slow machine from a wrong decision.
      const records = fs.existsSync(decisions) ? fs.readFileSync(decisions, "utf8").slice(-3000) : "(none)";
      throw new Error(`${err.message}; fpm planner stderr: ${planner.stderr.slice(-2000)}; decisions: ${records}`);
    });
    assert.equal(fs.readFileSync(out, "utf8").split("\n")[0], "backend 2 up");
  } finally {
    assert.equal(await planner.stop(), 0, planner.stderr.slice(-2000));
  }
});
