/**
 * Subjects of the FPM event plane (docs/design/wire-format.md section 4) and of the planner's
 * decisions and replica reports, built and parsed here only. Segments
 * are percent-encoded as newer Dynamo runtimes do, so a `.` inside a name cannot split a
 * subject level. The ZMQ plane has no subjects on the wire, but its messages are handed to
 * the subscriber under the subject the same scope has over NATS, so both planes read alike.
 */

import { FPM_TOPIC } from "../schema/forward-pass-metrics.js";

/** Dynamo's defaults (docs/design/wire-format.md sections 4 and 6). */
export const DEFAULT_NAMESPACE = "dynamo";
export const DEFAULT_COMPONENT = "backend";
export const DEFAULT_ENDPOINT = "generate";

/** Where FPM of one worker is published: Dynamo's component or endpoint scope. */
export interface FpmSubjectScope {
  /** Default: env DYN_NAMESPACE, else `dynamo`. */
  namespace?: string;
  /** Default `backend`. */
  component?: string;
  /** When set, the endpoint-scoped subject is used; absent means component scope. */
  endpoint?: string;
}

const HEX = "0123456789ABCDEF";

function isPlain(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2d;
}

/**
 * Percent-encodes one subject segment: every UTF-8 byte outside `[A-Za-z0-9_-]` becomes
 * `%XX` with upper-case hex (so `.` is `%2E`, `*` is `%2A`, `%` itself is `%25`).
 */
export function encodeSubjectSegment(segment: string): string {
  if (/^[A-Za-z0-9_-]*$/.test(segment)) return segment;
  let out = "";
  for (const b of Buffer.from(segment, "utf8")) {
    out += isPlain(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** The namespace: the one given, else env DYN_NAMESPACE, else Dynamo's default `dynamo`. */
export function namespaceFrom(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return given ?? (env.DYN_NAMESPACE || DEFAULT_NAMESPACE);
}

/** Resolves the defaults of a scope (namespace from `env.DYN_NAMESPACE`). */
export function resolveFpmScope(
  scope: FpmSubjectScope = {},
  env: NodeJS.ProcessEnv = process.env,
): Required<Omit<FpmSubjectScope, "endpoint">> & { endpoint?: string } {
  const namespace = namespaceFrom(scope.namespace, env);
  const component = scope.component ?? DEFAULT_COMPONENT;
  return scope.endpoint === undefined ? { namespace, component } : { namespace, component, endpoint: scope.endpoint };
}

/**
 * The subject a relay publishes on:
 * `namespace.{ns}.component.{comp}.forward-pass-metrics`, or with an endpoint
 * `namespace.{ns}.component.{comp}.endpoint.{ep}.forward-pass-metrics`.
 */
export function fpmSubject(scope: FpmSubjectScope = {}, env: NodeJS.ProcessEnv = process.env): string {
  const s = resolveFpmScope(scope, env);
  const base = `namespace.${encodeSubjectSegment(s.namespace)}.component.${encodeSubjectSegment(s.component)}`;
  return s.endpoint === undefined
    ? `${base}.${FPM_TOPIC}`
    : `${base}.endpoint.${encodeSubjectSegment(s.endpoint)}.${FPM_TOPIC}`;
}

/** Which subjects a subscriber listens to; any field left out matches every value. */
export interface FpmSubscriptionScope {
  /** Default: env DYN_NAMESPACE, else `dynamo`. Use `"*"` for every namespace. */
  namespace?: string;
  /** Absent or `"*"`: every component. */
  component?: string;
  /**
   * `undefined`: component-scoped subjects only; `"*"`: every endpoint-scoped subject;
   * a name: that endpoint only.
   */
  endpoint?: string;
}

function segmentOrWildcard(value: string | undefined): string {
  return value === undefined || value === "*" ? "*" : encodeSubjectSegment(value);
}

/**
 * A subscriber's subject, with `*` where the scope leaves a level open, for example
 * `namespace.dynamo.component.*.forward-pass-metrics`.
 */
export function fpmSubscriptionSubject(scope: FpmSubscriptionScope = {}, env: NodeJS.ProcessEnv = process.env): string {
  const ns = namespaceFrom(scope.namespace, env);
  const base = `namespace.${segmentOrWildcard(ns)}.component.${segmentOrWildcard(scope.component)}`;
  return scope.endpoint === undefined
    ? `${base}.${FPM_TOPIC}`
    : `${base}.endpoint.${segmentOrWildcard(scope.endpoint)}.${FPM_TOPIC}`;
}

/**
 * Both subjects a subscriber needs to see every FPM in a namespace, whichever scope the
 * relays publish on (component scope and endpoint scope).
 */
export function fpmSubscriptionSubjects(
  scope: Omit<FpmSubscriptionScope, "endpoint"> = {},
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return [
    fpmSubscriptionSubject({ ...scope, endpoint: undefined }, env),
    fpmSubscriptionSubject({ ...scope, endpoint: "*" }, env),
  ];
}

/** The scope a subject names; `endpoint` is absent for a component-scoped subject. */
export interface ParsedFpmSubject {
  namespace: string;
  component: string;
  endpoint?: string;
}

function decodeSegment(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Parses `namespace.{ns}.component.{comp}[.endpoint.{ep}].forward-pass-metrics` (segments
 * percent-decoded); null for anything else.
 */
export function parseFpmSubject(subject: string): ParsedFpmSubject | null {
  const p = subject.split(".");
  if (p[0] !== "namespace" || p[2] !== "component" || p[p.length - 1] !== FPM_TOPIC) return null;
  if (p.length === 5) return { namespace: decodeSegment(p[1]), component: decodeSegment(p[3]) };
  if (p.length === 7 && p[4] === "endpoint")
    return { namespace: decodeSegment(p[1]), component: decodeSegment(p[3]), endpoint: decodeSegment(p[5]) };
  return null;
}

/** Where the planner publishes its decision records (one JSON object per message). */
export function plannerDecisionsSubject(namespace: string): string {
  return `namespace.${encodeSubjectSegment(namespace)}.planner.decisions`;
}

/** Where a deployer reports the replicas it runs, for the planner's virtual connector. */
export function plannerReplicasSubject(namespace: string): string {
  return `namespace.${encodeSubjectSegment(namespace)}.planner.replicas`;
}

/** The component a subject names (percent-decoded), or `""` when it is no FPM subject. */
export function componentOfSubject(subject: string): string {
  return parseFpmSubject(subject)?.component ?? "";
}
