/**
 * Reading the Prometheus text exposition format (what every fpm `/metrics` serves), for
 * the demo, the benchmarks and the tests: one parser of sample lines and label sets, sums
 * over label selections, and a bounded scrape. Comments (`# HELP`, `# TYPE`) are skipped;
 * a line that does not parse is skipped too (a reader, not a validator).
 */

/** One sample line: `name{label="value",...} value [timestamp]`. */
export interface PrometheusSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** The value as a number; `NaN`, `+Inf` and `-Inf` included. */
  value: number;
}

/** A scrape larger than this is refused: an fpm process serves well under a megabyte. */
export const MAX_SCRAPE_BYTES = 16 * 1024 * 1024;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  return text === "" ? Number.NaN : Number(text);
}

/**
 * Parses `k="v",k2="v2"` (what is between the braces; a trailing comma allowed), with the
 * format's escapes `\\`, `\"` and `\n` in values. Returns the labels and where parsing
 * stopped, or null when the text is not a label set.
 */
function parseLabelList(
  text: string,
  from: number,
  end: string,
): { labels: Record<string, string>; at: number } | null {
  const labels: Record<string, string> = {};
  let i = from;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === end || (end === "" && i >= text.length)) return { labels, at: i };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name || text[i + name.length] !== "=" || text[i + name.length + 1] !== '"') return null;
    i += name.length + 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) return null;
      if (c === '"') break;
      if (c === "\\") {
        const n = text[i + 1];
        value += n === "n" ? "\n" : (n ?? "");
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[name] = value;
    i++;
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
  }
}

/** Parses one exposition line; null for comments, blank lines and lines that do not parse. */
export function parsePrometheusLine(line: string): PrometheusSample | null {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return null;
  const name = NAME.exec(text)?.[0];
  if (!name) return null;
  let labels: Record<string, string> = {};
  let at = name.length;
  if (text[at] === "{") {
    const parsed = parseLabelList(text, at + 1, "}");
    if (!parsed) return null;
    labels = parsed.labels;
    at = parsed.at + 1;
  }
  if (text[at] !== " ") return null;
  const [value] = text
    .slice(at + 1)
    .trim()
    .split(" ");
  return { name, labels, value: parseValue(value) };
}

/** Every sample of an exposition, in order. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const out: PrometheusSample[] = [];
  for (const line of text.split("\n")) {
    const s = parsePrometheusLine(line);
    if (s) out.push(s);
  }
  return out;
}

/**
 * A label selection: an object of exact values, or the same written as label text
 * (`reason="decode"` or `dp_rank="0",reason="decode"`). Empty selects every sample.
 */
export type LabelSelector = Readonly<Record<string, string>> | string;

function selectorLabels(selector: LabelSelector): Readonly<Record<string, string>> {
  if (typeof selector !== "string") return selector;
  const parsed = parseLabelList(selector, 0, "");
  if (!parsed) throw new Error(`not a label selector: ${JSON.stringify(selector)} (write name="value",...)`);
  return parsed.labels;
}

/** Whether `sample` is named `name` and carries every label of `selector` with its value. */
export function sampleMatches(sample: PrometheusSample, name: string, selector: LabelSelector = {}): boolean {
  if (sample.name !== name) return false;
  const want = selectorLabels(selector);
  for (const k of Object.keys(want)) if (sample.labels[k] !== want[k]) return false;
  return true;
}

/** Sum of the finite values of `name`'s samples that match `selector`; 0 when there are none. */
export function sumSamples(samples: readonly PrometheusSample[], name: string, selector: LabelSelector = {}): number {
  const want = selectorLabels(selector);
  let sum = 0;
  for (const s of samples) if (Number.isFinite(s.value) && sampleMatches(s, name, want)) sum += s.value;
  return sum;
}

/** `sumSamples` straight from exposition text. */
export function sumMetric(text: string, name: string, selector: LabelSelector = {}): number {
  return sumSamples(parsePrometheusText(text), name, selector);
}

/**
 * Sums `name` per value of label `by` (for example dropped messages per `reason`), over
 * samples that match `selector`.
 */
export function sumByLabel(
  samples: readonly PrometheusSample[],
  name: string,
  by: string,
  selector: LabelSelector = {},
): Record<string, number> {
  const want = selectorLabels(selector);
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (!Number.isFinite(s.value) || !sampleMatches(s, name, want)) continue;
    const key = s.labels[by] ?? "";
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** GETs `url` (an fpm /metrics) and parses it; rejects on a non-200, a timeout, or more than MAX_SCRAPE_BYTES. */
export async function scrapeMetrics(url: string, timeoutMs = 5000): Promise<PrometheusSample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  const length = Number(res.headers.get("content-length") ?? 0);
  if (length > MAX_SCRAPE_BYTES) {
    await res.body?.cancel();
    throw new Error(`GET ${url}: ${length} bytes is over the ${MAX_SCRAPE_BYTES}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_SCRAPE_BYTES) throw new Error(`GET ${url}: over the ${MAX_SCRAPE_BYTES}-byte limit`);
    chunks.push(chunk);
  }
  return parsePrometheusText(Buffer.concat(chunks).toString("utf8"));
}
