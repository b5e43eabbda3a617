/**
 * Regression: `--nats nats://user:pass@host` (or NATS_SERVER with credentials) did not
 * authenticate, because the nats.js client ignores credentials inside a URL. They are now
 * taken out of the URL and used as user/password or token; credentials given both in the
 * URL and as options are a configuration error.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectNats, natsOptionsFromFlags } from "../../src/eventplane/connection.js";
import { Logger } from "../../src/util/log.js";
import { NatsServer } from "../harness/nats-server.js";

let server: NatsServer;
before(async () => {
  server = await NatsServer.start({ config: 'authorization { user: "alice", password: "s3cr%t" }' });
});
after(() => server.cleanup());

test("regression - credentials in a NATS URL become user/password or token and leave the URL", () => {
  const up = natsOptionsFromFlags({ nats: "nats://alice:s3cr%25t@127.0.0.1:4222" }, {});
  assert.deepEqual([up.user, up.password, up.token], ["alice", "s3cr%t", undefined]);
  assert.deepEqual(up.servers, ["nats://127.0.0.1:4222"]);
  const tok = natsOptionsFromFlags({}, { NATS_SERVER: "nats://t0ken@10.0.0.1:4222,nats://t0ken@10.0.0.2:4222" });
  assert.equal(tok.token, "t0ken");
  assert.deepEqual(tok.servers, ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]);
  assert.throws(
    () => natsOptionsFromFlags({ nats: "nats://alice:old@127.0.0.1:4222", natsToken: "new" }, {}),
    (err: Error) => err.name === "ConfigError" && /give them once/.test(err.message) && !err.message.includes("old"),
  );
  assert.throws(
    () => natsOptionsFromFlags({ nats: "nats://a:1@h1:4222,nats://b:2@h2:4222" }, {}),
    (err: Error) => err.name === "ConfigError" && !err.message.includes(":1@"),
  );
});

test("regression - a URL with credentials authenticates against a real nats-server", async () => {
  const lines: string[] = [];
  const logger = new Logger({ target: "test", json: true, sink: (l) => lines.push(l) });
  const conn = await connectNats(
    natsOptionsFromFlags({ nats: `nats://alice:s3cr%25t@127.0.0.1:${server.port}` }, {}),
    logger,
  );
  try {
    assert.ok(!conn.nc.isClosed());
  } finally {
    await conn.close();
  }
  assert.ok(!lines.join("\n").includes("s3cr"), "the password never reaches the logs");
  await assert.rejects(
    connectNats(natsOptionsFromFlags({ nats: `nats://alice:wrong@127.0.0.1:${server.port}` }, {}), logger),
    (err: Error) => err.name === "NatsConnectError" && !err.message.includes("wrong"),
  );
});
