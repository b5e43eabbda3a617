/**
 * The planner end to end on simulated time: engines publish real FPM through
 * `FpmPublisher` (ZMQ), a real `FpmEventRelay` per worker puts them on a real
 * nats-server, and `FpmPlanner` subscribes. Time is simulated: each tick the test
 * publishes a tick's worth of iterations at once, waits until the planner has them, then
 * advances the planner's clock and ticks, so a simulated minute takes a few real seconds.
 * The test is also the actuator: it follows the decisions by starting and stopping engines.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { FpmPlanner } from "../../src/planner/fpm-planner.js";
import type { PlannerDecision } from "../../src/planner/decision.js";
import { resolvePlannerConfig, type PlannerConfig } from "../../src/planner/planner-config.js";
import { FpmEventRelay } from "../../src/relay/relay.js";
import { CostModel } from "../../src/sim/cost-model.js";
import { SeededRandom } from "../../src/sim/prng.js";
import { Logger } from "../../src/util/log.js";
import type { NatsServer } from "../harness/nats-server.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { waitFor } from "../harness/ports.js";

const quiet = new Logger({ target: "test", level: "error" });
const TICK_MS = 4000;
/** Iterations per engine per simulated tick (10 Hz). */
const ITERS = 40;

let server: NatsServer;
let nc: NatsConnection;
let testbed: NatsTestbed | undefined;
let dir: string;
before(async () => {
  testbed = await startNatsTestbed("fpm-plan-");
  ({ server, nc, dir } = testbed);
});
after(() => testbed?.close());

/** One simulated worker: an FpmPublisher (one rank) and its own relay. */
class SimWorker {
  readonly publisher: FpmPublisher;
  readonly relay: FpmEventRelay;
  sent = 0;
  constructor(
    readonly workerId: string,
    namespace: string,
  ) {
    const url = `ipc://${dir}/${workerId}.0`;
    this.publisher = new FpmPublisher({ endpoint: url, workerId, dpRank: 0, heartbeats: false });
    this.relay = new FpmEventRelay({
      endpoints: [{ dpRank: 0, url }],
      nats: { servers: [server.url] },
      scope: { namespace, component: "backend" },
      logger: quiet,
    });
  }
  async start(): Promise<this> {
    await this.publisher.bind();
    await this.relay.start();
    return this;
  }
  async stop(): Promise<void> {
    await this.publisher.close();
    await this.relay.stop();
  }
}

interface Load {
  /** Queued prefill tokens on each engine. */
  queuedPrefill: number;
  idle: boolean;
}

class Scenario {
  readonly workers: SimWorker[] = [];
  readonly planner: FpmPlanner;
  readonly cost = new CostModel({ a: 0.005, b: 2e-5, c: 5e-7, noise: 0.005, seed: 7 });
  readonly rng = new SeededRandom(11);
  readonly decisions: PlannerDecision[] = [];
  nowMs = 1_000_000;
  private nextId = 0;

  constructor(
    readonly namespace: string,
    config: Partial<PlannerConfig>,
  ) {
    this.planner = new FpmPlanner({
      connection: nc,
      namespace,
      components: [{ component: "backend", kind: "agg" }],
      config: resolvePlannerConfig({ loadAdjustmentIntervalS: TICK_MS / 1000, ...config }),
      staleAfterMs: 5000,
      autoTick: false,
      now: () => this.nowMs,
      logger: quiet,
      onDecision: (d) => this.decisions.push(d),
    });
  }

  async start(workers: number): Promise<void> {
    this.planner.start();
    await nc.flush();
    for (let i = 0; i < workers; i++) await this.addWorker();
  }

  async addWorker(): Promise<void> {
    const w = await new SimWorker(`w${this.nextId++}`, this.namespace).start();
    // ZMQ subscriptions take a moment: publish heartbeats until the planner sees this engine.
    await waitFor(
      () => {
        if (this.planner.subscriber.get("backend", w.workerId, 0) !== undefined) return true;
        w.publisher.heartbeat();
        w.sent++;
        return false;
      },
      20_000,
      `engine ${w.workerId} visible to the planner`,
    );
    this.workers.push(w);
    // Earlier heartbeats may still be on their way: the first tick must not count them as its own.
    await this.waitForLatest(`engine ${w.workerId}'s last heartbeat at the planner`);
  }

