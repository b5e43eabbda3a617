/**
 * Regression (issue 12, item 6): parity mode and `fpm simulate --follow-planner` deadlocked.
 * Parity never expires engines, and the simulator never reported replica counts, so after
 * the first scale-down the removed worker's engines stayed in the planner's table, the
 * ready count stayed at the old value, and every tick said `scaling_in_progress` until the
 * 600 s scale timeout. Now the simulator's follower reports `{replicas, pending, workers}`
 * on `namespace.{ns}.planner.replicas` and the planner forgets the workers the deployment
 * no longer runs, as Dynamo's discovery does.
 *
 * Real pieces: a nats-server, `FpmPlanner` with its default virtual connector, the
 * simulator's `PlannerFollower` and `SimulatedDeployment` (what `fpm simulate
 * --follow-planner` runs). The FPM of the deployment's workers is published on NATS as a
 * relay would; the planner's clock is simulated.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { fpmSubject } from "../../src/eventplane/subject.js";
import type { PlannerDecision } from "../../src/planner/decision.js";
import { FpmPlanner } from "../../src/planner/fpm-planner.js";
import { type ParityRules, resolvePlannerConfig } from "../../src/planner/planner-config.js";
import { FPM_TOPIC } from "../../src/schema/forward-pass-metrics.js";
import { SimulatedDeployment } from "../../src/sim/deployment.js";
import { plannerDecisionsSubject, plannerReplicasSubject } from "../../src/eventplane/subject.js";
import { PlannerFollower } from "../../src/sim/planner-follower.js";
import { Logger } from "../../src/util/log.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { sleep, waitFor } from "../harness/ports.js";
import { fpm } from "../planner/fpm-fixture.js";

const quiet = new Logger({ target: "test", level: "error" });
let testbed: NatsTestbed | undefined;
let nc: NatsConnection;
before(async () => {
  testbed = await startNatsTestbed("fpm-deadlock-");
  nc = testbed.nc;
});
after(() => testbed?.close());

async function closedLoop(rules: ParityRules): Promise<PlannerDecision[]> {
  const namespace = `dl-${rules.replace(/\W/g, "")}`;
  let nowMs = 1_000_000;
  const planner = new FpmPlanner({
    connection: nc,
    namespace,
    components: [{ component: "backend", kind: "decode" }],
    config: resolvePlannerConfig({ mode: "parity", parityRules: rules, maxKvTokens: 100_000 }),
    autoTick: false,
    now: () => nowMs,
    logger: quiet,
  });
  const deployment = new SimulatedDeployment({
    arrivals: { next: () => null },
    workers: 3,
    maxWorkers: 8,
    workerIdPrefix: `${namespace}-w`,
    onForwardPass: () => {},
  });
  const follower = new PlannerFollower({
    nc,
    deployment,
    subject: plannerDecisionsSubject(namespace),
    component: "backend",
    reportSubject: plannerReplicasSubject(namespace),
    logger: quiet,
  });
  planner.start();
  follower.start();
  await nc.flush();
  const subject = fpmSubject({ namespace, component: "backend" });
  const decisions: PlannerDecision[] = [];
  let seq = 0n;
  try {
    for (let t = 0; t < 6; t++) {
      // Each live worker sends one iteration at 1% KV use: every tick wants one replica fewer.
      const accepted = planner.subscriber.stats().accepted;
      const ids = deployment.workerIds();
      for (const workerId of ids) {
        const payload = encodeFpm(
          fpm({
            workerId,
            counterId: t + 1,
            wallTimeS: 0.02,
            scheduled: { numDecodeRequests: 2, sumDecodeKvTokens: 1000 },
          }),
        );
        nc.publish(
          subject,
          encodeEnvelope({ publisherId: 7n, sequence: seq++, publishedAtMs: 1n, topic: FPM_TOPIC, payload }),
        );
      }
      await waitFor(() => planner.subscriber.stats().accepted >= accepted + ids.length, 5000, "the tick's FPM");
      nowMs += 5000;
      const applied = follower.totals.applied;
      const [d] = planner.tick(nowMs);
      decisions.push(d);
      if (d.direction === "hold") continue;
      // The decision crosses NATS to the simulator, which scales and reports back.
      await waitFor(() => follower.totals.applied > applied, 5000, "the simulator to apply the decision");
      await sleep(200);
    }
  } finally {
    follower.stop();
    await planner.stop();
  }
  return decisions;
}

for (const rules of ["1.6.1", "pre-1.6"] as const) {
  test(`regression - parity (${rules}) with the simulator following: scale-downs proceed, no scaling_in_progress deadlock`, async () => {
    const decisions = await closedLoop(rules);
    const path = decisions.map((d) => `${d.replicas}->${d.desired} ${d.reason}`);
    assert.deepEqual(
      decisions.slice(0, 2).map((d) => [d.replicas, d.desired, d.reason]),
      [
        [3, 2, "scale_down"],
        [2, 1, "scale_down"],
      ],
      `the second tick must see 2 ready workers and step down again: ${path.join(", ")}`,
    );
    assert.ok(
      decisions.every((d) => d.reason !== "scaling_in_progress" && d.reason !== "worker_count_mismatch"),
      path.join(", "),
    );
    assert.deepEqual(
      decisions.slice(2).map((d) => [d.replicas, d.desired]),
      decisions.slice(2).map(() => [1, 1]),
      "at the floor it holds",
    );
  });
}
