/**
 * deploy/nats-accounts.conf on a real nats-server, with plain nats clients: each user can
 * do its job (the message arrives) and the server refuses everything else (a permission
 * violation is reported and the message never arrives). The fpm processes under these
 * users are checked in security.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsServer } from "../harness/nats-server.js";
import { sleep, waitFor } from "../harness/ports.js";
import { accountPasswords, startWithAccounts } from "./accounts.js";

interface Client {
  nc: NatsConnection;
  violations: string[];
}

async function client(url: string, user: string, pass: string): Promise<Client> {
  const nc = await connect({ servers: url, user, pass, reconnect: false });
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error") violations.push(String(s.error?.message ?? s.error));
  })();
  return { nc, violations };
}

const FPM = "namespace.dynamo.component.backend.forward-pass-metrics";
const FPM_EP = "namespace.dynamo.component.prefill.endpoint.generate.forward-pass-metrics";
const DECISIONS = "namespace.dynamo.planner.decisions";
const REPLICAS = "namespace.dynamo.planner.replicas";

describe("ops least privilege", () => {
  const pw = accountPasswords();
  let server: NatsServer;
  let relay: Client, planner: Client, actuator: Client;
  before(async () => {
    server = await startWithAccounts(pw);
    relay = await client(server.url, "fpm-relay", pw.FPM_RELAY_PASSWORD);
    planner = await client(server.url, "fpm-planner", pw.FPM_PLANNER_PASSWORD);
    actuator = await client(server.url, "fpm-actuator", pw.FPM_ACTUATOR_PASSWORD);
  });
  after(async () => {
    for (const c of [relay, planner, actuator]) await c?.nc.close().catch(() => undefined);
    await server?.cleanup();
  });

  test("ops - least privilege: a wrong password is refused", async () => {
    await assert.rejects(
      connect({ servers: server.url, user: "fpm-relay", pass: pw.FPM_PLANNER_PASSWORD, reconnect: false }),
      /Authorization|authorization/,
    );
  });

  test("ops - least privilege: relay publishes FPM to the planner; planner publishes decisions to the actuator; actuator reports replicas", async () => {
    const fpmSub = planner.nc.subscribe("namespace.*.component.*.forward-pass-metrics");
    const epSub = planner.nc.subscribe("namespace.*.component.*.endpoint.*.forward-pass-metrics");
    const decSub = actuator.nc.subscribe("namespace.*.planner.decisions");
    const repSub = planner.nc.subscribe("namespace.*.planner.replicas");
    await planner.nc.flush();
    await actuator.nc.flush();
    relay.nc.publish(FPM, "fpm");
    relay.nc.publish(FPM_EP, "fpm-ep");
    planner.nc.publish(DECISIONS, "{}");
    actuator.nc.publish(REPLICAS, "2");
    await waitFor(
      () =>
        fpmSub.getReceived() === 1 &&
        epSub.getReceived() === 1 &&
        decSub.getReceived() === 1 &&
        repSub.getReceived() === 1,
      10_000,
      "each permitted message",
    );
    assert.deepEqual([relay.violations, planner.violations, actuator.violations], [[], [], []]);
    for (const s of [fpmSub, epSub, decSub, repSub]) s.unsubscribe();
  });

  test("ops - least privilege: everything else is refused by the server and never delivered", async () => {
    // Observers with the right to see each subject, to prove refused publishes go nowhere.
    const seeFpm = planner.nc.subscribe(FPM);
    const seeReplicas = planner.nc.subscribe(REPLICAS);
    const seeDecisions = actuator.nc.subscribe(DECISIONS);
    await planner.nc.flush();
    await actuator.nc.flush();

    relay.nc.publish(DECISIONS, "forged decision");
    relay.nc.publish(REPLICAS, "99");
    relay.nc.publish("other.subject", "x");
    planner.nc.publish(FPM, "forged fpm");
    planner.nc.publish(REPLICAS, "99");
    actuator.nc.publish(FPM, "forged fpm");
    actuator.nc.publish(DECISIONS, "forged decision");
    const relaySub = relay.nc.subscribe(FPM);
    const plannerSub = planner.nc.subscribe(">");
    const actuatorSub = actuator.nc.subscribe(FPM);
    for (const c of [relay, planner, actuator]) await c.nc.flush().catch(() => undefined);

    await waitFor(
      () => relay.violations.length >= 4 && planner.violations.length >= 3 && actuator.violations.length >= 3,
      10_000,
      "every permission violation",
    );
    const all = [...relay.violations, ...planner.violations, ...actuator.violations];
    assert.ok(
      all.every((v) => /Permissions Violation/.test(v)),
      all.join("\n"),
    );
    for (const [who, list, expected] of [
      [
        "relay",
        relay.violations,
        [
          `Publish to "${DECISIONS}"`,
          `Publish to "${REPLICAS}"`,
          `Publish to "other.subject"`,
          `Subscription to "${FPM}"`,
        ],
      ],
      ["planner", planner.violations, [`Publish to "${FPM}"`, `Publish to "${REPLICAS}"`, `Subscription to ">"`]],
      [
        "actuator",
        actuator.violations,
        [`Publish to "${FPM}"`, `Publish to "${DECISIONS}"`, `Subscription to "${FPM}"`],
      ],
    ] as const) {
      for (const e of expected)
        assert.ok(
          list.some((v) => v.includes(e)),
          `${who}: expected a violation for ${e}, got ${JSON.stringify(list)}`,
        );
    }
    await sleep(300);
    assert.equal(seeFpm.getReceived(), 0, "forged FPM must not arrive");
    assert.equal(seeReplicas.getReceived(), 0, "forged replica counts must not arrive");
    assert.equal(seeDecisions.getReceived(), 0, "forged decisions must not arrive");
    for (const s of [relaySub, plannerSub, actuatorSub])
      assert.ok(
        await Promise.race([s.closed.then(() => true), sleep(2000).then(() => false)]),
        "refused subscription is closed",
      );
    assert.equal(relay.nc.isClosed(), false, "a violation does not close the connection");
  });
});