  /** Waits until the planner holds every engine's last message (counter_id is the publisher's seq). */
  async waitForLatest(what: string): Promise<void> {
    await waitFor(
      () =>
        this.workers.every(
          (w) => this.planner.subscriber.get("backend", w.workerId, 0)?.fpm.counterId === w.publisher.stats.nextSeq - 1,
        ),
      20_000,
      what,
    );
  }

  async removeWorker(): Promise<void> {
    const w = this.workers.pop()!;
    await w.stop();
  }

  /** Publishes one tick of iterations from every engine and waits until the planner has them all. */
  async runTick(load: Load): Promise<PlannerDecision> {
    const before = this.planner.subscriber.stats().accepted;
    let expected = 0;
    for (const w of this.workers) {
      for (let i = 0; i < ITERS; i++) {
        if (load.idle) {
          if (i % 10 === 0) {
            w.publisher.heartbeat();
            expected++;
          }
          continue;
        }
        const prefill = this.rng.int(0, 2048);
        const numDecode = this.rng.int(1, 64);
        const decodeKv = numDecode * this.rng.int(100, 1500);
        w.publisher.publish({
          wallTimeS: this.cost.wallTime(prefill, decodeKv),
          scheduledRequests: {
            numPrefillRequests: prefill > 0 ? 1 : 0,
            sumPrefillTokens: prefill,
            numDecodeRequests: numDecode,
            sumDecodeKvTokens: decodeKv,
          },
          queuedRequests: { sumPrefillTokens: load.queuedPrefill },
        });
        expected++;
      }
    }
    await this.waitForLatest(`${expected} messages at the planner`);
    assert.equal(this.planner.subscriber.stats().accepted - before, expected, "every message of the tick accepted");
    this.nowMs += TICK_MS;
    this.planner.subscriber.expireStale(this.nowMs);
    const [d] = this.planner.tick(this.nowMs);
    return d;
  }

  /** The actuator: follow a decision by starting or stopping engines. */
  async follow(d: PlannerDecision): Promise<void> {
    if (d.direction === "up") while (this.workers.length < d.desired) await this.addWorker();
    if (d.direction === "down") while (this.workers.length > d.desired) await this.removeWorker();
  }

  async stop(): Promise<void> {
    await this.planner.stop();
    while (this.workers.length > 0) await this.removeWorker();
  }
}

function within(actual: number, truth: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - truth) <= rel * truth, `${what}: ${actual} not within ${rel * 100}% of ${truth}`);
}

test("planner - recovers the cost model within 5% after a simulated minute of load (real relay and nats-server)", async () => {
  const s = new Scenario("itcoef", { optimizationTarget: "sla", maxNumBatchedTokens: 2048, ttftMs: 5000, itlMs: 5000 });
  try {
    await s.start(2);
    let d!: PlannerDecision;
    for (let t = 0; t < 15; t++) d = await s.runTick({ queuedPrefill: 0, idle: false }); // 15 x 4 s = 60 s
    assert.equal(d.model.status, "fitted");
    const [b, c] = d.model.coef!;
    within(d.model.intercept!, 0.005, 0.05, "a (intercept)");
    within(b, 2e-5, 0.05, "b (s per prefill token)");
    within(c, 5e-7, 0.05, "c (s per decode KV token)");
    assert.ok(
      d.model.samplesAdded >= 2 * (15 * ITERS - 10),
      "every distinct iteration after the cold start is a sample",
    );
    assert.equal(d.model.samples, 64, "bounded by max_num_fpm_samples");
    assert.equal(d.engines.length, 2);
    assert.ok(d.engines.every((e) => e.ttftMs !== undefined && e.itlMs !== undefined));
  } finally {
    await s.stop();
  }
});

