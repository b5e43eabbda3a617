/**
 * Regression: on the ZMQ plane the relay handed every envelope straight to its PUB socket,
 * but zeromq.js allows one send in flight per socket; a burst from the engine threw
 * "Socket is busy writing" (EBUSY) out of the receive loop and killed the relay. Now sends
 * wait their turn in a bounded queue, and every message is accounted.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { FpmEventRelay } from "../../src/relay/relay.js";
import { Logger } from "../../src/util/log.js";
import { freePort, sleep, waitFor } from "../harness/ports.js";

test("regression - a burst on the ZMQ plane is queued per socket, not thrown, and every message is accounted", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-burst-kv-"));
  const port = await freePort();
  const engine = new FpmPublisher({ endpoint: `tcp://127.0.0.1:${port}`, workerId: "w", heartbeats: false });
  await engine.bind();
  const relay = new FpmEventRelay({
    endpoints: [{ dpRank: 0, url: `tcp://127.0.0.1:${port}` }],
    eventPlane: "zmq",
    discovery: { backend: "file", root, reason: "test" },
    advertiseHost: "127.0.0.1",
    scope: { namespace: "burst", component: "backend", endpoint: "generate" },
    logger: new Logger({ target: "test", level: "error" }),
  });
  await relay.start();
  try {
    const c = relay.metrics.rank(0);
    await waitFor(
      async () => {
        engine.publish({ wallTimeS: 0.01 });
        await sleep(10);
        return c.received > 0;
      },
      10_000,
      "the relay to join the engine",
    );
    for (let i = 0; i < 20_000; i++) engine.publish({ wallTimeS: 0.01 });
    await waitFor(() => engine.stats.queued === 0, 20_000, "the engine to send the burst");
    await waitFor(
      () => c.received === c.forwarded + c.droppedTotal() && c.received >= 10_000,
      20_000,
      "every message forwarded or counted",
    );
    assert.ok(c.forwarded > 0);
  } finally {
    await relay.stop();
    await engine.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
