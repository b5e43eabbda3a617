import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import {
  addNatsCliOptions,
  connectNats,
  natsOptionsFromFlags,
  redactSecrets,
  redactUrl,
} from "../../src/eventplane/connection.js";
import { ConfigError, NatsConnectError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { NatsServer } from "../harness/nats-server.js";
import { makeOperatorSetup } from "../harness/nats-credentials.js";
import { freePort, waitFor } from "../harness/ports.js";
import { makeTestCertificates, natsTlsConfig } from "../harness/tls.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ target: "test", level: "trace", sink: (l) => lines.push(l) }), lines };
}

test("eventplane - options come from flags, then Dynamo's env vars, then defaults", () => {
  assert.deepEqual(natsOptionsFromFlags({}, {}).servers, ["nats://127.0.0.1:4222"]);
  const certs = makeTestCertificates();
  cleanups.push(() => certs.cleanup());
  const o = natsOptionsFromFlags(
    {},
    { NATS_SERVER: "nats://a:4222, nats://b:4222", NATS_AUTH_TOKEN: "t", NATS_TLS_CA_CERT_PATH: certs.caCert },
  );
  assert.deepEqual(o.servers, ["nats://a:4222", "nats://b:4222"]);
  assert.equal(o.token, "t");
  assert.equal(o.tlsCaFile, certs.caCert);
  assert.equal(
    natsOptionsFromFlags({ nats: "nats://c:1", natsToken: "f" }, { NATS_SERVER: "nats://a:4222", NATS_AUTH_TOKEN: "t" })
      .token,
    "f",
  );
  // Dynamo's priority: user/password wins over a token.
  const up = natsOptionsFromFlags({}, { NATS_AUTH_USERNAME: "u", NATS_AUTH_PASSWORD: "p", NATS_AUTH_TOKEN: "t" });
  assert.equal(up.user, "u");
  assert.equal(up.token, undefined);
  assert.throws(() => natsOptionsFromFlags({ natsUser: "u" }, {}), ConfigError);
  assert.throws(() => natsOptionsFromFlags({ natsTlsCert: "/etc/hostname" }, {}), ConfigError);
  assert.throws(() => natsOptionsFromFlags({ natsCreds: "/nope.creds" }, {}), ConfigError);
  assert.throws(() => natsOptionsFromFlags({ nats: "ws://h:1" }, {}), ConfigError);
  assert.throws(() => natsOptionsFromFlags({ nats: " , " }, {}), ConfigError);
});

test("eventplane - addNatsCliOptions gives commands the same flags", () => {
  const cmd = addNatsCliOptions(new Command("x").exitOverride());
  cmd.parse(["--nats", "nats://h:1", "--nats-user", "u", "--nats-password", "p", "--nats-tls-ca", "/c"], {
    from: "user",
  });
  assert.deepEqual(cmd.opts(), { nats: "nats://h:1", natsUser: "u", natsPassword: "p", natsTlsCa: "/c" });
});

test("eventplane - secrets are redacted from URLs and texts", () => {
  assert.equal(redactUrl("nats://user:pw@h:4222"), "nats://***@h:4222");
  const opts = natsOptionsFromFlags({ nats: "nats://u:hunter2@h:4222" }, {});
  const text = redactSecrets("failed nats://u:hunter2@h:4222 with hunter2", opts);
  assert.ok(!text.includes("hunter2"), text);
  const tokenOpts = natsOptionsFromFlags({ nats: "nats://h:4222", natsToken: "tok-123" }, {});
  assert.ok(!redactSecrets("failed with tok-123", tokenOpts).includes("tok-123"));
});

