/**
 * Regression: the cluster test failed with "cannot bind FPM publisher ... Address already in
 * use". freePort let the kernel choose (bind 0), which hands out ephemeral ports: the same
 * ones outgoing connections use, including a ZMQ SUB reconnecting to a port nobody listens
 * on yet, which can end up connected to itself there. Two calls could also return the same
 * port before either was bound. Ports now come from below the ephemeral range and are
 * never handed out twice by one process.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { ephemeralPortRange, freePort, freePortBlock, portIsFree } from "../../src/util/ports.js";

test("ports - freePort gives distinct free ports below the kernel's ephemeral range", async () => {
  const [ephemeralLow] = ephemeralPortRange();
  const ports: number[] = [];
  for (let i = 0; i < 200; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length, "a port was handed out twice");
  for (const p of ports)
    assert.ok(p >= 1024 && p < ephemeralLow, `port ${p} is in the ephemeral range from ${ephemeralLow}`);
  // Each one can actually be bound.
  for (const p of ports.slice(0, 20)) assert.ok(await portIsFree(p));
});

test("ports - freePortBlock gives consecutive free ports that freePort then avoids", async () => {
  const base = await freePortBlock(8);
  const block = new Set(Array.from({ length: 8 }, (_, i) => base + i));
  for (const p of block) assert.ok(await portIsFree(p));
  for (let i = 0; i < 200; i++) assert.ok(!block.has(await freePort()));
});

test("ports - portIsFree is false for a port in use", async () => {
  const port = await freePort();
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
  try {
    assert.equal(await portIsFree(port), false);
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
  assert.equal(await portIsFree(port), true);
});
