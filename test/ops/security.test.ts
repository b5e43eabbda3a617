/**
 * Security of the real `fpm relay` and `fpm planner` processes against a real nats-server:
 * each authentication method (token, user/password, nkey, JWT creds, mutual TLS) lets them
 * connect and work; a wrong secret stops them at start with exit code 3 and a message
 * naming the cause; and no secret ever appears in their logs (debug level, text and JSON),
 * /metrics, /health, --help output or start-up errors. Least privilege under
 * deploy/nats-accounts.conf is checked with these processes at the end.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, sleep, waitFor } from "../harness/ports.js";
import { type AuthCase, type AuthCases, makeAuthCases } from "./auth-cases.js";
import { accountPasswords, startWithAccounts } from "./accounts.js";
import { FpmProcess, runFpm } from "../harness/fpm-process.js";

/** Everything a process showed the world, to be searched for secrets at the end. */
const exposed: { where: string; text: string }[] = [];
const allSecrets: string[] = [];

/** These tests search every log line for secrets: run the processes at debug level. */
const DEBUG = { DYN_LOG: "debug" } as const;

function expose(where: string, text: string | undefined): void {
  if (text) exposed.push({ where, text });
}

async function observer(url: string, c: AuthCase): Promise<NatsConnection> {
  const o: Record<string, unknown> = { ...c.client };
  const opts: NodeConnectionOptions = { servers: url, reconnect: false };
  if (typeof o.nkeySeed === "string") opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(o.nkeySeed));
  else if (typeof o.credsFile === "string") opts.authenticator = credsAuthenticator(fs.readFileSync(o.credsFile));
  else Object.assign(opts, o);
  return connect(opts);
}

interface Role {
  name: "relay" | "planner";
  /** Command line without NATS flags. */
  args(ports: { zmq: number; metrics: number }): string[];
}

const ROLES: Role[] = [
  {
    name: "relay",
    args: (p) => [
      "relay",
      "--zmq-endpoint",
      `tcp://127.0.0.1:${p.zmq}`,
      "--metrics-port",
      String(p.metrics),
      "--metrics-host",
      "127.0.0.1",
    ],
  },
  {
    name: "planner",
    args: (p) => [
      "planner",
      "--max-kv-tokens",
      "65536",
      "--metrics-port",
      String(p.metrics),
      "--metrics-host",
      "127.0.0.1",
      "--load-adjustment-interval",
      "1",
    ],
  },
];

