/** Loads the golden vectors from `schemas/vectors/` (the copies of the shared contract plus our own). */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface FpmVector {
  name: string;
  description: string;
  hex: string;
  valid: boolean;
  decoded?: Record<string, unknown>;
  canonical_hex?: string;
  reject_reason?: string;
}

export interface EnvelopeVector {
  name: string;
  hex: string;
  valid: boolean;
  decoded?: { publisher_id: string; sequence: number; published_at: number; topic: string; payload_hex: string };
  reject_reason?: string;
}

function load<T>(file: string): T[] {
  const p = path.join(REPO_ROOT, "schemas", "vectors", file);
  if (!fs.existsSync(p)) return [];
  return (JSON.parse(fs.readFileSync(p, "utf8")) as { vectors: T[] }).vectors;
}

/** Every FPM payload vector: the shared ones and, when present, this project's extra ones. */
export function fpmVectors(): FpmVector[] {
  return [...load<FpmVector>("fpm_v1.json"), ...load<FpmVector>("fpm_v1_extra.json")];
}

export function envelopeVectors(): EnvelopeVector[] {
  return [...load<EnvelopeVector>("envelope_v1.json"), ...load<EnvelopeVector>("envelope_v1_extra.json")];
}

export function readSchema(file: string): any {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "schemas", file), "utf8"));
}
