import { after, test } from "node:test";
import assert from "node:assert/strict";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { FpmProcess, runFpm as runFpmToExit } from "../harness/fpm-process.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The environment without anything the relay reads, so a developer's shell cannot leak in. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (/^(DYN_|NATS_)/.test(k)) env[k] = undefined;
  return { ...env, ...extra };
}

function runFpm(args: string[], env = cleanEnv(), timeoutMs = 20_000) {
  return runFpmToExit(args, { env }, timeoutMs);
}

test("relay - --help documents flags, environment and exit codes", async () => {
  const r = await runFpm(["relay", "--help"]);
  assert.equal(r.code, 0);
  for (const s of [
    "--zmq-endpoint",
    "--dp-size",
    "--validate",
    "--max-buffered-bytes",
    "--metrics-port",
    "--nats",
    "DYN_FORWARDPASS_METRIC_PORT",
    "NATS_AUTH_TOKEN",
    "Exit codes",
    "nats_unavailable",
  ]) {
    assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  }
});

test("relay - bad configuration fails at start with exit code 2 and says what to change", async () => {
  const cases: Array<{ args: string[]; env?: Record<string, string>; says: RegExp }> = [
    { args: [], says: /no engine endpoint.*DYN_FORWARDPASS_METRIC_PORT/ },
    { args: ["--base-port", "80"], says: /port 80 is outside 1024-49151/ },
    {
      args: ["--dp-size", "2"],
      env: { DYN_FORWARDPASS_METRIC_PORT: "49151" },
      says: /49151 \+ dp_rank 1: port 49152 is outside/,
    },
    { args: ["--zmq-endpoint", `ipc:///tmp/${"d".repeat(110)}.{rank}`], says: /over the OS limit of 107/ },
    { args: ["--zmq-endpoint", "udp://127.0.0.1:20380"], says: /only tcp:\/\/ and ipc:\/\// },
    { args: ["--zmq-endpoint", "tcp://127.0.0.1:65536"], says: /port 65536 is outside 1-65535/ },
    { args: ["--base-port", "20380", "--dp-size", "0"], says: /--dp-size 0: must be an integer in 1\.\.1024/ },
    { args: ["--base-port", "20380", "--validate", "maybe"], says: /--validate/ },
    {
      args: ["--base-port", "20380", "--max-buffered-bytes", "lots"],
      says: /--max-buffered-bytes "lots": must be an integer/,
    },
    { args: ["--base-port", "20380"], env: { DYN_SYSTEM_PORT: "70000" }, says: /DYN_SYSTEM_PORT must be a port/ },
    { args: ["--base-port", "20380", "--nats-user", "relay"], says: /user and password go together/ },
    {
      args: ["--base-port", "20380", "--nats-creds", "/nonexistent/x.creds"],
      says: /credentials file .* is not a readable file/,
    },
  ];
  for (const c of cases) {
    const r = await runFpm(["relay", ...c.args], cleanEnv(c.env));
    assert.equal(r.code, 2, `${c.args.join(" ")}: exit code 2\n${r.stderr}`);
    assert.match(r.stderr, c.says, c.args.join(" "));
  }
});

test("relay - unreachable NATS exits 3 without printing the secret", async () => {
  const port = await freePort();
  const r = await runFpm(
    ["relay", "--base-port", "20380", "--nats", `nats://127.0.0.1:${port}`],
    cleanEnv({ NATS_AUTH_TOKEN: "s3cret-token-value" }),
  );
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /could not connect to NATS at nats:\/\/127\.0\.0\.1:\d+ \(auth=token/);
  assert.ok(!r.stderr.includes("s3cret-token-value"), "the token is not printed");
});

test("relay - the CLI relays, serves /metrics and /health (200, then 503 without NATS), logs JSON, and exits 0 on SIGTERM", async () => {
  const nats = await NatsServer.start();
  cleanups.push(() => nats.cleanup());
  const basePort = await freePort(); // below the ephemeral range, so inside vLLM's base-port range 1024-49151
  const metricsPort = await freePort();
  const pub = await new FpmPublisher({ endpoint: `tcp://127.0.0.1:${basePort}`, heartbeatIntervalMs: 20 }).bind();
  cleanups.push(() => pub.close());
  const env = cleanEnv({
    DYN_FORWARDPASS_METRIC_PORT: String(basePort),
    DYN_SYSTEM_PORT: String(metricsPort),
    NATS_SERVER: nats.url,
    DYN_LOGGING_JSONL: "true",
    DYN_NAMESPACE: "cli",
  });
  const relay = new FpmProcess(["relay", "--metrics-host", "127.0.0.1"], { env });
  cleanups.push(() => relay.stop(1000));
  const get = async (p: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${metricsPort}${p}`);
      return { status: res.status, text: await res.text() };
    } catch {
      return { status: 0, text: "" };
    }
  };
  await waitFor(async () => (await get("/health")).status === 200, 15_000, "/health 200");
  // The idle heartbeats flow through the relay.
  await waitFor(
    async () => /fpm_relay_forwarded_total\{dp_rank="0"\} [1-9]/.test((await get("/metrics")).text),
    15_000,
    "forwarded heartbeats in /metrics",
  );
  const metrics = (await get("/metrics")).text;
  for (const name of [
    "fpm_relay_received_total",
    "fpm_relay_dropped_total",
    "fpm_relay_lost_total",
    "fpm_relay_engine_restarts_total",
    "fpm_relay_nats_connected 1",
    "fpm_relay_last_seq",
    "fpm_relay_forward_latency_seconds_bucket",
  ]) {
    assert.ok(metrics.includes(name), `/metrics has ${name}`);
  }

  await nats.stop();
  await waitFor(async () => (await get("/health")).status === 503, 15_000, "/health 503");
  const body = JSON.parse((await get("/health")).text) as { healthy: boolean; status: string; nats: string };
  assert.equal(body.healthy, false);
  assert.equal(body.nats, "disconnected");
  assert.match(body.status, /NATS disconnected/);

  const t0 = Date.now();
  relay.proc.kill("SIGTERM");
  const code = await relay.exited;
  assert.equal(code, 0, relay.stderr);
  assert.ok(Date.now() - t0 < 5000, "exits within 5 s");
  const lines = relay.stderr.trim().split("\n");
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `a JSON log line: ${l}`);
  assert.ok(lines.some((l) => (JSON.parse(l) as { message: string }).message === "relay stopped"));
});
