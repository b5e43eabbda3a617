import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeFileKey,
  encodeFileKey,
  eventChannelKey,
  eventChannelPrefix,
  idOfKey,
} from "../../src/discovery/keys.js";
import { eventChannelJson, parseEventChannel, parseModelCard } from "../../src/discovery/records.js";

// Captured from Dynamo 1.6.1 (file and etcd discovery, docs/design/event-planes.md).
const DYNAMO_RECORD =
  '{"type":"EventChannel","scope":{"kind":"endpoint","endpoint":{"namespace":"dynamo","component":"backend","name":"generate"}},"topic":"forward-pass-metrics","instance_id":3417978316696244,"transport":{"kind":"Zmq","config":{"endpoint":"tcp://127.0.0.1:33351"}}}';

test("discovery - EventChannel records are written byte for byte as Dynamo writes them", () => {
  const json = eventChannelJson({
    scope: { namespace: "dynamo", component: "backend", endpoint: "generate" },
    topic: "forward-pass-metrics",
    instanceId: 3417978316696244n,
    transport: { kind: "Zmq", endpoint: "tcp://127.0.0.1:33351" },
  });
  assert.equal(json, DYNAMO_RECORD);
  const back = parseEventChannel(json);
  assert.ok(back.ok);
  assert.equal(back.value.instanceId, 3417978316696244n);
});

test("discovery - instance ids above 2^53 are read exactly", () => {
  const big = 18446744073709551557n;
  const r = parseEventChannel(DYNAMO_RECORD.replace("3417978316696244", big.toString()));
  assert.ok(r.ok);
  assert.equal(r.value.instanceId, big);
  const card = parseModelCard(
    '{"type":"Model","namespace":"dynamo","component":"backend","endpoint":"generate","instance_id":16273329045391755948,"card_json":{"kv_cache_block_size":16,"runtime_config":{"total_kv_blocks":1000,"max_num_batched_tokens":8192,"context_length":4096}}}',
  );
  assert.ok(card.ok);
  assert.equal(card.value.workerId, "16273329045391755948");
  assert.equal(card.value.maxNumBatchedTokens, 8192);
  assert.equal(card.value.contextLength, 4096);
  assert.equal(card.value.maxKvTokens, 16000);
});

test("discovery - malformed records are refused with a reason, never thrown", () => {
  for (const bad of ["", "{", "[]", '{"type":"Model"}', DYNAMO_RECORD.replace('"endpoint"', '"component"')]) {
    const r = parseEventChannel(bad);
    assert.equal(r.ok, false, bad);
  }
  assert.equal(parseEventChannel(DYNAMO_RECORD.replace(/"instance_id":\d+/, '"instance_id":-1')).ok, false);
  assert.equal(parseEventChannel(DYNAMO_RECORD.replace('"Zmq"', '"Tcp"')).ok, false);
});

test("discovery - keys: event channels by scope, hex ids, the file backend's percent-encoding", () => {
  const scope = { namespace: "dynamo", component: "backend", endpoint: "generate" };
  assert.equal(
    eventChannelKey(scope, 1224309391831834n),
    "v1/event_channels/namespace/dynamo/component/backend/endpoint/generate/topic/forward-pass-metrics/45980be65331a",
  );
  assert.equal(idOfKey(eventChannelKey(scope, 2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.equal(eventChannelPrefix({ namespace: "dynamo" }), "v1/event_channels/namespace/dynamo/");
  // As measured off Dynamo's file store: `/` %2F, `-` %2D, `_` %5F.
  assert.equal(
    encodeFileKey("my_ns-x/backend/generate/e1d67a8c079f4aac"),
    "my%5Fns%2Dx%2Fbackend%2Fgenerate%2Fe1d67a8c079f4aac",
  );
  assert.equal(decodeFileKey("my%5Fns%2Dx%2Fbackend"), "my_ns-x/backend");
  assert.equal(decodeFileKey("%E0%A4%A"), null);
});