describe("ops security", () => {
  let auth: AuthCases;
  before(() => {
    auth = makeAuthCases();
    for (const c of auth.cases) allSecrets.push(...c.secrets);
  });
  after(() => auth?.cleanup());

  for (const role of ROLES) {
    test(`security - ${role.name} connects with token, user/password, nkey, creds and mutual TLS; a wrong secret exits 3 with the cause`, async () => {
      for (const c of auth.cases) {
        const server = await NatsServer.start({ config: c.serverConfig });
        const url = `${c.scheme}://127.0.0.1:${server.port}`;
        let obs: NatsConnection | null = null;
        let pub: FpmPublisher | null = null;
        try {
          const ports = { zmq: await freePort(), metrics: await freePort() };
          for (const json of [false, true]) {
            const p = new FpmProcess([...role.args(ports), "--nats", url, ...c.good.args], {
              env: { ...DEBUG, ...c.good.env, DYN_LOGGING_JSONL: String(json) },
              metricsPort: ports.metrics,
            });
            try {
              await p.waitHealthy();
              if (role.name === "relay" && !json) {
                // The relay really publishes under these credentials: an observer sees the envelopes.
                obs = await observer(url, c);
                // fpm relay publishes endpoint-scoped, as Dynamo 1.6.1 does.
                const sub = obs.subscribe("namespace.*.component.*.endpoint.*.forward-pass-metrics");
                await obs.flush();
                pub = await new FpmPublisher({
                  endpoint: `tcp://127.0.0.1:${ports.zmq}`,
                  workerId: "w-sec",
                  heartbeats: false,
                }).bind();
                await waitFor(
                  () => {
                    pub!.publish({
                      wallTimeS: 0.01,
                      scheduledRequests: { numDecodeRequests: 1, sumDecodeKvTokens: 100 },
                    });
                    return sub.getReceived() >= 3;
                  },
                  20_000,
                  `${c.name}: envelopes from the relay`,
                );
              }
              if (role.name === "planner" && !json) {
                // The planner subscribes under these credentials: it ticks and says why it does not scale.
                await waitFor(
                  async () => (await p.get("/metrics"))?.body.includes("no_fpm_data") ?? false,
                  20_000,
                  `${c.name}: a planner decision`,
                );
              }
              expose(`${role.name} ${c.name} /metrics`, (await p.get("/metrics"))?.body);
              expose(`${role.name} ${c.name} /health`, (await p.get("/health"))?.body);
            } finally {
              assert.equal(
                await p.stop(),
                0,
                `${role.name} ${c.name}: clean exit on SIGTERM\n${p.output.slice(-2000)}`,
              );
              expose(`${role.name} ${c.name} logs json=${json}`, p.output);
              await pub?.close();
              pub = null;
            }
          }

          const bad = await runFpm([...role.args(ports), "--nats", url, ...c.bad.args], {
            env: { ...DEBUG, ...c.bad.env },
          });
          expose(`${role.name} ${c.name} wrong-secret output`, bad.stdout + bad.stderr);
          assert.equal(
            bad.code,
            3,
            `${role.name} ${c.name}: a wrong secret must exit 3, got ${bad.code}:\n${bad.stderr}`,
          );
          assert.match(bad.stderr, c.badMessage, `${role.name} ${c.name}: the message names the cause`);
          assert.match(bad.stderr, /could not connect to NATS/);
        } finally {
          await obs?.close();
          await server.cleanup();
        }
      }
    });

    test(`security - ${role.name}: credentials written into the server URL authenticate and are never shown`, async () => {
      // A URL's user:password is taken out of the URL and used as user/password (nats.js
      // itself ignores it): the right password connects, a wrong one exits 3, and neither
      // is echoed anywhere.
      const c = auth.cases.find((x) => x.name === "user/password")!;
      const server = await NatsServer.start({ config: c.serverConfig });
      try {
        const ports = { zmq: await freePort(), metrics: await freePort() };
        const p = new FpmProcess(
          [...role.args(ports), "--nats", `nats://fpm:${c.secrets[0]}@127.0.0.1:${server.port}`],
          { env: DEBUG, metricsPort: ports.metrics },
        );
        try {
          await waitFor(
            async () => !p.running || (await p.get("/health"))?.status === 200,
            30_000,
            "healthy or exited",
          );
          assert.equal(
            (await p.get("/health"))?.status,
            200,
            `the right password in the URL connects: ${p.output.slice(-2000)}`,
          );
          expose(`${role.name} url-userinfo /metrics`, (await p.get("/metrics"))?.body);
          expose(`${role.name} url-userinfo /health`, (await p.get("/health"))?.body);
        } finally {
          const code = await p.stop();
          assert.equal(code, 0, `exit ${code}: ${p.output.slice(-2000)}`);
          expose(`${role.name} url-userinfo logs`, p.output);
        }
        const bad = await runFpm(
          [...role.args(ports), "--nats", `nats://fpm:${c.secrets[1]}@127.0.0.1:${server.port}`],
          { env: DEBUG },
        );
        expose(`${role.name} url-userinfo wrong-secret output`, bad.stdout + bad.stderr);
        assert.equal(bad.code, 3, bad.stderr);
        assert.match(
          bad.stderr,
          /could not connect to NATS at nats:\/\/127\.0\.0\.1:\d+ \(auth=user\/password/,
          "the URL is shown without its credentials, and the auth used is named",
        );
      } finally {
        await server.cleanup();
      }
    });

    test(`security - ${role.name} --help shows no secret from the environment`, async () => {
      const env: Record<string, string> = {
        NATS_AUTH_TOKEN: auth.cases[0].secrets[0],
        NATS_AUTH_USERNAME: "fpm",
        NATS_AUTH_PASSWORD: auth.cases[1].secrets[0],
        NATS_AUTH_NKEY: auth.cases[2].secrets[0],
        NATS_SERVER: `nats://fpm:${auth.cases[1].secrets[0]}@127.0.0.1:4222`,
      };
      const r = await runFpm([role.name, "--help"], { env: { ...DEBUG, ...env } });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /--nats-token/);
      expose(`${role.name} --help`, r.stdout + r.stderr);
      const top = await runFpm(["--help"], { env: { ...DEBUG, ...env } });
      expose("fpm --help", top.stdout + top.stderr);
    });
  }

  test("security - the metrics server binds only to --metrics-host", async () => {
    const server = await NatsServer.start();
    try {
      const metrics = await freePort();
      const p = new FpmProcess(
        [
          "relay",
          "--zmq-endpoint",
          `tcp://127.0.0.1:${await freePort()}`,
          "--metrics-port",
          String(metrics),
          "--metrics-host",
          "127.0.0.2",
          "--nats",
          server.url,
        ],
        { env: DEBUG },
      );
      try {
        await waitFor(
          async () => {
            if (!p.running) throw new Error(p.output);
            return (
              (await fetch(`http://127.0.0.2:${metrics}/health`).then(
                (r) => r.status,
                () => 0,
              )) === 200
            );
          },
          20_000,
          "relay /health on 127.0.0.2",
        );
        const other = await fetch(`http://127.0.0.1:${metrics}/metrics`).then(
          (r) => r.status,
          (e: Error) => String(e.cause ?? e),
        );
        assert.match(String(other), /ECONNREFUSED/, "nothing listens on 127.0.0.1 when bound to 127.0.0.2");
      } finally {
        await p.stop();
      }
    } finally {
      await server.cleanup();
    }
  });

  test("security - least privilege: relay and planner work under deploy/nats-accounts.conf, and the relay's user cannot read or forge decisions", async () => {
    const pw = accountPasswords();
    allSecrets.push(...Object.values(pw));
    const server = await startWithAccounts(pw);
    const zmq = await freePort();
    const relayPort = await freePort();
    const plannerPort = await freePort();
    const relay = new FpmProcess(
      [
        "relay",
        "--zmq-endpoint",
        `tcp://127.0.0.1:${zmq}`,
        "--metrics-port",
        String(relayPort),
        "--metrics-host",
        "127.0.0.1",
        "--nats",
        server.url,
      ],
      {
        env: { ...DEBUG, NATS_AUTH_USERNAME: "fpm-relay", NATS_AUTH_PASSWORD: pw.FPM_RELAY_PASSWORD },
        metricsPort: relayPort,
      },
    );
    const planner = new FpmProcess(
      [
        "planner",
        "--max-kv-tokens",
        "65536",
        "--metrics-port",
        String(plannerPort),
        "--metrics-host",
        "127.0.0.1",
        "--load-adjustment-interval",
        "1",
        "--nats",
        server.url,
      ],
      {
        env: { ...DEBUG, NATS_AUTH_USERNAME: "fpm-planner", NATS_AUTH_PASSWORD: pw.FPM_PLANNER_PASSWORD },
        metricsPort: plannerPort,
      },
    );
    const pub = await new FpmPublisher({
      endpoint: `tcp://127.0.0.1:${zmq}`,
      workerId: "w-lp",
      heartbeats: false,
    }).bind();
    const actuator = await connect({
      servers: server.url,
      user: "fpm-actuator",
      pass: pw.FPM_ACTUATOR_PASSWORD,
      reconnect: false,
    });
    try {
      const decisions = actuator.subscribe("namespace.*.planner.decisions");
      const decisionTexts: string[] = [];
      void (async () => {
        for await (const m of decisions) decisionTexts.push(m.string());
      })();
      await relay.waitHealthy();
      await planner.waitHealthy();
      // FPM flows relay -> planner under least privilege, and decisions reach the actuator.
      await waitFor(
        async () => {
          pub.publish({ wallTimeS: 0.01, scheduledRequests: { numDecodeRequests: 1, sumDecodeKvTokens: 100 } });
          return (await relay.metricSum("fpm_relay_forwarded_total")) >= 3 && decisions.getReceived() >= 1;
        },
        30_000,
        "FPM through the relay and a decision at the actuator",
      );
      assert.equal(await relay.metricSum("fpm_relay_dropped_total"), 0);

      // With the relay's password, reading FPM or publishing a decision is refused.
      const asRelay = await connect({
        servers: server.url,
        user: "fpm-relay",
        pass: pw.FPM_RELAY_PASSWORD,
        reconnect: false,
      });
      const violations: string[] = [];
      void (async () => {
        for await (const s of asRelay.status()) if (s.type === "error") violations.push(String(s.error?.message));
      })();
      asRelay.subscribe("namespace.*.component.*.forward-pass-metrics");
      asRelay.publish("namespace.dynamo.planner.decisions", '{"desired":99}');
      await asRelay.flush();
      await waitFor(() => violations.length >= 2, 10_000, "two permission violations");
      await sleep(300);
      await asRelay.close();
      assert.ok(
        violations.some((v) => /Subscription/.test(v)) && violations.some((v) => /Publish/.test(v)),
        violations.join("\n"),
      );
      assert.ok(decisionTexts.length >= 1);
      assert.ok(!decisionTexts.includes('{"desired":99}'), "the forged decision never reached the actuator");
    } finally {
      await pub.close();
      await actuator.close();
      const codes = [await relay.stop(), await planner.stop()];
      expose("least-privilege relay logs", relay.output);
      expose("least-privilege planner logs", planner.output);
      await server.cleanup();
      assert.deepEqual(codes, [0, 0], `clean exits\n${relay.output.slice(-1500)}\n${planner.output.slice(-1500)}`);
    }
  });

  test("security - no secret appears in any log, /metrics, /health, --help or error message", () => {
    assert.ok(exposed.length > 20, `searched ${exposed.length} outputs`);
    assert.ok(allSecrets.length >= 9, `${allSecrets.length} secrets`);
    const leaks: string[] = [];
    for (const { where, text } of exposed)
      for (const s of allSecrets) if (s && text.includes(s)) leaks.push(`${where}: contains ${s.slice(0, 6)}…`);
    assert.deepEqual(leaks, []);
  });
});
