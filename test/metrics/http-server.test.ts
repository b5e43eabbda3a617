import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Counter, Registry } from "prom-client";
import { MetricsServer, serveMetrics } from "../../src/metrics/http-server.js";
import { Logger } from "../../src/util/log.js";

let healthy = true;
const registry = new Registry();
new Counter({ name: "fpm_test_events_total", help: "test counter", registers: [registry] }).inc(3);
const server = new MetricsServer({
  registry,
  host: "127.0.0.1",
  port: 0,
  health: () => ({ healthy, nats: healthy ? "connected" : "disconnected" }),
});
const addr = await server.start();
const base = `http://127.0.0.1:${addr.port}`;
after(() => server.stop());

test("metrics - /metrics serves the registry in Prometheus text format", async () => {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  assert.match(await res.text(), /^fpm_test_events_total 3$/m);
});

test("metrics - /health is 200 when healthy and 503 with a JSON reason otherwise", async () => {
  healthy = true;
  let res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { nats: string }).nats, "connected");
  healthy = false;
  res = await fetch(`${base}/health`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { healthy: false, nats: "disconnected" });
});

test("metrics - unknown paths are 404 and writes are refused", async () => {
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  assert.equal((await fetch(`${base}/metrics`, { method: "POST" })).status, 405);
});

test("metrics - serveMetrics on a port already taken is a ConfigError that says what to change", async () => {
  const lines: string[] = [];
  const logger = new Logger({ target: "test", json: true, sink: (l) => lines.push(l) });
  await assert.rejects(
    serveMetrics({ registry, host: "127.0.0.1", port: addr.port, health: () => ({ healthy: true }) }, logger),
    (err: Error) =>
      err.name === "ConfigError" &&
      err.message.includes(`127.0.0.1:${addr.port}`) &&
      /--metrics-port or DYN_SYSTEM_PORT/.test(err.message),
  );
  const ok = await serveMetrics({ registry, host: "127.0.0.1", port: 0, health: () => ({ healthy: true }) }, logger);
  await ok.stop();
  assert.ok(lines.some((l) => JSON.parse(l).message === "serving /metrics and /health"));
});
