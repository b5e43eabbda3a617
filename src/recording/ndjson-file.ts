/**
 * The NDJSON files fpm reads, recordings (`fpm record`) and arrivals files: read whole with
 * a size bound (a bigger file is refused up front, never half-read) or line by line from a
 * file or stdin, and the problem report of a malformed line (skipped, never fatal).
 */
import fs from "node:fs";
import readline from "node:readline";
import { ConfigError } from "../util/errors.js";

/** A line of an NDJSON file that was skipped, and why. */
export interface LineProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** Largest NDJSON file read whole (arrivals files, recordings for the simulator). */
export const MAX_NDJSON_FILE_BYTES = 512 * 2 ** 20;

/** Reads `path` whole for `what` (the flag, for messages); ConfigError when unreadable or over MAX_NDJSON_FILE_BYTES. */
export function readNdjsonText(path: string, what: string): string {
  try {
    const size = fs.statSync(path).size;
    if (size > MAX_NDJSON_FILE_BYTES)
      throw new ConfigError(
        `${what}: ${Math.round(size / 2 ** 20)} MiB is more than ${MAX_NDJSON_FILE_BYTES / 2 ** 20} MiB; cut it into shorter pieces`,
      );
    return fs.readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${what}: cannot read it (${(err as Error).message})`);
  }
}

/**
 * The lines of `path` (`-`: stdin) as they are read, for files replayed as a stream. Open it
 * only when its lines are about to be read: readline drops lines emitted before that.
 */
export function openNdjsonLines(path: string, what: string): AsyncIterable<string> {
  let input: NodeJS.ReadableStream;
  if (path === "-") input = process.stdin;
  else {
    try {
      fs.accessSync(path, fs.constants.R_OK);
    } catch (err) {
      throw new ConfigError(`${what}: cannot read it (${(err as Error).message})`);
    }
    input = fs.createReadStream(path, { encoding: "utf8" });
  }
  return readline.createInterface({ input, crlfDelay: Infinity });
}
