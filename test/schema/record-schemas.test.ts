/**
 * The JSON other programs read from the planner has a schema in `schemas/`, generated from
 * the one zod schema that parses it: the decision record (planner/decision-record.ts) and
 * the replica report (planner/replica-report.ts). A drift between a file and its zod schema
 * fails here; `npm run schemas:update` (or FPM_UPDATE_SCHEMAS=1 with this test) rewrites the
 * files. Real records of every mode and target go through the parser unchanged.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { z } from "zod";
import type { PlannerDecision } from "../../src/planner/decision.js";
import {
  DECISION_RECORD_VERSION,
  decisionRecordText,
  PlannerDecisionJson,
  parseDecisionRecord,
} from "../../src/planner/decision-record.js";
import { replayTrace } from "../../src/planner/offline-planner.js";
import { type PlannerConfig, resolvePlannerConfig } from "../../src/planner/planner-config.js";
import {
  MAX_REPORTED_WORKERS,
  MAX_WORKER_ID_LENGTH,
  parseReplicaReport,
  ReplicaReportJson,
  replicaReportText,
} from "../../src/planner/replica-report.js";
import { decisionRecord } from "../harness/decision-record.js";
import { REPO_ROOT } from "../harness/vectors.js";

const SCHEMAS: { file: string; schema: z.ZodType; version: number }[] = [
  { file: "planner_decision.v1.schema.json", schema: PlannerDecisionJson, version: DECISION_RECORD_VERSION },
  { file: "planner_replica_report.v1.schema.json", schema: ReplicaReportJson, version: 1 },
];

function generated(file: string, schema: z.ZodType, version: number): Record<string, unknown> {
  const body = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  const { $schema, ...rest } = body;
  return { $schema, $id: `https://fpm.dev/schemas/${file}`, "x-version": version, ...rest };
}

test("schema - the decision record and replica report JSON Schemas are what their zod schemas generate", () => {
  for (const { file, schema, version } of SCHEMAS) {
    const p = path.join(REPO_ROOT, "schemas", file);
    const want = generated(file, schema, version);
    if (process.env.FPM_UPDATE_SCHEMAS === "1") fs.writeFileSync(p, `${JSON.stringify(want, null, 2)}\n`);
    const have = fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, "utf8")) : null;
    assert.deepEqual(
      have,
      want,
      `schemas/${file} differs from its zod schema: if the record changed on purpose, run \`npm run schemas:update\` ` +
        "(and raise the version when a reader written for the old file would misread the new one)",
    );
  }
});

/** Records of each mode and target from the parity traces, through the offline planner. */
function realRecords(): PlannerDecision[] {
  const lines = fs
    .readFileSync(path.join(REPO_ROOT, "contract-tests", "traces", "planner_parity_v2.jsonl"), "utf8")
    .split("\n");
  const configs: Partial<PlannerConfig>[] = [
    { mode: "parity", parityRules: "pre-1.6", optimizationTarget: "sla", maxNumBatchedTokens: 2048 },
    { mode: "parity", parityRules: "1.6.1", optimizationTarget: "sla", maxNumBatchedTokens: 2048, maxKvTokens: 1e5 },
    { mode: "parity", optimizationTarget: "throughput", contextLength: 8192, maxKvTokens: 1e5 },
    { mode: "default", optimizationTarget: "sla", maxNumBatchedTokens: 2048, maxKvTokens: 1e5 },
    { mode: "default", optimizationTarget: "sla", maxNumBatchedTokens: 2048, ttftMs: 1, itlMs: 1 },
    { mode: "default", optimizationTarget: "load" },
  ];
  const out: PlannerDecision[] = [];
  for (const c of configs) replayTrace(lines, resolvePlannerConfig(c), (d) => out.push(d));
  return out;
}

/** What a reader gets from JSON: no undefined keys, non-finite numbers as null. */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

