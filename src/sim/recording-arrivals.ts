/**
 * Request arrivals reconstructed from an `fpm record` recording, so a deployment's own
 * traffic can be replayed through the simulator (`recording:PATH` arrivals, `fpm evaluate
 * --from-recording`). FPM carries per-iteration sums, not requests, so this is an
 * approximation; per engine, in the order its iterations were received:
 *
 * - New requests admitted by an iteration = its scheduled prefill requests, minus one
 *   chunk continuing from the engine's previous iteration (seen as KV read by the prefill,
 *   `sum_prefill_kv_tokens > 0`, after an iteration that prefilled), minus preempted
 *   requests resumed (the queued decode count fell).
 * - Arrivals since the previous iteration = growth of the queued prefill requests plus the
 *   new admissions. They arrived when the iteration started if the engine was idle before
 *   (an idle engine starts at once), else spread evenly since the previous iteration began.
 * - Lengths per 10 s window: the mean prompt is the prefill tokens computed over the new
 *   requests (a prompt is computed once, whatever the chunking), drawn uniformly with the
 *   window's mean `var_prefill_length`; the output length is 1 + decode steps per request.
 *   Prefix-cache hits look like continuing chunks and are under-counted as arrivals.
 */
import { decodeFpm } from "../codec/fpm-decode.js";
import type { LineProblem } from "../recording/ndjson-file.js";
import { parseRecordLine } from "../recording/stream-recording.js";
import type { ForwardPassMetrics } from "../schema/forward-pass-metrics.js";
import type { Arrival } from "./arrivals.js";
import { SeededRandom } from "./prng.js";

/** Seconds per window over which lengths are averaged. */
export const LENGTH_WINDOW_S = 10;

export interface ReconstructedTraffic {
  arrivals: Arrival[];
  /** Distinct workers seen in the first 10 s of the recording. */
  workersAtStart: number;
  /** Most dp ranks seen for one worker. */
  dpRanks: number;
  /** From the first message to the last, seconds. */
  durationS: number;
  /** FPM messages used. */
  messages: number;
  /** Lines that were not recorded messages, or whose envelope or payload did not decode. */
  problems: LineProblem[];
}

interface EngineTrack {
  lastStartS: number;
  lastEndS: number;
  waiting: number;
  queuedDecode: number;
  prefilled: boolean;
  idle: boolean;
}

interface WindowSums {
  prefillTokens: number;
  newRequests: number;
  decodeSteps: number;
  varSum: number;
  varCount: number;
}

