/**
 * encodeFpm: ForwardPassMetrics -> the exact bytes msgspec writes for the same values
 * (every key, schema order, smallest ints, float64 floats).
 */
import {
  type FieldSpec,
  type ForwardPassMetrics,
  FPM_FIELDS,
  QUEUED_FIELDS,
  SCHEDULED_FIELDS,
} from "../schema/forward-pass-metrics.js";
import { FpmEncodeError } from "../util/errors.js";
import { MsgpackWriter, encodedKey } from "./msgpack-writer.js";

interface EncodedField {
  spec: FieldSpec<string>;
  key: Uint8Array;
}

const prepare = (fields: readonly FieldSpec<string>[]): EncodedField[] =>
  fields.map((spec) => ({ spec, key: encodedKey(spec.wire) }));
const TOP = prepare(FPM_FIELDS);
const SCHEDULED = prepare(SCHEDULED_FIELDS);
const QUEUED = prepare(QUEUED_FIELDS);

const shared = new MsgpackWriter(1024);

function writeNumber(w: MsgpackWriter, f: EncodedField, value: unknown, path: string): void {
  if (typeof value !== "number")
    throw new FpmEncodeError(`${path}.${f.spec.wire}: expected a number, got ${typeof value}`);
  if (f.spec.kind === "float") {
    w.float64(value);
    return;
  }
  if (!Number.isSafeInteger(value)) throw new FpmEncodeError(`${path}.${f.spec.wire}: ${value} is not a safe integer`);
  w.int(value);
}

function writeStruct(w: MsgpackWriter, fields: EncodedField[], value: object, path: string): void {
  const obj = value as Record<string, unknown>;
  w.mapHeader(fields.length);
  for (const f of fields) {
    w.raw(f.key);
    writeNumber(w, f, obj[f.spec.name], path);
  }
}

/** Writes `fpm` into `w` (for callers that frame the payload themselves). */
export function writeFpm(w: MsgpackWriter, fpm: ForwardPassMetrics): void {
  w.mapHeader(TOP.length);
  for (const f of TOP) {
    w.raw(f.key);
    switch (f.spec.kind) {
      case "str":
        if (typeof fpm.workerId !== "string") throw new FpmEncodeError(`$.worker_id: expected a string`);
        w.str(fpm.workerId);
        break;
      case "scheduled":
        writeStruct(w, SCHEDULED, fpm.scheduledRequests, "$.scheduled_requests");
        break;
      case "queued":
        writeStruct(w, QUEUED, fpm.queuedRequests, "$.queued_requests");
        break;
      default:
        writeNumber(w, f, fpm[f.spec.name as keyof ForwardPassMetrics], "$");
    }
  }
}

/** Encodes one FPM payload exactly as msgspec does. Throws FpmEncodeError on a non-integer int field. */
export function encodeFpm(fpm: ForwardPassMetrics): Uint8Array {
  shared.reset();
  writeFpm(shared, fpm);
  return shared.finish();
}

/**
 * `encodeFpm` without the copy: the bytes live in a shared buffer until the next encode,
 * for a caller that copies them at once (into an envelope).
 */
export function encodeFpmTransient(fpm: ForwardPassMetrics): Uint8Array {
  shared.reset();
  writeFpm(shared, fpm);
  return shared.bytes();
}