test("schema - real decision records of every mode and target parse to themselves", () => {
  const records = realRecords();
  const seen = new Set<string>();
  for (const d of records) {
    const r = parseDecisionRecord(decisionRecordText(d));
    assert.ok(r.ok, `${!r.ok && r.reason}: ${decisionRecordText(d).slice(0, 400)}`);
    assert.deepEqual(asJson(r.value), asJson(d), "no field is lost or changed");
    seen.add(`${d.mode}/${d.target}/${d.predicted ? "predicted" : "-"}/${d.rule}`);
  }
  const all = [...seen].join(" ");
  for (const want of ["parity/sla", "parity/throughput", "default/sla/predicted", "default/load"])
    assert.ok(all.includes(want), `records of ${want} were checked: ${all}`);
});

test("schema - an infinite prediction travels as null and reads back as Infinity", () => {
  const d = decisionRecord({
    predicted: {
      demand: 9,
      backlogS: 0,
      requestRate: 10,
      promptTokens: 100,
      replicasNeeded: 4,
      replicasWithBacklog: 4,
      limitedBy: "ttft",
      windowReplicas: 4,
      windowS: 60,
      utilizationAtDesired: 2.25,
      ttftMsAtDesired: Infinity,
      itlMsAtDesired: Infinity,
      kvUseAtDesired: null,
    },
  });
  const text = decisionRecordText(d);
  assert.match(text, /"ttftMsAtDesired":null/);
  const r = parseDecisionRecord(text);
  assert.ok(r.ok);
  assert.equal(r.value.predicted?.ttftMsAtDesired, Infinity);
});

test("schema - a message that is no decision record is refused with the field that is wrong", () => {
  const good = decisionRecord();
  for (const [bad, why] of [
    ["{", /not JSON/],
    [JSON.stringify([good]), /expected object/],
    [JSON.stringify({ ...good, desired: -1 }), /^desired:/],
    [JSON.stringify({ ...good, reason: "because" }), /^reason:/],
    [JSON.stringify({ ...good, rule: undefined }), /^rule:/],
    [JSON.stringify({ ...good, time: "yesterday" }), /^time:/],
    [JSON.stringify({ ...good, engines: [{ workerId: "w", dpRank: 0, ttftMs: "fast" }] }), /^engines\.0\.ttftMs:/],
    [JSON.stringify({ ...good, model: { ...good.model, status: "guess" } }), /^model\.status:/],
  ] as const) {
    const r = parseDecisionRecord(bad);
    assert.ok(!r.ok && why.test(r.reason), `${bad.slice(0, 80)}: ${!r.ok ? r.reason : "accepted"}`);
  }
  const withExtra = parseDecisionRecord(JSON.stringify({ ...good, later_field: 1 }));
  assert.ok(withExtra.ok, "a key it does not know is ignored");
});

test("schema - replica reports: written and read by one module, bounded", () => {
  const text = replicaReportText({ component: "backend", replicas: 2, pending: 1, workers: ["w0", "w1", "w2"] });
  assert.deepEqual(parseReplicaReport(Buffer.from(text)), {
    component: "backend",
    replicas: 2,
    pending: 1,
    workers: new Set(["w0", "w1", "w2"]),
  });
  assert.deepEqual(parseReplicaReport(Buffer.from('{"component":"b","replicas":0}')), { component: "b", replicas: 0 });
  for (const bad of [
    "nope",
    "null",
    '{"replicas":1}',
    '{"component":"b","replicas":1.5}',
    '{"component":"b","replicas":1,"pending":-1}',
    JSON.stringify({ component: "b", replicas: 1, workers: ["x".repeat(MAX_WORKER_ID_LENGTH + 1)] }),
    JSON.stringify({ component: "b", replicas: 1, workers: Array.from({ length: MAX_REPORTED_WORKERS + 1 }, String) }),
  ])
    assert.equal(parseReplicaReport(Buffer.from(bad)), null, bad.slice(0, 80));
});
