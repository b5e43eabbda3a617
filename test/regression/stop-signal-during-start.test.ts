/**
 * Regression: `fpm relay` and `fpm planner` listened for SIGTERM only after their start-up
 * line and the metrics server, so a SIGTERM sent as soon as "relay started" / "planner
 * running" appeared killed them by the default handler (exit by signal, no clean shutdown,
 * a Dynamo discovery record left behind). The zmq-cli test failed this way on a busy machine.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { FpmProcess } from "../harness/fpm-process.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort } from "../harness/ports.js";

const CLEAN = { DYN_EVENT_PLANE: undefined, DYN_DISCOVERY_BACKEND: undefined, ETCD_ENDPOINTS: undefined };

/** Sends SIGTERM from the stderr listener itself, the moment `line` is written. */
function termOnLine(p: FpmProcess, line: string): void {
  let seen = "";
  p.proc.stderr!.on("data", (d: Buffer) => {
    if (seen.includes(line)) return;
    seen += d.toString();
    if (seen.includes(line)) p.proc.kill("SIGTERM");
  });
}

let nats: NatsServer;
before(async () => {
  nats = await NatsServer.start();
});
after(() => nats.cleanup());

test("regression - fpm relay stopped by SIGTERM right after it says it started exits 0 and leaves no record", async () => {
  const kv = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-stop-kv-"));
  try {
    const relay = new FpmProcess(
      ["relay", "--zmq-endpoint", `tcp://127.0.0.1:${await freePort()}`, "--metrics-port", "0"],
      { env: { ...CLEAN, DYN_FILE_KV: kv, DYN_EVENT_PLANE_HOST: "127.0.0.1" } },
    );
    termOnLine(relay, "relay started");
    assert.equal(await relay.exited, 0, relay.stderr.slice(-2000));
    const dir = path.join(kv, "v1", "event_channels");
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], "the record is removed");
  } finally {
    fs.rmSync(kv, { recursive: true, force: true });
  }
});

test("regression - fpm planner stopped by SIGTERM right after it says it is running exits 0", async () => {
  const planner = new FpmProcess(
    [
      "planner",
      "--nats",
      nats.url,
      "--optimization-target",
      "throughput",
      "--max-kv-tokens",
      "1000",
      "--metrics-port",
      "0",
    ],
    { env: { ...CLEAN, DYN_FILE_KV: undefined } },
  );
  termOnLine(planner, "planner running");
  assert.equal(await planner.exited, 0, planner.stderr.slice(-2000));
});
