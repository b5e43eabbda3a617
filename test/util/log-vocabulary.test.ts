/**
 * One log vocabulary: the JSON lines of a real relay and a real planner (ZMQ plane, file
 * discovery, an engine publishing) carry targets of the form
 * `fpm.<command>[.<part>]` and snake_case keys only, as the wire names and the Prometheus
 * labels are.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { FpmProcess } from "../harness/fpm-process.js";
import { freePort, waitFor } from "../harness/ports.js";

const TARGET = /^fpm(\.[a-z][a-z0-9_]*)+$/;
const KEY = /^[a-z][a-z0-9_]*$/;

const kv = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-log-kv-"));
after(() => fs.rmSync(kv, { recursive: true, force: true }));

/** Every problem of the JSON log lines in `stderr`. */
function vocabularyProblems(who: string, stderr: string): string[] {
  const problems: string[] = [];
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length >= 3, `${who} logged: ${stderr}`);
  for (const line of lines) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      problems.push(`${who}: not a JSON line: ${line}`);
      continue;
    }
    if (typeof o.target !== "string" || !TARGET.test(o.target)) problems.push(`${who}: target ${o.target}: ${line}`);
    for (const k of Object.keys(o)) if (!KEY.test(k)) problems.push(`${who}: key ${k}: ${line}`);
  }
  return problems;
}

test("log - the JSON lines of a relay and a planner run use one style: fpm.* targets, snake_case keys", async () => {
  const env = {
    DYN_EVENT_PLANE: undefined,
    DYN_DISCOVERY_BACKEND: undefined,
    ETCD_ENDPOINTS: undefined,
    DYN_FILE_KV: kv,
    DYN_EVENT_PLANE_HOST: "127.0.0.1",
    DYN_NAMESPACE: "logs",
    DYN_LOGGING_JSONL: "true",
    DYN_LOG: "debug",
  };
  const enginePort = await freePort();
  const engine = await new FpmPublisher({
    endpoint: `tcp://127.0.0.1:${enginePort}`,
    workerId: "w-log",
    heartbeats: false,
  }).bind();
  const cfg = path.join(kv, "..", `fpm-log-planner-${process.pid}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ load_adjustment_interval_seconds: 0.5, log_dir: "/tmp" }));
  const relay = new FpmProcess(["relay", "--zmq-endpoint", `tcp://127.0.0.1:${enginePort}`], { env });
  const planner = new FpmProcess(["planner", "--config", cfg, "--metrics-port", "0", "--metrics-host", "127.0.0.1"], {
    env,
  });
  try {
    await relay.waitForLog("relay started");
    await planner.waitForLog("planner running");
    await waitFor(
      () => {
        engine.publish({ wallTimeS: 0.01, scheduledRequests: { numDecodeRequests: 1, sumDecodeKvTokens: 100 } });
        return /following a ZMQ publisher/.test(planner.stderr) && /engine connected/.test(relay.stderr);
      },
      20_000,
      "the planner follows the relay's publisher",
    );
    await waitFor(() => planner.stdout.split("\n").length > 3, 10_000, "a few decision records");
  } finally {
    await engine.close();
    relay.proc.kill("SIGTERM");
    planner.proc.kill("SIGTERM");
    await Promise.all([relay.exited, planner.exited]);
    fs.rmSync(cfg, { force: true });
  }
  assert.deepEqual(
    [...vocabularyProblems("relay", relay.stderr), ...vocabularyProblems("planner", planner.stderr)],
    [],
  );
  assert.match(relay.stderr, /"dp_rank":0/, "the relay's per-rank lines name dp_rank");
  assert.match(planner.stderr, /"target":"fpm\.planner\.[a-z]+"/, "the planner's parts log under fpm.planner.*");
});
