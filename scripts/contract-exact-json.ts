/**
 * Exact JSON for the contract tests: the wire (snake_case) shape of an FPM or envelope where
 * every int is a decimal string and every float the 16 hex digits of its float64 bits, so no
 * value loses precision crossing to Python (JSON numbers would round ints above 2^53 and
 * could not carry -0.0 or a NaN payload).
 */
import {
  type FieldSpec,
  type ForwardPassMetrics,
  FPM_FIELDS,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
} from "../src/schema/forward-pass-metrics.js";
import type { EventEnvelope } from "../src/schema/envelope.js";

export type ExactObject = { [key: string]: string | ExactObject };

const scratch = new DataView(new ArrayBuffer(8));

export function floatToBits(value: number): string {
  scratch.setFloat64(0, value);
  return scratch.getBigUint64(0).toString(16).padStart(16, "0");
}

export function bitsToFloat(bits: string): number {
  if (!/^[0-9a-f]{16}$/.test(bits)) throw new TypeError(`not 16 hex digits of float64 bits: ${bits}`);
  scratch.setBigUint64(0, BigInt(`0x${bits}`));
  return scratch.getFloat64(0);
}

/** An int field's decimal string as a JS number; refuses what a double cannot hold exactly. */
export function decimalToInt(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) throw new TypeError(`not a decimal int: ${text}`);
  const big = BigInt(text);
  const n = Number(big);
  if (BigInt(n) !== big) throw new RangeError(`${text} is not exactly representable as a JS number`);
  return n;
}

function fieldsToExact(value: object, fields: readonly FieldSpec<string>[]): ExactObject {
  const obj = value as Record<string, unknown>;
  const out: ExactObject = {};
  for (const f of fields) {
    const v = obj[f.name];
    if (f.kind === "scheduled") out[f.wire] = fieldsToExact(v as object, SCHEDULED_FIELDS);
    else if (f.kind === "queued") out[f.wire] = fieldsToExact(v as object, QUEUED_FIELDS);
    else if (f.kind === "str") out[f.wire] = v as string;
    else if (f.kind === "float") out[f.wire] = floatToBits(v as number);
    else out[f.wire] = Object.is(v, -0) ? "-0" : String(v);
  }
  return out;
}

function fieldsFromExact(
  value: ExactObject,
  fields: readonly FieldSpec<string>[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = value[f.wire];
    if (v === undefined) throw new TypeError(`${path}.${f.wire} is missing`);
    const p = `${path}.${f.wire}`;
    if (f.kind === "scheduled") out[f.name] = fieldsFromExact(v as ExactObject, SCHEDULED_FIELDS, p);
    else if (f.kind === "queued") out[f.name] = fieldsFromExact(v as ExactObject, QUEUED_FIELDS, p);
    else if (typeof v !== "string") throw new TypeError(`${p} must be a string in exact JSON`);
    else if (f.kind === "str") out[f.name] = v;
    else if (f.kind === "float") out[f.name] = bitsToFloat(v);
    else out[f.name] = decimalToInt(v);
  }
  return out;
}

export function fpmToExact(fpm: ForwardPassMetrics): ExactObject {
  return fieldsToExact(fpm, FPM_FIELDS);
}

export function fpmFromExact(value: ExactObject): ForwardPassMetrics {
  return fieldsFromExact(value, FPM_FIELDS, "$") as unknown as ForwardPassMetrics;
}

export function envelopeToExact(env: EventEnvelope): ExactObject {
  return {
    publisher_id: env.publisherId.toString(),
    sequence: env.sequence.toString(),
    published_at: env.publishedAtMs.toString(),
    topic: env.topic,
    payload: Buffer.from(env.payload).toString("hex"),
  };
}

export function envelopeFromExact(value: ExactObject): EventEnvelope {
  const u64 = (key: string): bigint => {
    const v = value[key];
    if (typeof v !== "string" || !/^[0-9]+$/.test(v)) throw new TypeError(`${key} must be a decimal string`);
    return BigInt(v);
  };
  const topic = value.topic,
    payload = value.payload;
  if (typeof topic !== "string" || typeof payload !== "string")
    throw new TypeError("topic and payload (hex) must be strings");
  return {
    publisherId: u64("publisher_id"),
    sequence: u64("sequence"),
    publishedAtMs: u64("published_at"),
    topic,
    payload: Buffer.from(payload, "hex"),
  };
}
