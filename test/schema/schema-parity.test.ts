/**
 * The TypeScript field tables and the zod schema against `schemas/*.schema.json`, the single
 * source of truth: a drift in name, order, kind or default fails naming the field.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ENVELOPE_FIELDS,
  FPM_FIELDS,
  type FieldSpec,
  ForwardPassMetricsJson,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
} from "../../src/index.js";
import { QueuedRequestMetricsJson, ScheduledRequestMetricsJson } from "../../src/schema/zod.js";
import { readSchema } from "../harness/vectors.js";

const fpmSchema = readSchema("forward_pass_metrics.v1.schema.json");
const envelopeSchema = readSchema("event_envelope.v1.schema.json");

function kindOf(prop: any): string {
  if (prop.$ref?.endsWith("ScheduledRequestMetrics")) return "scheduled";
  if (prop.$ref?.endsWith("QueuedRequestMetrics")) return "queued";
  return (
    ({ integer: "int", number: "float", string: "str" } as Record<string, string>)[prop.type] ?? `unknown(${prop.type})`
  );
}

function compareTable(where: string, obj: any, table: readonly FieldSpec<string>[]) {
  assert.deepEqual(
    table.map((f) => f.wire),
    obj["x-field-order"],
    `${where}: field order differs from the schema`,
  );
  for (const f of table) {
    const prop = obj.properties[f.wire];
    assert.ok(prop, `${where}.${f.wire}: not in the schema`);
    assert.equal(f.kind, kindOf(prop), `${where}.${f.wire}: kind differs`);
    assert.equal(f.name, prop["x-ts-name"], `${where}.${f.wire}: TypeScript name differs`);
  }
}

test("schema - FPM field tables match the JSON Schema (names, order, kinds)", () => {
  compareTable("$", fpmSchema, FPM_FIELDS);
  compareTable("$.scheduled_requests", fpmSchema.$defs.ScheduledRequestMetrics, SCHEDULED_FIELDS);
  compareTable("$.queued_requests", fpmSchema.$defs.QueuedRequestMetrics, QUEUED_FIELDS);
});

test("schema - envelope field table matches the JSON Schema", () => {
  assert.deepEqual(
    ENVELOPE_FIELDS.map((f) => f.wire),
    envelopeSchema["x-field-order"],
  );
  for (const f of ENVELOPE_FIELDS) {
    const prop = envelopeSchema.properties[f.wire];
    assert.equal(f.name, prop["x-ts-name"], `envelope.${f.wire}: TypeScript name differs`);
    assert.equal(f.kind, prop["x-msgpack"], `envelope.${f.wire}: msgpack kind differs`);
  }
});

/** Checks a zod object against a schema object by behaviour: key order, defaults, int vs float. */
function compareZod(where: string, zodObject: any, obj: any) {
  assert.deepEqual(Object.keys(zodObject.shape), obj["x-field-order"], `${where}: zod key order differs`);
  const defaults = zodObject.parse({});
  for (const key of obj["x-field-order"]) {
    const prop = obj.properties[key];
    assert.deepEqual(defaults[key], prop.default, `${where}.${key}: zod default differs from the schema`);
    const kind = kindOf(prop);
    const field = zodObject.shape[key];
    if (kind === "int" || kind === "float") {
      assert.equal(
        field.safeParse(1.5).success,
        kind === "float",
        `${where}.${key}: zod ${kind === "int" ? "accepts" : "rejects"} 1.5`,
      );
      assert.equal(field.safeParse(3).success, key !== "version", `${where}.${key}: zod must accept an int`);
      assert.equal(field.safeParse("3").success, false, `${where}.${key}: zod must reject a string`);
    }
    if (kind === "str") {
      assert.equal(field.safeParse("x").success, true, `${where}.${key}: zod must accept a string`);
      assert.equal(field.safeParse(null).success, false, `${where}.${key}: zod must reject null`);
    }
  }
}

test("schema - zod schemas match the JSON Schema (order, defaults, int vs float)", () => {
  compareZod("$", ForwardPassMetricsJson, fpmSchema);
  compareZod("$.scheduled_requests", ScheduledRequestMetricsJson, fpmSchema.$defs.ScheduledRequestMetrics);
  compareZod("$.queued_requests", QueuedRequestMetricsJson, fpmSchema.$defs.QueuedRequestMetrics);
  assert.equal(ForwardPassMetricsJson.shape.version.safeParse(1).success, true, "version 1 accepted");
});

test("schema - a drifted table is caught and the message names the field", () => {
  const drifted = SCHEDULED_FIELDS.map((f) => (f.wire === "var_prefill_length" ? { ...f, kind: "int" as const } : f));
  assert.throws(
    () => compareTable("$.scheduled_requests", fpmSchema.$defs.ScheduledRequestMetrics, drifted),
    /var_prefill_length: kind differs/,
  );
});
