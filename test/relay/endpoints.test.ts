/** Which endpoints a relay connects to, and the start-up warning for loopback ports in the ephemeral range. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { endpointsInEphemeralRange, resolveRelayEndpoints } from "../../src/relay/endpoints.js";
import { ephemeralPortRange } from "../../src/util/ports.js";
import { NatsServer } from "../harness/nats-server.js";
import { quietLogger, startRelay } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("relay endpoints - base port gives vLLM's tcp://127.0.0.1:{base+rank}; {rank} templates expand per rank", () => {
  assert.deepEqual(resolveRelayEndpoints({ basePort: 20380, dpStart: 2, dpSize: 2 }), [
    { dpRank: 2, url: "tcp://127.0.0.1:20382" },
    { dpRank: 3, url: "tcp://127.0.0.1:20383" },
  ]);
  assert.deepEqual(
    resolveRelayEndpoints({ zmqEndpoints: ["ipc:///tmp/fpm.{rank}"], dpSize: 2 }).map((e) => e.url),
    ["ipc:///tmp/fpm.0", "ipc:///tmp/fpm.1"],
  );
  assert.throws(
    () => resolveRelayEndpoints({ zmqEndpoints: ["tcp://127.0.0.1:1", "tcp://127.0.0.1:1"] }),
    /given twice/,
  );
  assert.throws(() => resolveRelayEndpoints({}), /DYN_FORWARDPASS_METRIC_PORT/);
});

test("relay endpoints - only loopback tcp ports inside the ephemeral range are flagged", () => {
  const eps = [
    { dpRank: 0, url: "tcp://127.0.0.1:20380" },
    { dpRank: 1, url: "tcp://127.0.0.1:40000" },
    { dpRank: 2, url: "tcp://localhost:32768" },
    { dpRank: 3, url: "tcp://[::1]:60999" },
    { dpRank: 4, url: "tcp://10.0.0.7:40000" },
    { dpRank: 5, url: "ipc:///tmp/fpm.5" },
    { dpRank: 6, url: "tcp://127.0.0.1:61000" },
  ];
  assert.deepEqual(
    endpointsInEphemeralRange(eps, [32768, 60999]).map((e) => e.dpRank),
    [1, 2, 3],
  );
});

test("relay endpoints - the relay warns at start about an engine port in the ephemeral range, and not otherwise", async () => {
  const nats = await NatsServer.start();
  cleanups.push(() => nats.cleanup());
  const [low] = ephemeralPortRange();
  for (const [port, warned] of [
    [low + 7, true],
    [low - 7, false],
  ] as const) {
    const lines: string[] = [];
    const relay = await startRelay({
      endpoints: [{ dpRank: 0, url: `tcp://127.0.0.1:${port}` }],
      nats: { servers: [nats.url] },
      logger: quietLogger(lines),
    });
    await relay.stop();
    const warning = lines.find((l) => l.includes("ephemeral range"));
    assert.equal(warning !== undefined, warned, lines.join("\n"));
    if (warned) assert.match(warning!, new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
  }
});
