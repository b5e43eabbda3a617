/**
 * Describes the TypeScript side of the schema for the contract tests' parity check: the field
 * tables, the defaults of `defaultForwardPassMetrics()`, and the zod schema as it behaves.
 *
 * zod is described by probing, not by reading its internals: a field that accepts 1.5 is a
 * float, one that accepts 1 but not 1.5 an int, "x" a str, {} a struct; its default is what
 * `parse({})` fills in. That is what users of the schema actually get.
 */
import type { z } from "zod";
import { ENVELOPE_FIELDS } from "../src/schema/envelope.js";
import {
  type FieldSpec,
  FPM_FIELDS,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
  defaultForwardPassMetrics,
} from "../src/schema/forward-pass-metrics.js";
import { ForwardPassMetricsJson } from "../src/schema/zod.js";
import { floatToBits, fpmToExact } from "./contract-exact-json.js";

export interface FieldDescription {
  name: string;
  kind: string;
  /** Property name on the TypeScript object (field tables only). */
  tsName?: string;
  /** Exact default (decimal string for ints, float64 bits for floats), when the source has one. */
  default?: unknown;
  fields?: FieldDescription[];
}

function tableDescription(fields: readonly FieldSpec<string>[], defaults: Record<string, unknown>): FieldDescription[] {
  return fields.map((f) => {
    if (f.kind === "scheduled" || f.kind === "queued") {
      const nested = f.kind === "scheduled" ? SCHEDULED_FIELDS : QUEUED_FIELDS;
      const d = defaults[f.wire] as Record<string, unknown>;
      return { name: f.wire, kind: "struct", tsName: f.name, default: d, fields: tableDescription(nested, d) };
    }
    return { name: f.wire, kind: f.kind, tsName: f.name, default: defaults[f.wire] };
  });
}

/** The TS field tables with the defaults of defaultForwardPassMetrics(), in exact JSON. */
export function describeFieldTables(): { fpm: FieldDescription[]; envelope: FieldDescription[] } {
  const defaults = fpmToExact(defaultForwardPassMetrics());
  return {
    fpm: tableDescription(FPM_FIELDS, defaults),
    envelope: ENVELOPE_FIELDS.map((f) => ({ name: f.wire, kind: f.kind, tsName: f.name })),
  };
}

type Probe = (value: unknown) => boolean;

function probeKind(accepts: Probe): string {
  if (accepts({})) return "struct";
  if (accepts("x")) return "str";
  if (accepts(1.5)) return "float";
  if (accepts(1)) return "int";
  return "unknown";
}

function exactDefault(kind: string, value: unknown): unknown {
  if (kind === "float" && typeof value === "number") return floatToBits(value);
  if (kind === "int" && typeof value === "number") return String(value);
  return value;
}

/** Probes one object level; `wrap` places a partial object of this level inside a full input. */
function describeZodLevel(
  schema: z.ZodType,
  wrap: (partial: Record<string, unknown>) => unknown,
  pick: (parsed: any) => Record<string, unknown>,
): FieldDescription[] {
  const defaults = pick(schema.parse(wrap({})));
  return Object.keys(defaults).map((name) => {
    const kind = probeKind((value) => schema.safeParse(wrap({ [name]: value })).success);
    const d: FieldDescription = { name, kind, default: exactDefault(kind, defaults[name]) };
    if (kind === "struct") {
      d.fields = describeZodLevel(
        schema,
        (partial) => wrap({ [name]: partial }),
        (parsed) => pick(parsed)[name] as Record<string, unknown>,
      );
      d.default = Object.fromEntries(d.fields.map((f) => [f.name, f.default]));
    }
    return d;
  });
}

/** The zod FPM schema as observed through safeParse/parse. */
export function describeZod(): FieldDescription[] {
  return describeZodLevel(
    ForwardPassMetricsJson,
    (partial) => partial,
    (parsed) => parsed,
  );
}
