/** The one Prometheus text-format reader: sample lines, label sets with escapes, sums by selector, a bounded scrape. */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { MetricsServer } from "../../src/metrics/http-server.js";
import {
  MAX_SCRAPE_BYTES,
  parsePrometheusLine,
  parsePrometheusText,
  scrapeMetrics,
  sumByLabel,
  sumMetric,
  sumSamples,
} from "../../src/util/prometheus-text.js";

const EXPOSITION = `# HELP fpm_relay_dropped_total Messages dropped
# TYPE fpm_relay_dropped_total counter
fpm_relay_dropped_total{dp_rank="0",reason="decode"} 3
fpm_relay_dropped_total{dp_rank="1",reason="decode"} 4
fpm_relay_dropped_total{dp_rank="1",reason="schema"} 1e+1
fpm_relay_dropped_total_extra{dp_rank="0"} 100
fpm_relay_forwarded_total 7 1700000000000

fpm_weird{path="a}b,c=\\"d\\"\\\\e\\nf"} 2
fpm_gauge{x="1"} NaN
fpm_gauge{x="2"} +Inf
fpm_gauge{x="3"} -1.5e-3
not a sample line
`;

test("prometheus - comments, blank and unparsable lines are skipped; names, labels and values are read", () => {
  const samples = parsePrometheusText(EXPOSITION);
  assert.equal(samples.length, 10);
  assert.deepEqual(samples[0], {
    name: "fpm_relay_dropped_total",
    labels: { dp_rank: "0", reason: "decode" },
    value: 3,
  });
  assert.deepEqual(parsePrometheusLine("fpm_relay_forwarded_total 7 1700000000000"), {
    name: "fpm_relay_forwarded_total",
    labels: {},
    value: 7,
  });
  assert.equal(parsePrometheusLine("# TYPE x counter"), null);
  assert.equal(parsePrometheusLine('x{a="unterminated} 1'), null);
});

test("prometheus - label values keep braces, commas and the format's escapes", () => {
  const s = parsePrometheusText(EXPOSITION).find((x) => x.name === "fpm_weird")!;
  assert.deepEqual(s.labels, { path: 'a}b,c="d"\\e\nf' });
  assert.equal(s.value, 2);
});

test("prometheus - NaN and infinities parse; sums take finite values only", () => {
  const samples = parsePrometheusText(EXPOSITION);
  const g = samples.filter((x) => x.name === "fpm_gauge").map((x) => x.value);
  assert.ok(Number.isNaN(g[0]));
  assert.equal(g[1], Number.POSITIVE_INFINITY);
  assert.equal(g[2], -0.0015);
  assert.equal(sumSamples(samples, "fpm_gauge"), -0.0015);
});

test("prometheus - sums select by exact name and by labels, given as an object or as label text", () => {
  const samples = parsePrometheusText(EXPOSITION);
  assert.equal(
    sumSamples(samples, "fpm_relay_dropped_total"),
    17,
    "a longer name with the same prefix is not included",
  );
  assert.equal(sumSamples(samples, "fpm_relay_dropped_total", { reason: "decode" }), 7);
  assert.equal(sumSamples(samples, "fpm_relay_dropped_total", 'reason="decode"'), 7);
  assert.equal(sumSamples(samples, "fpm_relay_dropped_total", 'dp_rank="1",reason="schema"'), 10);
  assert.equal(sumSamples(samples, "fpm_relay_dropped_total", { reason: "decod" }), 0, "values match exactly");
  assert.equal(sumMetric(EXPOSITION, "fpm_relay_forwarded_total"), 7);
  assert.equal(sumMetric(EXPOSITION, "fpm_absent"), 0);
  assert.deepEqual(sumByLabel(samples, "fpm_relay_dropped_total", "reason"), { decode: 7, schema: 10 });
  assert.deepEqual(sumByLabel(samples, "fpm_relay_dropped_total", "reason", { dp_rank: "0" }), { decode: 3 });
  assert.throws(() => sumSamples(samples, "x", "reason=decode"), /not a label selector/);
});

test("prometheus - reads back what prom-client writes, escapes and histograms included", () => {
  const registry = new Registry();
  const c = new Counter({ name: "t_total", help: "h", labelNames: ["v"], registers: [registry] });
  c.inc({ v: 'quote " backslash \\ newline \n end' }, 2);
  c.inc({ v: "plain" }, 3);
  new Gauge({ name: "t_gauge", help: "h", registers: [registry] }).set(0.25);
  const h = new Histogram({ name: "t_seconds", help: "h", buckets: [0.1, 1], registers: [registry] });
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  return registry.metrics().then((text) => {
    const samples = parsePrometheusText(text);
    assert.equal(sumSamples(samples, "t_total", { v: 'quote " backslash \\ newline \n end' }), 2);
    assert.equal(sumSamples(samples, "t_total"), 5);
    assert.equal(sumSamples(samples, "t_gauge"), 0.25);
    assert.deepEqual(sumByLabel(samples, "t_seconds_bucket", "le"), { "0.1": 1, "1": 2, "+Inf": 3 });
    assert.equal(sumSamples(samples, "t_seconds_count"), 3);
  });
});

const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

test("prometheus - scrapeMetrics reads a real /metrics and refuses a non-200 or an oversized body", async () => {
  const registry = new Registry();
  new Counter({ name: "fpm_test_events_total", help: "h", registers: [registry] }).inc(3);
  const metrics = new MetricsServer({ registry, host: "127.0.0.1", port: 0, health: () => ({ healthy: true }) });
  const addr = await metrics.start();
  try {
    const samples = await scrapeMetrics(`http://127.0.0.1:${addr.port}/metrics`);
    assert.equal(sumSamples(samples, "fpm_test_events_total"), 3);
    await assert.rejects(scrapeMetrics(`http://127.0.0.1:${addr.port}/nothing`), /HTTP 404/);
  } finally {
    await metrics.stop();
  }
  // A server that streams more than the limit without a content-length.
  const huge = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    const line = `${"x".repeat(1023)}\n`;
    let sent = 0;
    const write = () => {
      while (sent <= MAX_SCRAPE_BYTES + 1024) {
        sent += line.length;
        if (!res.write(line)) return void res.once("drain", write);
      }
      res.end();
    };
    write();
  });
  servers.push(huge);
  await new Promise<void>((r) => huge.listen(0, "127.0.0.1", () => r()));
  const port = (huge.address() as AddressInfo).port;
  await assert.rejects(scrapeMetrics(`http://127.0.0.1:${port}/metrics`, 20_000), /limit/);
});
