/**
 * Where Dynamo's discovery keeps the records fpm reads and writes (docs/design/event-planes.md):
 * the keys of EventChannel records and model cards, and how the file backend turns a key
 * into a file name. Built and parsed here only.
 */
import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";

/** The bucket of event-channel records. */
export const EVENT_CHANNELS_BUCKET = "v1/event_channels";
/** The bucket of model deployment cards. */
export const MODEL_CARDS_BUCKET = "v1/mdc";

/** A scope: an endpoint (`endpoint` set) or a whole component (Dynamo before 1.6). */
export interface DiscoveryScope {
  namespace: string;
  component: string;
  endpoint?: string;
}

/**
 * The prefix under which FPM publishers of a scope register. With `endpoint` undefined it
 * covers the component-scoped records and every endpoint of the component; with
 * `component` undefined, every FPM record of the namespace (filter by topic after).
 */
export function eventChannelPrefix(scope: { namespace: string; component?: string; endpoint?: string }): string {
  let key = `${EVENT_CHANNELS_BUCKET}/namespace/${scope.namespace}/`;
  if (scope.component === undefined) return key;
  key += `component/${scope.component}/`;
  if (scope.endpoint === undefined) return key;
  return `${key}endpoint/${scope.endpoint}/topic/${FPM_TOPIC}/`;
}

/** The key of one FPM publisher's EventChannel record; the last segment is its id in lower-case hex. */
export function eventChannelKey(scope: DiscoveryScope, publisherId: bigint): string {
  const base = `${EVENT_CHANNELS_BUCKET}/namespace/${scope.namespace}/component/${scope.component}/`;
  const where = scope.endpoint === undefined ? base : `${base}endpoint/${scope.endpoint}/`;
  return `${where}topic/${FPM_TOPIC}/${publisherId.toString(16)}`;
}

/** The prefix of the model cards of a component (`v1/mdc/{ns}/{comp}/`), or of a namespace. */
export function modelCardPrefix(namespace: string, component?: string): string {
  return component === undefined
    ? `${MODEL_CARDS_BUCKET}/${namespace}/`
    : `${MODEL_CARDS_BUCKET}/${namespace}/${component}/`;
}

/** The last `/` segment of a key parsed as lower-case hex (a publisher or instance id), or null. */
export function idOfKey(key: string): bigint | null {
  const last = key.slice(key.lastIndexOf("/") + 1);
  return /^[0-9a-f]{1,16}$/.test(last) ? BigInt(`0x${last}`) : null;
}

const HEX = "0123456789ABCDEF";

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * The file backend's name for a key below a bucket: every byte outside `[A-Za-z0-9]` as
 * `%XX` (measured: `/` -> `%2F`, `-` -> `%2D`, `_` -> `%5F`).
 */
export function encodeFileKey(rest: string): string {
  let out = "";
  for (const b of Buffer.from(rest, "utf8"))
    out += isAlnum(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** The inverse of `encodeFileKey`; null when the name is not a valid encoding. */
export function decodeFileKey(name: string): string | null {
  try {
    return decodeURIComponent(name);
  } catch {
    return null;
  }
}

/** Splits a key into its bucket (the first two segments, `v1/...`) and the rest. */
export function splitBucket(key: string): { bucket: string; rest: string } {
  const first = key.indexOf("/");
  const second = key.indexOf("/", first + 1);
  if (first < 0 || second < 0) return { bucket: key, rest: "" };
  return { bucket: key.slice(0, second), rest: key.slice(second + 1) };
}
