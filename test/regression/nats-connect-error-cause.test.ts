/**
 * Regression: `connectNats` wrapped the client's failure in a NatsConnectError but dropped
 * it, so a library user could not tell a refused connection from an authorization
 * violation except by parsing our message. The client's error is now the `cause`; the
 * secret is in neither the message nor the cause (util.inspect prints both).
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { after, before, test } from "node:test";
import { connectNats } from "../../src/eventplane/connection.js";
import { NatsConnectError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { freePort } from "../harness/ports.js";
import { NatsServer } from "../harness/nats-server.js";

const SECRET = "pw-9d1c-not-in-any-output";
const logger = new Logger({ target: "test", level: "error", sink: () => undefined });
let server: NatsServer;
before(async () => {
  server = await NatsServer.start({ config: `authorization { user: "alice", password: "${SECRET}x" }` });
});
after(() => server.cleanup());

async function connectError(opts: Parameters<typeof connectNats>[0]): Promise<NatsConnectError> {
  try {
    const conn = await connectNats(opts, logger);
    await conn.close();
  } catch (err) {
    assert.ok(err instanceof NatsConnectError, `a NatsConnectError, got ${inspect(err)}`);
    return err;
  }
  throw new Error("connectNats succeeded");
}

test("regression - NatsConnectError keeps the client's error as its cause (nothing listening)", async () => {
  const port = await freePort();
  const err = await connectError({ servers: [`nats://127.0.0.1:${port}`], connectTimeoutMs: 2000 });
  assert.equal(err.name, "NatsConnectError");
  assert.ok(err.cause instanceof Error, `cause is the client's error, got ${inspect(err.cause)}`);
  assert.match(err.message, /unreachable/);
});

test("regression - NatsConnectError keeps the cause of an authorization failure, without the secret", async () => {
  const err = await connectError({ servers: [server.url], user: "alice", password: SECRET, connectTimeoutMs: 5000 });
  assert.ok(err.cause instanceof Error, `cause is the client's error, got ${inspect(err.cause)}`);
  assert.match(err.message, /authentication refused/);
  assert.ok(!inspect(err).includes(SECRET), "the password is in neither the message nor the cause");
});