test("eventplane - token and user/password authentication against a real server; a wrong secret is a NatsConnectError without the secret", async () => {
  const tokenServer = await NatsServer.start({ config: "authorization { token: right-token-123 }" });
  cleanups.push(() => tokenServer.cleanup());
  const { logger, lines } = capture();
  const ok = await connectNats(
    natsOptionsFromFlags({ nats: tokenServer.url, natsToken: "right-token-123" }, {}),
    logger,
  );
  assert.equal(ok.state, "connected");
  await ok.close();
  await assert.rejects(
    connectNats(natsOptionsFromFlags({ nats: tokenServer.url, natsToken: "wrong-token-456" }, {}), logger),
    (err: Error) => {
      assert.ok(err instanceof NatsConnectError);
      assert.match(err.message, /authentication refused/);
      assert.ok(!err.message.includes("wrong-token-456"));
      return true;
    },
  );
  const userServer = await NatsServer.start({
    config: 'authorization { users: [ { user: relay, password: "pw-789" } ] }',
  });
  cleanups.push(() => userServer.cleanup());
  const up = await connectNats(
    natsOptionsFromFlags(
      {},
      { NATS_SERVER: userServer.url, NATS_AUTH_USERNAME: "relay", NATS_AUTH_PASSWORD: "pw-789" },
    ),
    logger,
  );
  await up.close();
  await assert.rejects(
    connectNats(
      natsOptionsFromFlags(
        {},
        { NATS_SERVER: userServer.url, NATS_AUTH_USERNAME: "relay", NATS_AUTH_PASSWORD: "nope-000" },
      ),
      logger,
    ),
    NatsConnectError,
  );
  assert.ok(
    lines.every((l) => !/right-token-123|wrong-token-456|pw-789|nope-000/.test(l)),
    "no secret in any log line",
  );
});

test("eventplane - creds file (JWT) and mutual TLS against a real server", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-ep-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const op = makeOperatorSetup(dir);
  const jwtServer = await NatsServer.start({ config: op.serverConfig });
  cleanups.push(() => jwtServer.cleanup());
  const { credsFile } = op.makeCreds("relay");
  const { logger } = capture();
  const c = await connectNats(natsOptionsFromFlags({ nats: jwtServer.url, natsCreds: credsFile }, {}), logger);
  assert.equal(c.state, "connected");
  await c.close();

  const certs = makeTestCertificates();
  cleanups.push(() => certs.cleanup());
  const tlsServer = await NatsServer.start({ config: natsTlsConfig(certs, true) });
  cleanups.push(() => tlsServer.cleanup());
  const t = await connectNats(
    natsOptionsFromFlags(
      { nats: tlsServer.url, natsTlsCa: certs.caCert, natsTlsCert: certs.clientCert, natsTlsKey: certs.clientKey },
      {},
    ),
    logger,
  );
  assert.equal(t.state, "connected");
  await t.close();
  await assert.rejects(
    connectNats(
      natsOptionsFromFlags(
        {
          nats: tlsServer.url,
          natsTlsCa: certs.otherCaCert,
          natsTlsCert: certs.clientCert,
          natsTlsKey: certs.clientKey,
        },
        {},
      ),
      logger,
    ),
    NatsConnectError,
  );
});

test("eventplane - unreachable at start is a NatsConnectError; once connected, the connection reports outages and comes back", async () => {
  const { logger } = capture();
  await assert.rejects(
    connectNats({ servers: [`nats://127.0.0.1:${await freePort()}`] }, logger),
    (err: Error) => err instanceof NatsConnectError && /unreachable/.test(err.message),
  );
  const server = await NatsServer.start();
  cleanups.push(() => server.cleanup());
  const conn = await connectNats({ servers: [server.url], reconnectMinMs: 50, reconnectMaxMs: 200 }, logger);
  cleanups.push(() => conn.close());
  const states: string[] = [];
  conn.onStatus((e) => states.push(e.state));
  await server.stop();
  await waitFor(() => conn.state === "disconnected", 10_000, "disconnected");
  await server.restart();
  await waitFor(() => conn.state === "connected", 15_000, "reconnected");
  assert.equal(conn.reconnects, 1);
  assert.deepEqual(
    states.filter((s, i) => s !== states[i - 1]),
    ["disconnected", "connected"],
  );
});

test("eventplane - natsOptionsFromEnv reads what a Dynamo component reads, with the library's name", async () => {
  const { natsOptionsFromEnv } = await import("../../src/eventplane/connection.js");
  const o = natsOptionsFromEnv({ NATS_SERVER: "nats://10.0.0.1:4222", NATS_AUTH_TOKEN: "t" }, "my-app");
  assert.deepEqual([o.servers, o.token, o.name], [["nats://10.0.0.1:4222"], "t", "my-app"]);
  assert.deepEqual(natsOptionsFromEnv({}).servers, ["nats://127.0.0.1:4222"]);
});
