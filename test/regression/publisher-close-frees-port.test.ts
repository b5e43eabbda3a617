/**
 * Regression: ZMQ releases a closed PUB socket's port after close() returns, so an engine
 * restarted in the same process could fail to bind it ("Address already in use"; the relay's
 * restart test failed about one run in six). bind() now retries a port in use for a moment.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { freePort } from "../harness/ports.js";

test("regression - a closed publisher's tcp port can be bound again at once", async () => {
  const url = `tcp://127.0.0.1:${await freePort()}`;
  for (let i = 0; i < 100; i++) {
    const pub = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
    pub.publish({ wallTimeS: 0.01 });
    await pub.close();
  }
  // Each bind above would have thrown ConfigError (EADDRINUSE) had the port still been held.
  const last = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
  assert.equal(last.publish({ wallTimeS: 0.01 }), true);
  await last.close();
});

test("regression - a port held by a live publisher is still refused, as a ConfigError", async () => {
  const url = `tcp://127.0.0.1:${await freePort()}`;
  const holder = await new FpmPublisher({ endpoint: url, heartbeats: false }).bind();
  try {
    const second = new FpmPublisher({ endpoint: url, heartbeats: false });
    await assert.rejects(second.bind(), { name: "ConfigError", message: /Address already in use/ });
    await second.close();
  } finally {
    await holder.close();
  }
});
