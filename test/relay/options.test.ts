import assert from "node:assert/strict";
import { test } from "node:test";
import { fpmSubject } from "../../src/eventplane/subject.js";
import { relayOptionsFromFlags } from "../../src/relay/options.js";
import { FpmEventRelay } from "../../src/relay/relay.js";

const ENV = { DYN_FORWARDPASS_METRIC_PORT: "20400" };

test("relay - fpm relay defaults to Dynamo 1.6.1's endpoint scope (backend/generate); --component-scope for older runtimes", () => {
  const o = relayOptionsFromFlags({}, ENV);
  assert.deepEqual(o.relay.scope, { namespace: "dynamo", component: "backend", endpoint: "generate" });
  assert.equal(fpmSubject(o.relay.scope), "namespace.dynamo.component.backend.endpoint.generate.forward-pass-metrics");
  assert.equal(o.relay.eventPlane, "nats");
  const old = relayOptionsFromFlags({ componentScope: true }, ENV);
  assert.equal(old.relay.scope?.endpoint, undefined);
  assert.throws(() => relayOptionsFromFlags({ componentScope: true, endpoint: "x" }, ENV), /contradict/);
});

test("relay - FpmEventRelay as a library defaults to the same endpoint scope as fpm relay (Dynamo 1.6.1's)", () => {
  const base = { endpoints: [{ dpRank: 0, url: "tcp://127.0.0.1:20400" }], nats: { servers: ["nats://127.0.0.1:1"] } };
  const fromCommand = relayOptionsFromFlags({ namespace: "lib" }, ENV).relay;
  assert.equal(new FpmEventRelay({ ...base, scope: { namespace: "lib" } }).subject, fpmSubject(fromCommand.scope));
  assert.equal(
    new FpmEventRelay({ ...base, scope: { namespace: "lib" } }).subject,
    "namespace.lib.component.backend.endpoint.generate.forward-pass-metrics",
  );
  assert.equal(
    new FpmEventRelay({ ...base, scope: { namespace: "lib", endpoint: "chat" } }).subject,
    "namespace.lib.component.backend.endpoint.chat.forward-pass-metrics",
  );
  assert.equal(
    new FpmEventRelay({ ...base, scope: { namespace: "lib" }, componentScope: true }).subject,
    "namespace.lib.component.backend.forward-pass-metrics",
    "component scope on request, as --component-scope",
  );
  assert.throws(
    () => new FpmEventRelay({ ...base, scope: { endpoint: "x" }, componentScope: true }),
    /componentScope and scope.endpoint contradict/,
  );
});

test("relay - DYN_FPM_TRACE without DYN_FORWARDPASS_METRIC_PORT means base port 20380", () => {
  assert.deepEqual(relayOptionsFromFlags({}, { DYN_FPM_TRACE: "true" }).relay.endpoints, [
    { dpRank: 0, url: "tcp://127.0.0.1:20380" },
  ]);
  assert.equal(
    relayOptionsFromFlags({}, { DYN_FPM_TRACE: "1", DYN_FORWARDPASS_METRIC_PORT: "21000" }).relay.endpoints[0].url,
    "tcp://127.0.0.1:21000",
  );
  assert.throws(() => relayOptionsFromFlags({}, { DYN_FPM_TRACE: "false" }), /no engine endpoint/);
});

test("relay - the ZMQ plane takes the discovery backend and the advertised host from Dynamo's variables", () => {
  const o = relayOptionsFromFlags({}, { ...ENV, ETCD_ENDPOINTS: "http://etcd:2379", DYN_EVENT_PLANE_HOST: "10.0.0.7" });
  assert.equal(o.relay.eventPlane, "zmq");
  assert.equal(o.relay.nats, undefined, "no NATS settings are read on ZMQ");
  assert.deepEqual(o.relay.discovery?.backend === "etcd" && o.relay.discovery.endpoints, ["http://etcd:2379"]);
  assert.equal(o.relay.advertiseHost, "10.0.0.7");
  assert.throws(
    () => relayOptionsFromFlags({}, { ...ENV, DYN_FILE_KV: "/kv", DYN_EVENT_PLANE_HOST: "tcp://x" }),
    /host name/,
  );
});
