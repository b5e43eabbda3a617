/**
 * `fpm relay` on the ZMQ plane through the real executable: Dynamo's defaults (endpoint scope,
 * the plane chosen from the discovery variables), its record in a file store while it runs and
 * gone after SIGTERM, and the start-up failures with their exit codes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Etcd3 } from "etcd3";
import { EtcdServer } from "../harness/etcd-server.js";
import { FpmProcess, runFpm } from "../harness/fpm-process.js";
import { freePort, waitFor } from "../harness/ports.js";

const CLEAN = {
  DYN_EVENT_PLANE: undefined,
  DYN_DISCOVERY_BACKEND: undefined,
  ETCD_ENDPOINTS: undefined,
  DYN_FILE_KV: undefined,
};

test("relay - with DYN_FILE_KV alone it picks ZMQ, registers an endpoint-scoped record, and removes it on SIGTERM", async () => {
  const kv = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-relay-kv-"));
  const port = await freePort();
  const relay = new FpmProcess(["relay", "--zmq-endpoint", `tcp://127.0.0.1:${port}`], {
    env: { ...CLEAN, DYN_FILE_KV: kv, DYN_EVENT_PLANE_HOST: "127.0.0.1", DYN_NAMESPACE: "cli" },
  });
  try {
    await relay.waitForLog("relay started");
    assert.match(relay.stderr, /event plane: zmq .*DYN_FILE_KV is set/);
    const dir = path.join(kv, "v1", "event_channels");
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(
      files[0],
      /^namespace%2Fcli%2Fcomponent%2Fbackend%2Fendpoint%2Fgenerate%2Ftopic%2Fforward%2Dpass%2Dmetrics%2F[0-9a-f]+$/,
    );
    const record = JSON.parse(fs.readFileSync(path.join(dir, files[0]), "utf8"));
    assert.equal(record.transport.kind, "Zmq");
    assert.match(record.transport.config.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    relay.proc.kill("SIGTERM");
    assert.equal(await relay.exited, 0);
    await waitFor(() => fs.readdirSync(dir).length === 0, 2000, "the record to go");
  } finally {
    relay.proc.kill("SIGKILL");
    fs.rmSync(kv, { recursive: true, force: true });
  }
});

test("relay - ZMQ start-up failures: etcd unreachable exits 3; broker mode and component scope exit 2", async () => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const etcd = await runFpm(["relay", "--zmq-endpoint", endpoint], {
    env: { ...CLEAN, ETCD_ENDPOINTS: `http://127.0.0.1:${await freePort()}` },
  });
  assert.equal(etcd.code, 3, etcd.stderr);
  assert.match(etcd.stderr, /could not reach etcd/);
  const broker = await runFpm(["relay", "--zmq-endpoint", endpoint], {
    env: { ...CLEAN, DYN_FILE_KV: os.tmpdir(), DYN_ZMQ_BROKER_URL: "tcp://127.0.0.1:5555" },
  });
  assert.equal(broker.code, 2);
  assert.match(broker.stderr, /broker mode/);
  const scope = await runFpm(["relay", "--zmq-endpoint", endpoint, "--component-scope", "--event-plane", "zmq"], {
    env: { ...CLEAN, DYN_FILE_KV: os.tmpdir() },
  });
  assert.equal(scope.code, 2);
  assert.match(scope.stderr, /endpoint-scoped/);
  const every = await runFpm(["tail", "--namespace", "*"], { env: { ...CLEAN, DYN_FILE_KV: os.tmpdir() } });
  assert.equal(every.code, 2);
  assert.match(every.stderr, /NATS plane only/);
  const plane = await runFpm(["tail"], { env: { ...CLEAN, DYN_EVENT_PLANE: "kafka" } });
  assert.equal(plane.code, 2);
  assert.match(plane.stderr, /DYN_EVENT_PLANE must be nats or zmq/);
});

test("relay - killed with SIGKILL, its etcd record goes when the lease expires (TTL 30 s); SIGTERM removes it at once", async () => {
  const etcd = await EtcdServer.start();
  const client = new Etcd3({ hosts: etcd.url });
  const prefix = "v1/event_channels/namespace/crash/";
  const keys = () => client.getAll().prefix(prefix).keys();
  const start = async () => {
    const relay = new FpmProcess(["relay", "--zmq-endpoint", `tcp://127.0.0.1:${await freePort()}`], {
      env: { ...CLEAN, ETCD_ENDPOINTS: etcd.url, DYN_EVENT_PLANE_HOST: "127.0.0.1", DYN_NAMESPACE: "crash" },
    });
    await relay.waitForLog("relay started");
    return relay;
  };
  try {
    const clean = await start();
    assert.equal((await keys()).length, 1);
    clean.proc.kill("SIGTERM");
    assert.equal(await clean.exited, 0);
    assert.equal((await keys()).length, 0, "a clean stop revokes the lease at once");

    const crashed = await start();
    assert.equal((await keys()).length, 1);
    const killedAt = Date.now();
    crashed.proc.kill("SIGKILL");
    await crashed.exited;
    await waitFor(async () => (await keys()).length === 0, 40_000, "the lease of the killed relay to expire");
    // Gone by the lease, not by anything the dead process did.
    assert.ok(Date.now() - killedAt > 5_000, "the record outlived the process until its lease ran out");
  } finally {
    client.close();
    await etcd.cleanup();
  }
});