test("planner - a load step scales up within two ticks and back down after the load ends", async () => {
  // A short stabilization window: twelve 4 s ticks of quiet must be enough to come back down.
  const s = new Scenario("itstep", {
    optimizationTarget: "sla",
    maxNumBatchedTokens: 2048,
    ttftMs: 500,
    itlMs: 500,
    scaleDownStabilizationS: 8,
  });
  try {
    await s.start(1);
    for (let t = 0; t < 3; t++) {
      const d = await s.runTick({ queuedPrefill: 0, idle: false });
      assert.notEqual(d.direction, "up", `warm-up tick ${t}: ${d.reason}`);
    }
    // Load step: 30,000 queued prefill tokens on each engine, about 0.9 s of TTFT ahead (SLA 500 ms).
    const step: PlannerDecision[] = [];
    for (let t = 0; t < 2 && !step.some((d) => d.direction === "up"); t++) {
      const d = await s.runTick({ queuedPrefill: 30_000, idle: false });
      step.push(d);
      await s.follow(d);
    }
    const up = step.find((d) => d.direction === "up");
    assert.ok(up, `no scale-up within two ticks: ${step.map((d) => d.reason).join(", ")}`);
    assert.equal(up.reason, "scale_up");
    assert.ok(up.engines.every((e) => e.ttftMs! > 500));
    // Load ends: queues empty. The planner comes back down to one replica.
    let last!: PlannerDecision;
    for (let t = 0; t < 12; t++) {
      last = await s.runTick({ queuedPrefill: 0, idle: false });
      await s.follow(last);
      if (last.replicas === 1 && s.workers.length === 1 && t > 0) break;
    }
    assert.ok(
      s.decisions.some((d) => d.direction === "down" && d.reason === "scale_down"),
      "a scale_down decision after the load",
    );
    if (process.env.FPM_TEST_DEBUG)
      console.error(
        s.decisions
          .map(
            (d) =>
              `${d.replicas}->${d.desired}:${d.reason}:${d.engines.map((e) => Math.round(e.ttftMs ?? -1)).join("/")}`,
          )
          .join(" "),
      );
    assert.equal(
      last.replicas,
      1,
      `back to one replica: ${s.decisions.map((d) => `${d.replicas}->${d.desired}:${d.reason}`).join(" ")}`,
    );
  } finally {
    await s.stop();
  }
});

test("planner - all engines idle scales down to min_endpoint, and a silent engine expires and leaves the decision", async () => {
  const s = new Scenario("itidle", { optimizationTarget: "sla", maxNumBatchedTokens: 2048, minEndpoint: 1 });
  const expired: string[] = [];
  s.planner.subscriber.onEngineEvent((e) => {
    if (e.type === "expired") expired.push(e.workerId);
  });
  try {
    await s.start(3);
    // Idle heartbeats only: the reference would hold forever (no samples: insufficient_data).
    // One whole interval of heartbeats since the engines appeared: a step down.
    const d1 = await s.runTick({ queuedPrefill: 0, idle: true });
    assert.equal(d1.reason, "idle_scale_down");
    assert.equal(d1.model.status, "insufficient_data", "no samples at all: the reference could never decide");
    assert.deepEqual([d1.replicas, d1.desired], [3, 2]);
    await s.follow(d1); // the actuator stops w2
    // w2 is silent from here; 8 simulated seconds later (> staleAfterMs 5000) it has expired and left the decision.
    const d2 = await s.runTick({ queuedPrefill: 0, idle: true });
    assert.deepEqual(expired, ["w2"]);
    assert.deepEqual(
      d2.engines.map((e) => e.workerId),
      ["w0", "w1"],
      "the expired engine left the decision",
    );
    assert.equal(d2.replicas, 2);
    assert.equal(d2.reason, "idle_scale_down");
    assert.equal(d2.desired, 1);
    await s.follow(d2);
    let last!: PlannerDecision;
    for (let t = 0; t < 4; t++) last = await s.runTick({ queuedPrefill: 0, idle: true });
    assert.equal(last.replicas, 1);
    assert.equal(last.desired, 1, "held at min_endpoint");
    assert.equal(last.reason, "no_change");
    const text = await s.planner.metrics.registry.metrics();
    assert.ok(!/worker_id="w2"/.test(text), "per-engine series of the expired engine are removed");
    assert.match(
      text,
      /fpm_planner_decisions_total\{component="backend",direction="down",reason="idle_scale_down"\} 2/,
    );
    assert.match(text, /fpm_planner_engines_expired_total 2/);
  } finally {
    await s.stop();
  }
});
