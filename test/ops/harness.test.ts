/**
 * The ops harnesses themselves, against the real binaries: the server configs the security
 * tests use accept the right secrets and refuse the wrong ones (checked with the plain nats
 * client, independent of fpm), the cluster forms its routes, Prometheus scrapes a target.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { Registry, Counter } from "prom-client";
import { NatsServer } from "../harness/nats-server.js";
import { NatsCluster } from "../harness/nats-cluster.js";
import { makeTestCertificates, natsTlsConfig } from "../harness/tls.js";
import { makeOperatorSetup, makeUserNkey } from "../harness/nats-credentials.js";
import { Prometheus } from "../harness/prometheus.js";
import { MetricsServer } from "../../src/metrics/http-server.js";
import { waitFor } from "../harness/ports.js";

async function refused(p: Promise<NatsConnection>): Promise<boolean> {
  try {
    const nc = await p;
    await nc.close();
    return false;
  } catch {
    return true;
  }
}

describe("ops harness", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-harness-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("ops harness - TLS certificates: right CA and client cert connect, other CA is refused", async () => {
    const certs = makeTestCertificates();
    const server = await NatsServer.start({ config: natsTlsConfig(certs) });
    try {
      const nc = await connect({
        servers: server.url,
        tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey },
        reconnect: false,
      });
      await nc.flush();
      await nc.close();
      assert.ok(
        await refused(
          connect({
            servers: server.url,
            tls: { caFile: certs.otherCaCert, certFile: certs.clientCert, keyFile: certs.clientKey },
            reconnect: false,
          }),
        ),
      );
      assert.ok(
        await refused(connect({ servers: server.url, tls: { caFile: certs.caCert }, reconnect: false })),
        "no client cert must be refused when verify is on",
      );
    } finally {
      await server.cleanup();
      certs.cleanup();
    }
  });

  test("ops harness - nkey user and JWT creds are accepted; a foreign seed is refused", async () => {
    const nk = makeUserNkey(dir);
    const s1 = await NatsServer.start({ config: `authorization { users = [ { nkey: ${nk.publicKey} } ] }` });
    const op = makeOperatorSetup(dir);
    const s2 = await NatsServer.start({ config: op.serverConfig });
    try {
      const nc = await connect({
        servers: s1.url,
        authenticator: nkeyAuthenticator(new TextEncoder().encode(nk.seed)),
        reconnect: false,
      });
      await nc.close();
      const other = makeUserNkey(fs.mkdtempSync(path.join(dir, "o")));
      assert.ok(
        await refused(
          connect({
            servers: s1.url,
            authenticator: nkeyAuthenticator(new TextEncoder().encode(other.seed)),
            reconnect: false,
          }),
        ),
      );

      const creds = op.makeCreds("harness");
      const nc2 = await connect({
        servers: s2.url,
        authenticator: credsAuthenticator(fs.readFileSync(creds.credsFile)),
        reconnect: false,
      });
      const sub = nc2.subscribe("x.y");
      nc2.publish("x.y", "hi");
      for await (const m of sub) {
        assert.equal(m.string(), "hi");
        break;
      }
      await nc2.close();
      assert.ok(
        await refused(connect({ servers: s2.url, reconnect: false })),
        "operator mode refuses anonymous clients",
      );
    } finally {
      await s1.cleanup();
      await s2.cleanup();
    }
  });

  test("ops harness - 3-node cluster forms routes and carries messages across nodes", async () => {
    const cluster = await NatsCluster.start();
    try {
      for (let i = 0; i < 3; i++) assert.equal(await cluster.routeCount(i), 2);
      const a = await connect({ servers: cluster.url(0) });
      const b = await connect({ servers: cluster.url(2) });
      const sub = b.subscribe("fpm.cluster.test");
      await b.flush();
      await waitFor(
        async () => {
          a.publish("fpm.cluster.test", "x");
          await a.flush();
          return sub.getReceived() > 0;
        },
        10_000,
        "a message across the cluster",
      );
      await a.close();
      await b.close();
      await cluster.kill(1);
      await cluster.restart(1);
      assert.equal(await cluster.routeCount(1), 2);
    } finally {
      await cluster.cleanup();
    }
  });

  test("ops harness - Prometheus scrapes a metrics server and answers queries", async () => {
    const registry = new Registry();
    const c = new Counter({ name: "fpm_harness_probe_total", help: "probe", registers: [registry] });
    c.inc(3);
    const ms = new MetricsServer({ registry, health: () => ({ healthy: true }), host: "127.0.0.1", port: 0 });
    const addr = await ms.start();
    const prom = await Prometheus.start({ targets: [{ job: "probe", address: `127.0.0.1:${addr.port}` }] });
    try {
      await waitFor(async () => (await prom.seriesCount("fpm_harness_probe_total")) > 0, 30_000, "the probe series");
      const data = await prom.query("fpm_harness_probe_total");
      assert.equal((data.result as { value: [number, string] }[])[0].value[1], "3");
      await assert.rejects(prom.query("sum(("), /PromQL/);
    } finally {
      await prom.cleanup();
      await ms.stop();
    }
  });
});
