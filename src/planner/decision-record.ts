/**
 * The decision record as other programs read it, written and parsed here only: one JSON
 * object per tick and component, what `fpm planner` prints (stdout or --decisions-file),
 * `fpm replay --to-planner` prints and the virtual connector publishes on
 * `namespace.{ns}.planner.decisions`. The zod schema below is the single source:
 * `schemas/planner_decision.v1.schema.json` is generated from it (`npm run schemas:update`)
 * and test/schema/record-schemas.test.ts fails when the two differ. Readers ignore keys they
 * do not know; a record that does not match is dropped by its reader with the reason.
 */
import { z } from "zod";
import {
  DECISION_DIRECTIONS,
  DECISION_REASONS,
  DECISION_RULES,
  type PlannerDecision,
  PREDICTION_LIMITS,
} from "./decision.js";
import { OPTIMIZATION_TARGETS, PARITY_RULES, PLANNER_MODES } from "./planner-config.js";
import { FIT_STATUSES, MODEL_KINDS } from "./regression-model.js";

/** The record's schema version (the `v1` of the schema file). */
export const DECISION_RECORD_VERSION = 1;

const count = (description: string) => z.int().min(0).meta({ description });
const figure = (description: string) => z.number().meta({ description });
/** A prediction that is infinite when the engines would saturate: JSON carries that as null. */
const unbounded = (description: string) =>
  z
    .number()
    .nullable()
    .transform((v) => v ?? Infinity)
    .meta({ description: `${description}; null when infinite (the engines would saturate)` });

export const EngineEstimateJson = z
  .object({
    workerId: z.string().meta({ description: "The engine's worker_id." }),
    dpRank: count("The engine's dp_rank."),
    ttftMs: figure("Estimated TTFT of the next request, ms (prefill and agg, when the model is fitted).").optional(),
    itlMs: figure("Estimated ITL of the next step, ms (decode and agg, when the model is fitted).").optional(),
    loadRatio: figure(
      "The threshold rule's value: queue ratio or KV utilisation (load target on prefill: queued tokens).",
    ).optional(),
    consolidatedTtftMs: figure(
      "Dynamo 1.6.1 sla: TTFT this engine's group would see with n-1 replicas, ms.",
    ).optional(),
    consolidatedItlMs: figure("Dynamo 1.6.1 sla: ITL this engine's group would see with n-1 replicas, ms.").optional(),
  })
  .meta({ description: "One engine's view at the tick." });

export const ModelSummaryJson = z
  .object({
    status: z.enum(FIT_STATUSES).meta({ description: "The latency model's fit." }),
    intercept: z.number().nullable().meta({ description: "Seconds per iteration at no load; null before a fit." }),
    coef: z.array(z.number()).nullable().meta({ description: "Seconds per unit of each term; null before a fit." }),
    samples: count("Samples kept now."),
    samplesAdded: count("Samples added since start (retired ones included)."),
  })
  .meta({ description: "The component's latency model." });

export const PredictedFiguresJson = z
  .object({
    demand: figure("Work arriving, engine-seconds per second (fitted per-token costs)."),
    backlogS: figure("Queued work, engine-seconds."),
    requestRate: figure("Requests per second."),
    promptTokens: figure("Mean prompt tokens per request."),
    replicasNeeded: count("Fewest replicas meeting every limit at this demand."),
    replicasWithBacklog: count("Fewest replicas also draining the backlog in time."),
    limitedBy: z.enum(PREDICTION_LIMITS).nullable().meta({ description: "The limit that set replicasNeeded." }),
    windowReplicas: count("Largest need over the stabilization window."),
    windowS: figure("The stabilization window's length now, seconds."),
    utilizationAtDesired: figure("Utilisation per engine at the desired count."),
    ttftMsAtDesired: unbounded("TTFT per engine at the desired count (the SLA's tail), ms"),
    itlMsAtDesired: unbounded("ITL per engine at the desired count, ms"),
    kvUseAtDesired: z.number().nullable().meta({
      description: "Share of the KV cache at the desired count; null when max_kv_tokens is unknown or infinite.",
    }),
  })
  .meta({ description: "Default mode, sla target: the figures the policy used." });

export const PlannerDecisionJson = z
  .object({
    time: z.iso.datetime().meta({ description: "ISO time of the tick." }),
    component: z.string().meta({ description: "The component planned." }),
    kind: z.enum(MODEL_KINDS).meta({ description: "The component's model kind." }),
    mode: z.enum(PLANNER_MODES).meta({ description: "The planner's mode." }),
    parityRules: z.enum(PARITY_RULES).optional().meta({ description: "Parity mode: which reference's rules decided." }),
    target: z.enum(OPTIMIZATION_TARGETS).meta({ description: "The optimization target." }),
    replicas: count("Replicas ready now (from the connector)."),
    pending: count("Replicas still starting, when the connector knows (part of the allocation).").optional(),
    desired: count("Replicas wanted; on a hold, the allocation unchanged (replicas + pending)."),
    direction: z.enum(DECISION_DIRECTIONS).meta({ description: "Against the allocation (replicas + pending)." }),
    reason: z.enum(DECISION_REASONS).meta({ description: "Why the tick decided what it did." }),
    rule: z.enum(DECISION_RULES).meta({ description: "The rule that decided." }),
    advisory: z.boolean().optional().meta({ description: "Advisory mode: recorded, not handed to the connector." }),
    engines: z
      .array(EngineEstimateJson)
      .meta({ description: "Per-engine estimates, in the order the planner saw them." }),
    model: ModelSummaryJson,
    predicted: PredictedFiguresJson.optional(),
  })
  .meta({
    title: "PlannerDecision",
    description:
      "One planner decision record: one tick of one component. JSON, one object per line on stdout or --decisions-file, one per message on namespace.{ns}.planner.decisions. Readers ignore unknown keys.",
  });

/** The record's JSON text (one line). */
export function decisionRecordText(d: PlannerDecision): string {
  return JSON.stringify(d);
}

export type DecisionRecordResult = { ok: true; value: PlannerDecision } | { ok: false; reason: string };

/** A parsed JSON value as a decision record, or why it is not one (the first problem, with its path). */
export function decisionRecordFrom(value: unknown): DecisionRecordResult {
  const r = PlannerDecisionJson.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, reason: `${issue.path.join(".") || "(record)"}: ${issue.message}` };
}

/** A record's text (a line, or a message's bytes) as a decision record, or why it is not one. */
export function parseDecisionRecord(text: string | Uint8Array): DecisionRecordResult {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8"));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  return decisionRecordFrom(value);
}

/** Compile-time check: what the schema parses is exactly a PlannerDecision. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type DecisionRecordMatchesType = Assert<Same<z.output<typeof PlannerDecisionJson>, PlannerDecision>>;
