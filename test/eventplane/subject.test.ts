import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeSubjectSegment,
  fpmSubject,
  fpmSubscriptionSubject,
  fpmSubscriptionSubjects,
} from "../../src/eventplane/subject.js";

test("eventplane - segments percent-encode every byte outside [A-Za-z0-9_-], upper-case hex per UTF-8 byte", () => {
  assert.equal(encodeSubjectSegment("backend_v2-x"), "backend_v2-x");
  assert.equal(encodeSubjectSegment("a.b"), "a%2Eb");
  assert.equal(encodeSubjectSegment("a b*>%"), "a%20b%2A%3E%25");
  assert.equal(encodeSubjectSegment("é"), "%C3%A9");
  assert.equal(encodeSubjectSegment("\u{1F600}"), "%F0%9F%98%80");
  assert.equal(encodeSubjectSegment(""), "");
});

test("eventplane - FPM subjects follow Dynamo's component and endpoint scopes and defaults", () => {
  assert.equal(fpmSubject({}, {}), "namespace.dynamo.component.backend.forward-pass-metrics");
  assert.equal(fpmSubject({}, { DYN_NAMESPACE: "prod" }), "namespace.prod.component.backend.forward-pass-metrics");
  assert.equal(
    fpmSubject({ namespace: "x", component: "prefill.worker", endpoint: "generate" }, {}),
    "namespace.x.component.prefill%2Eworker.endpoint.generate.forward-pass-metrics",
  );
});

test("eventplane - subscriber subjects put wildcards where the scope is open", () => {
  assert.equal(fpmSubscriptionSubject({}, {}), "namespace.dynamo.component.*.forward-pass-metrics");
  assert.equal(
    fpmSubscriptionSubject({ namespace: "*", endpoint: "*" }, {}),
    "namespace.*.component.*.endpoint.*.forward-pass-metrics",
  );
  assert.equal(
    fpmSubscriptionSubject({ component: "a.b" }, { DYN_NAMESPACE: "n" }),
    "namespace.n.component.a%2Eb.forward-pass-metrics",
  );
  assert.deepEqual(fpmSubscriptionSubjects({}, {}), [
    "namespace.dynamo.component.*.forward-pass-metrics",
    "namespace.dynamo.component.*.endpoint.*.forward-pass-metrics",
  ]);
});
