/**
 * The replica report a deployer publishes on `namespace.{ns}.planner.replicas` for the
 * virtual connector (`fpm simulate --follow-planner` is one such deployer): what it runs
 * for one component. Written and parsed here only; `schemas/planner_replica_report.v1.schema.json`
 * is generated from the zod schema below (`npm run schemas:update`) and checked by
 * test/schema/record-schemas.test.ts. A report is bounded like any input.
 */
import { z } from "zod";

/** Most worker ids one report may list, and the longest id. */
export const MAX_REPORTED_WORKERS = 10_000;
export const MAX_WORKER_ID_LENGTH = 256;

export const ReplicaReportJson = z
  .object({
    component: z.string().meta({ description: "The component the report is about." }),
    replicas: z.int().min(0).meta({ description: "Replicas ready (taking requests)." }),
    pending: z.int().min(0).optional().meta({ description: "Replicas started and not yet ready." }),
    workers: z.array(z.string().max(MAX_WORKER_ID_LENGTH)).max(MAX_REPORTED_WORKERS).optional().meta({
      description:
        "Ids of the workers it runs, ready and starting: the planner forgets the engines of any other worker.",
    }),
  })
  .meta({
    title: "ReplicaReport",
    description:
      "What a deployer runs for one component, published as JSON on namespace.{ns}.planner.replicas after every change and now and then. Readers ignore unknown keys.",
  });

/** What a deployer reports for one component. */
export interface ReplicaReport {
  /** Replicas ready (taking requests). */
  replicas: number;
  /** Replicas started and not yet ready. */
  pending?: number;
  /** Ids of the workers it runs (ready and starting). */
  workers?: ReadonlySet<string>;
}

/** A report as published. */
export interface ReplicaReportMessage {
  component: string;
  replicas: number;
  pending?: number;
  workers?: readonly string[];
}

/** The report's JSON text. */
export function replicaReportText(r: ReplicaReportMessage): string {
  return JSON.stringify(r);
}

/** Parses a report's bytes; null when malformed. */
export function parseReplicaReport(bytes: Uint8Array): ({ component: string } & ReplicaReport) | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return null;
  }
  const r = ReplicaReportJson.safeParse(value);
  if (!r.success) return null;
  const { component, replicas, pending, workers } = r.data;
  return {
    component,
    replicas,
    ...(pending !== undefined ? { pending } : {}),
    ...(workers ? { workers: new Set(workers) } : {}),
  };
}
