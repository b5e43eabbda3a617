/**
 * Regression (issue 9, defect 6): 100,000 fake worker ids made 30,000 per-engine series
 * (2.9 MB a scrape) and filled the engine table, so genuine new engines were refused until
 * the fakes expired. Now new engines start on probation and make room for each other, so a
 * genuine engine that keeps reporting is tracked and planned at once, and the per-engine
 * series are bounded on their own (`--max-engine-series`, those past probation first).
 * A real relay and engines (ZMQ) and a forger on a real nats-server, the planner in process.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { FpmPlanner } from "../../src/planner/fpm-planner.js";
import { resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { defaultForwardPassMetrics, FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { Logger } from "../../src/util/log.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { startRelay, waitJoined } from "../relay/helpers.js";

const NAMESPACE = "flood";
const SUBJECT = fpmSubject({ namespace: NAMESPACE }, {});
const MAX_ENGINES = 500;
const MAX_ENGINE_SERIES = 50;
const FAKES = 5000;

let nats: NatsServer;
let nc: NatsConnection;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
before(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url, name: "planner-and-forger" });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await nc.close();
  await nats.cleanup();
});

/** Lines of the per-engine series in a scrape. */
function engineSeries(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("fpm_planner_engine_") && l.includes('worker_id="'));
}

test("regression - planner: after a flood of fake worker ids, genuine engines are tracked and planned at once, and the scrape stays bounded", async () => {
  const planner = new FpmPlanner({
    connection: nc,
    namespace: NAMESPACE,
    components: [{ component: "backend", kind: "agg" }],
    config: resolvePlannerConfig({ optimizationTarget: "sla", maxNumBatchedTokens: 8192 }),
    maxEngines: MAX_ENGINES,
    maxEngineSeries: MAX_ENGINE_SERIES,
    staleAfterMs: 60_000,
    autoTick: false,
    logger: new Logger({ target: "test", level: "error" }),
  }).start();
  cleanups.push(() => planner.stop());
  await nc.flush();

  // The flood: one-message strangers, each under its own publisher id.
  for (let i = 0; i < FAKES; i++) {
    const payload = encodeFpm({ ...defaultForwardPassMetrics(), workerId: `fake-${i}`, counterId: 1, wallTimeS: 0.5 });
    const envelope = { publisherId: BigInt(1000 + i), sequence: 0n, publishedAtMs: 1n, topic: FPM_TOPIC, payload };
    nc.publish(SUBJECT, encodeEnvelope(envelope));
  }
  await nc.flush();
  await waitFor(() => planner.subscriber.stats().received >= FAKES, 20_000, "the flood at the planner");
  assert.equal(planner.subscriber.stats().engines, MAX_ENGINES, "the fakes filled the table");
  planner.tick();

  // Then genuine engines start behind a real relay.
  const engines: FpmPublisher[] = [];
  for (let r = 0; r < 3; r++) {
    const url = `tcp://127.0.0.1:${await freePort()}`;
    const engine = await new FpmPublisher({ endpoint: url, workerId: `genuine-${r}`, heartbeats: false }).bind();
    cleanups.push(() => engine.close());
    const relay = await startRelay({
      endpoints: [{ dpRank: 0, url }],
      nats: { servers: [nats.url] },
      scope: { namespace: NAMESPACE },
    });
    cleanups.push(() => relay.stop());
    await waitJoined(relay, engine);
    engines.push(engine);
  }
  for (let i = 0; i < 10; i++) for (const e of engines) e.publish({ wallTimeS: 0.02 });
  await waitFor(
    () => engines.every((e) => planner.subscriber.get("backend", e.workerId, 0)?.fpm.counterId === e.stats.nextSeq - 1),
    10_000,
    "the genuine engines tracked with their latest iteration",
  );
  const stats = planner.subscriber.stats();
  assert.equal(stats.dropped.engine_limit, 0, "no genuine engine refused");
  assert.ok(stats.evicted >= FAKES - MAX_ENGINES, `strangers evicted (${stats.evicted})`);

  const [decision] = planner.tick();
  const planned = new Set(decision.engines.map((e) => e.workerId));
  for (const e of engines) assert.ok(planned.has(e.workerId), `${e.workerId} is planned`);

  const text = await planner.metrics.registry.metrics();
  const series = engineSeries(text);
  const workers = new Set(series.map((l) => /worker_id="([^"]*)"/.exec(l)![1]));
  assert.ok(workers.size <= MAX_ENGINE_SERIES, `${workers.size} engines have series`);
  for (const e of engines) assert.ok(workers.has(e.workerId), `${e.workerId} has series (past probation)`);
  assert.match(text, new RegExp(`fpm_planner_engine_series_omitted ${MAX_ENGINES - MAX_ENGINE_SERIES}\\b`));
  assert.ok(text.length < 200_000, `a scrape is ${text.length} bytes`);
});
