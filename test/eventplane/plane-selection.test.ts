import assert from "node:assert/strict";
import { test } from "node:test";
import { discoveryFromEnv } from "../../src/discovery/selection.js";
import { logEventPlane, selectEventPlane } from "../../src/eventplane/plane-selection.js";
import { ConfigError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";

test("eventplane - unset DYN_EVENT_PLANE: ZMQ when a discovery backend is configured, else NATS", () => {
  assert.equal(selectEventPlane(undefined, {}).plane, "nats");
  assert.equal(selectEventPlane(undefined, {}).discovery, null);
  for (const env of [
    { DYN_DISCOVERY_BACKEND: "etcd" },
    { DYN_DISCOVERY_BACKEND: "file" },
    { ETCD_ENDPOINTS: "http://127.0.0.1:2379" },
    { DYN_FILE_KV: "/tmp/kv" },
  ]) {
    const c = selectEventPlane(undefined, env);
    assert.equal(c.plane, "zmq", JSON.stringify(env));
    assert.match(c.reason, /discovery backend is configured/);
  }
});

test("eventplane - the flag wins over DYN_EVENT_PLANE, which wins over the discovery rule", () => {
  assert.equal(selectEventPlane("nats", { DYN_EVENT_PLANE: "zmq", DYN_FILE_KV: "/x" }).plane, "nats");
  assert.equal(selectEventPlane(undefined, { DYN_EVENT_PLANE: "nats", DYN_FILE_KV: "/x" }).plane, "nats");
  const zmq = selectEventPlane(undefined, { DYN_EVENT_PLANE: "ZMQ" });
  assert.equal(zmq.plane, "zmq");
  assert.equal(zmq.reason, "DYN_EVENT_PLANE=zmq");
  // ZMQ with nothing configured falls back to Dynamo's default backend, etcd on localhost.
  assert.deepEqual(zmq.discovery && { ...zmq.discovery, reason: "" }, {
    backend: "etcd",
    endpoints: ["http://127.0.0.1:2379"],
    reason: "",
  });
  // NATS keeps a configured backend (the planner can read model cards from it).
  assert.equal(selectEventPlane("nats", { DYN_FILE_KV: "/x" }).discovery?.backend, "file");
});

test("eventplane - bad values and broker mode are configuration errors that say what to change", () => {
  assert.throws(() => selectEventPlane(undefined, { DYN_EVENT_PLANE: "kafka" }), /DYN_EVENT_PLANE must be nats or zmq/);
  assert.throws(() => selectEventPlane("x", {}), ConfigError);
  assert.throws(
    () => selectEventPlane("zmq", { DYN_ZMQ_BROKER_URL: "tcp://broker:5555" }),
    /DYN_ZMQ_BROKER_URL asks for ZMQ broker mode/,
  );
  assert.throws(() => selectEventPlane("zmq", { DYN_ZMQ_BROKER_ENABLED: "true" }), /broker mode/);
  // Broker settings do not matter on NATS.
  assert.equal(selectEventPlane("nats", { DYN_ZMQ_BROKER_URL: "tcp://b:1" }).plane, "nats");
});

test("discovery - DYN_DISCOVERY_BACKEND as Dynamo reads it; etcd before file when only endpoints/dirs are set", () => {
  assert.equal(discoveryFromEnv({}), null);
  assert.deepEqual(discoveryFromEnv({ DYN_DISCOVERY_BACKEND: "file", DYN_FILE_KV: "/kv" }), {
    backend: "file",
    root: "/kv",
    reason: "DYN_DISCOVERY_BACKEND=file",
  });
  assert.equal(
    (discoveryFromEnv({ DYN_DISCOVERY_BACKEND: "file", TMPDIR: "/scratch" }) as { root: string }).root,
    "/scratch/dynamo_store_kv",
  );
  assert.deepEqual(discoveryFromEnv({ ETCD_ENDPOINTS: "http://a:2379, http://b:2379", DYN_FILE_KV: "/kv" }), {
    backend: "etcd",
    endpoints: ["http://a:2379", "http://b:2379"],
    reason: "ETCD_ENDPOINTS is set",
  });
  assert.throws(() => discoveryFromEnv({ DYN_DISCOVERY_BACKEND: "mem" }), /cannot be shared/);
  assert.throws(() => discoveryFromEnv({ DYN_DISCOVERY_BACKEND: "kubernetes" }), /not supported.*event-planes\.md/);
  assert.throws(() => discoveryFromEnv({ DYN_DISCOVERY_BACKEND: "consul" }), /must be etcd or file/);
  assert.throws(() => discoveryFromEnv({ ETCD_ENDPOINTS: "etcd:2379" }), /not a URL/);
});

test("eventplane - one start-up line says which plane and why", () => {
  const lines: string[] = [];
  const logger = new Logger({ target: "fpm.relay", json: true, level: "info", sink: (l) => lines.push(l) });
  logEventPlane(selectEventPlane(undefined, { DYN_FILE_KV: "/kv" }), logger);
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]);
  assert.equal(o.message, "event plane: zmq");
  assert.equal(o.plane, "zmq");
  assert.match(o.reason, /DYN_FILE_KV is set/);
  assert.equal(o.discovery, "file /kv");
});
