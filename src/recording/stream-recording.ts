/**
 * The NDJSON format of `fpm record` / `fpm replay`: one NATS message per line, with the
 * envelope's metadata and the FPM payload as hex, so a recording can be read, grepped and
 * replayed byte for byte:
 *
 * `{"subject":"namespace.dynamo.component.backend.forward-pass-metrics","publisher_id":"4417...",
 *   "sequence":12,"published_at":1763830000123,"topic":"forward-pass-metrics",
 *   "received_at":1763830000123.482,"payload":"87a7..."}`
 *
 * `publisher_id` is a decimal string (it can exceed 2^53); `sequence` and `published_at`
 * are numbers, or decimal strings when above 2^53. A message whose envelope did not
 * decode is kept as `envelope` (the raw hex) with `invalid` (the reason), so a replay
 * reproduces it too.
 */
import { decodeEnvelope, encodeEnvelope } from "../codec/envelope.js";
import type { EventEnvelope } from "../schema/envelope.js";
import type { LineProblem } from "./ndjson-file.js";

export interface RecordedMessage {
  subject: string;
  /** Wall-clock ms (fractional) when the recorder received it; paces a replay. */
  receivedAtMs: number;
  /** The decoded envelope, or null when it did not decode. */
  envelope: EventEnvelope | null;
  /** The raw NATS message bytes when `envelope` is null. */
  rawEnvelope?: Uint8Array;
  /** Why the envelope did not decode. */
  invalid?: string;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function u64Json(v: bigint): number | string {
  return v <= MAX_SAFE ? Number(v) : v.toString();
}

/** One recording line (without the newline) for a NATS message. */
export function recordLine(subject: string, data: Uint8Array, receivedAtMs: number): string {
  const env = decodeEnvelope(data);
  if (!env.ok) {
    return JSON.stringify({
      subject,
      received_at: +receivedAtMs.toFixed(3),
      envelope: Buffer.from(data).toString("hex"),
      invalid: `${env.reason}: ${env.detail}`,
    });
  }
  const e = env.value;
  return JSON.stringify({
    subject,
    publisher_id: e.publisherId.toString(),
    sequence: u64Json(e.sequence),
    published_at: u64Json(e.publishedAtMs),
    topic: e.topic,
    received_at: +receivedAtMs.toFixed(3),
    payload: Buffer.from(e.payload).toString("hex"),
  });
}

function u64Field(v: unknown, name: string): bigint | string {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v) && BigInt(v) < 1n << 64n) return BigInt(v);
  return `${name} must be an unsigned 64-bit integer (number or decimal string)`;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses one recording line; a string is the reason it is malformed. */
export function parseRecordLine(text: string): RecordedMessage | string {
  let o: Record<string, unknown>;
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
    o = v as Record<string, unknown>;
  } catch {
    return "not JSON";
  }
  if (typeof o.subject !== "string" || o.subject === "" || /[\s]/.test(o.subject))
    return "subject must be a non-empty string without spaces";
  const receivedAtMs = typeof o.received_at === "number" && Number.isFinite(o.received_at) ? o.received_at : NaN;
  if (typeof o.envelope === "string") {
    if (!HEX_RE.test(o.envelope)) return "envelope must be hex";
    return {
      subject: o.subject,
      receivedAtMs,
      envelope: null,
      rawEnvelope: Buffer.from(o.envelope, "hex"),
      invalid: typeof o.invalid === "string" ? o.invalid : "recorded as invalid",
    };
  }
  const publisherId = u64Field(o.publisher_id, "publisher_id");
  const sequence = u64Field(o.sequence, "sequence");
  const publishedAtMs = u64Field(o.published_at, "published_at");
  for (const f of [publisherId, sequence, publishedAtMs]) if (typeof f === "string") return f;
  if (typeof o.payload !== "string" || !HEX_RE.test(o.payload)) return "payload must be hex";
  const topic = o.topic === undefined ? "forward-pass-metrics" : o.topic;
  if (typeof topic !== "string") return "topic must be a string";
  const envelope: EventEnvelope = {
    publisherId: publisherId as bigint,
    sequence: sequence as bigint,
    publishedAtMs: publishedAtMs as bigint,
    topic,
    payload: Buffer.from(o.payload, "hex"),
  };
  return {
    subject: o.subject,
    receivedAtMs: Number.isNaN(receivedAtMs) ? Number(envelope.publishedAtMs) : receivedAtMs,
    envelope,
  };
}

/** The bytes to publish for a recorded message. */
export function recordedBytes(m: RecordedMessage, restampPublishedAtMs?: bigint): Uint8Array {
  if (!m.envelope) return m.rawEnvelope ?? new Uint8Array(0);
  return encodeEnvelope(
    restampPublishedAtMs === undefined ? m.envelope : { ...m.envelope, publishedAtMs: restampPublishedAtMs },
  );
}

/** Reads a recording line by line; malformed lines are reported (1-based line number) and skipped. */
export async function* readRecording(
  lines: AsyncIterable<string>,
  onProblem: (p: LineProblem) => void,
): AsyncGenerator<RecordedMessage> {
  let n = 0;
  for await (const line of lines) {
    n++;
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const r = parseRecordLine(t);
    if (typeof r === "string") onProblem({ line: n, reason: r });
    else yield r;
  }
}
