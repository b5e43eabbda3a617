/** Small input/output helpers shared by the CLI commands. */
import fs from "node:fs";

/** Reads all of stdin as bytes. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function readFileBytes(path: string): Buffer {
  return fs.readFileSync(path);
}

/** JSON text in which bigint values appear as exact integer literals (not strings, not rounded). */
export function stringifyExact(value: unknown, indent?: number): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === "bigint") {
        marks.push(v.toString());
        return `\u0000bigint${marks.length - 1}\u0000`;
      }
      if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
      return v;
    },
    indent,
  );
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]);
}

/** Parses hex text (spaces and a 0x prefix allowed); null when it is not hex. */
export function parseHex(text: string): Buffer | null {
  const clean = text.trim().replace(/^0x/i, "").replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  return Buffer.from(clean, "hex");
}

/** A line of JSON that holds an object (not an array or a scalar), or null. */
export function parseJsonObjectLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith("{")) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