/** Reconstructs arrivals from the lines of a recording (see the file's docblock). */
export function arrivalsFromRecording(lines: readonly string[], seed = 1): ReconstructedTraffic {
  const problems: LineProblem[] = [];
  const messages: { atS: number; fpm: ForwardPassMetrics }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    if (text === "" || text.startsWith("#")) continue;
    const m = parseRecordLine(text);
    if (typeof m === "string") {
      problems.push({ line: i + 1, reason: m });
      continue;
    }
    if (!m.envelope) {
      problems.push({ line: i + 1, reason: `envelope recorded as invalid (${m.invalid})` });
      continue;
    }
    const r = decodeFpm(m.envelope.payload);
    if (!r.ok) {
      problems.push({ line: i + 1, reason: `payload: ${r.reason}: ${r.detail}` });
      continue;
    }
    messages.push({ atS: m.receivedAtMs / 1000, fpm: r.value });
  }
  if (messages.length === 0)
    return { arrivals: [], workersAtStart: 0, dpRanks: 1, durationS: 0, messages: 0, problems };
  // Received order is time order for one recorder; sort anyway (stable) for merged files.
  messages.sort((a, b) => a.atS - b.atS);
  const t0 = messages[0].atS;
  const durationS = messages[messages.length - 1].atS - t0;

  const tracks = new Map<string, EngineTrack>();
  const ranks = new Map<string, Set<number>>();
  const early = new Set<string>();
  const times: number[] = [];
  const windows: WindowSums[] = [];
  const windowOf = (tS: number): WindowSums => {
    const k = Math.max(0, Math.floor(tS / LENGTH_WINDOW_S));
    while (windows.length <= k)
      windows.push({ prefillTokens: 0, newRequests: 0, decodeSteps: 0, varSum: 0, varCount: 0 });
    return windows[k];
  };
  for (const { atS, fpm } of messages) {
    const endS = atS - t0;
    if (!ranks.has(fpm.workerId)) ranks.set(fpm.workerId, new Set());
    ranks.get(fpm.workerId)!.add(fpm.dpRank);
    if (endS <= 10) early.add(fpm.workerId);
    const key = `${fpm.workerId}\u0000${fpm.dpRank}`;
    const s = fpm.scheduledRequests;
    const q = fpm.queuedRequests;
    let t = tracks.get(key);
    if (!t) {
      t = { lastStartS: endS, lastEndS: endS, waiting: 0, queuedDecode: 0, prefilled: false, idle: true };
      tracks.set(key, t);
    }
    if (fpm.wallTimeS === 0) {
      // A heartbeat: the engine is idle, with whatever it reports queued.
      t.waiting = q.numPrefillRequests;
      t.queuedDecode = q.numDecodeRequests;
      t.lastEndS = endS;
      t.idle = true;
      t.prefilled = false;
      continue;
    }
    const startS = Math.max(t.lastEndS, endS - fpm.wallTimeS);
    const continuing = s.sumPrefillKvTokens > 0 && t.prefilled ? 1 : 0;
    const resumed = Math.max(0, t.queuedDecode - q.numDecodeRequests);
    const admitted = Math.max(0, s.numPrefillRequests - continuing - resumed);
    const arrived = Math.max(0, q.numPrefillRequests - t.waiting + admitted);
    const idleBefore = t.idle || startS - t.lastEndS > 1e-3;
    for (let i = 0; i < arrived; i++) {
      times.push(idleBefore ? startS : t.lastStartS + ((i + 1) / arrived) * (startS - t.lastStartS));
    }
    const w = windowOf(startS);
    w.prefillTokens += s.sumPrefillTokens;
    w.newRequests += admitted;
    w.decodeSteps += s.numDecodeRequests;
    if (s.numPrefillRequests > 0) {
      w.varSum += s.varPrefillLength;
      w.varCount++;
    }
    t.lastStartS = startS;
    t.lastEndS = endS;
    t.waiting = q.numPrefillRequests;
    t.queuedDecode = q.numDecodeRequests;
    t.prefilled = s.numPrefillRequests > 0;
    t.idle = false;
  }

  times.sort((a, b) => a - b);
  const rng = new SeededRandom(seed);
  const total = windows.reduce(
    (acc, w) => ({ tokens: acc.tokens + w.prefillTokens, n: acc.n + w.newRequests, steps: acc.steps + w.decodeSteps }),
    { tokens: 0, n: 0, steps: 0 },
  );
  const overall = {
    prompt: total.n > 0 ? total.tokens / total.n : 1,
    output: total.n > 0 ? 1 + total.steps / total.n : 1,
  };
  const arrivals: Arrival[] = times.map((atS) => {
    const w = windows[Math.min(windows.length - 1, Math.max(0, Math.floor(atS / LENGTH_WINDOW_S)))];
    const prompt = w && w.newRequests > 0 ? w.prefillTokens / w.newRequests : overall.prompt;
    const output = w && w.newRequests > 0 ? 1 + w.decodeSteps / w.newRequests : overall.output;
    const spread = w && w.varCount > 0 ? Math.sqrt(3 * (w.varSum / w.varCount)) : 0;
    const inputTokens = Math.max(1, Math.round(prompt + spread * (2 * rng.next() - 1)));
    return { atS: +atS.toFixed(6), inputTokens, outputTokens: Math.max(1, Math.round(output)), cachedTokens: 0 };
  });
  const dpRanks = Math.max(1, ...[...ranks.values()].map((r) => r.size));
  return { arrivals, workersAtStart: early.size, dpRanks, durationS, messages: messages.length, problems };
}
