/**
 * What `fpm evaluate` reports for one scenario x contender, computed from a `RunTrace`
 * (definitions also in docs/guides/evaluating-the-planner.md):
 *
 * - `ttft_within_sla`, `itl_within_sla`, `both_within_sla`: shares of finished requests
 *   whose TTFT is at most the TTFT SLA, whose mean ITL ((finish - first token) / (output
 *   tokens - 1)) is at most the ITL SLA (a one-token output has no ITL and meets it), both.
 * - `ttft_p50_ms` ... `itl_p99_ms`: nearest-rank percentiles over finished requests.
 * - `replica_seconds`: workers paid for (running, starting, draining) integrated over
 *   [0, duration_s]; `cost_vs_oracle` is that over the oracle's (set by the evaluation).
 * - `scale_actions`: changes of the requested worker count; `flaps`: actions reversing the
 *   previous action's direction within 3 planner ticks of it.
 * - `under_provisioned_s`: seconds (sampled at each second's midpoint) with fewer ready
 *   workers than the need of that moment's rate (the sizing table: what the oracle has ready).
 * - `reaction_time_s`: from the start of the largest rise of the need within one start-up
 *   delay (for a step scenario, the step) to the first moment the ready workers reach the
 *   highest need of that rise; null when the need never rises or they never reach it.
 * - `requests_restarted` (attempts lost to a killed worker), `requests_rejected`,
 *   `requests_unfinished` (still in flight when the run stopped, `duration_s` + grace).
 */
import { type RunTrace, type ScaleAction, type StepSeries, stepValueAt } from "./closed-loop.js";

/** One scenario x contender, as the table and `--json` give it (snake_case, like the wire and Prometheus). */
export interface EvaluationRow {
  scenario: string;
  contender: string;
  requests: number;
  requests_finished: number;
  ttft_within_sla: number;
  itl_within_sla: number;
  both_within_sla: number;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  ttft_p99_ms: number | null;
  itl_p50_ms: number | null;
  itl_p95_ms: number | null;
  itl_p99_ms: number | null;
  replica_seconds: number;
  cost_vs_oracle: number | null;
  scale_actions: number;
  flaps: number;
  reaction_time_s: number | null;
  under_provisioned_s: number;
  requests_restarted: number;
  requests_rejected: number;
  requests_unfinished: number;
}

export interface MetricsContext {
  ttftMs: number;
  itlMs: number;
  /** Workers the scenario needs at `tS` (by the sizing table). */
  need: (tS: number) => number;
  /** Seconds within which a reversal is a flap (3 planner ticks). */
  flapWindowS: number;
  /** Window of the reaction time's rise: the start-up delay (or one tick when it is 0). */
  riseWindowS: number;
}

/** Nearest-rank percentile (0..100) of sorted values; null for none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Actions that reverse the previous action's direction within `windowS` of it. */
export function countFlaps(actions: readonly ScaleAction[], windowS: number): number {
  let flaps = 0;
  for (let i = 1; i < actions.length; i++) {
    const prev = Math.sign(actions[i - 1].to - actions[i - 1].from);
    const dir = Math.sign(actions[i].to - actions[i].from);
    if (dir !== 0 && dir === -prev && actions[i].tS - actions[i - 1].tS <= windowS + 1e-9) flaps++;
  }
  return flaps;
}

/** Seconds of [0, durationS) whose midpoint has fewer ready workers than needed. */
export function underProvisionedSeconds(ready: StepSeries, need: (tS: number) => number, durationS: number): number {
  let under = 0;
  for (let k = 0; k + 0.5 < durationS; k++) if (stepValueAt(ready, k + 0.5) < need(k + 0.5)) under++;
  return under;
}

/** See the file's docblock; on a grid of whole seconds (each second's midpoint). */
export function reactionTime(
  ready: StepSeries,
  need: (tS: number) => number,
  durationS: number,
  riseWindowS: number,
): number | null {
  const n = Math.floor(durationS);
  const d = Math.max(1, Math.round(riseWindowS));
  const needs: number[] = [];
  for (let k = 0; k < n; k++) needs.push(need(k + 0.5));
  let best = 0;
  let peakAt = -1;
  for (let k = d; k < n; k++) {
    const rise = needs[k] - needs[k - d];
    if (rise > best) {
      best = rise;
      peakAt = k;
    }
  }
  if (peakAt < 0) return null;
  const before = needs[peakAt - d];
  let start = peakAt - d + 1;
  while (needs[start] <= before) start++;
  let level = 0;
  for (let k = start; k <= Math.min(n - 1, start + d); k++) level = Math.max(level, needs[k]);
  for (let k = start; k < n; k++) if (stepValueAt(ready, k + 0.5) >= level) return k - start;
  return null;
}

function sortedMs(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (const v of values) if (!Number.isNaN(v)) out[n++] = v * 1000;
  return out.subarray(0, n).sort();
}

const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));

/** Replica-seconds over the oracle's, to 3 decimals; null when the oracle used none. */
export function costVsOracle(replicaSeconds: number, oracleReplicaSeconds: number): number | null {
  return oracleReplicaSeconds > 0 ? Number((replicaSeconds / oracleReplicaSeconds).toFixed(3)) : null;
}

/** Every metric but `cost_vs_oracle` (which needs the oracle's run). */
export function computeRow(scenario: string, contender: string, trace: RunTrace, m: MetricsContext): EvaluationRow {
  const ttft = m.ttftMs / 1000;
  const itl = m.itlMs / 1000;
  const finished = trace.ttftS.length;
  let okTtft = 0;
  let okItl = 0;
  let okBoth = 0;
  for (let i = 0; i < finished; i++) {
    const a = trace.ttftS[i] <= ttft;
    const l = trace.itlS[i];
    const b = Number.isNaN(l) || l <= itl;
    if (a) okTtft++;
    if (b) okItl++;
    if (a && b) okBoth++;
  }
  const share = (k: number) => (finished === 0 ? 0 : Number((k / finished).toFixed(4)));
  const t = sortedMs(trace.ttftS);
  const l = sortedMs(trace.itlS);
  return {
    scenario,
    contender,
    requests: trace.arrived,
    requests_finished: finished,
    ttft_within_sla: share(okTtft),
    itl_within_sla: share(okItl),
    both_within_sla: share(okBoth),
    ttft_p50_ms: round(percentileOfSorted(t, 50), 1),
    ttft_p95_ms: round(percentileOfSorted(t, 95), 1),
    ttft_p99_ms: round(percentileOfSorted(t, 99), 1),
    itl_p50_ms: round(percentileOfSorted(l, 50), 2),
    itl_p95_ms: round(percentileOfSorted(l, 95), 2),
    itl_p99_ms: round(percentileOfSorted(l, 99), 2),
    replica_seconds: Number(trace.replicaSeconds.toFixed(1)),
    cost_vs_oracle: null,
    scale_actions: trace.actions.length,
    flaps: countFlaps(trace.actions, m.flapWindowS),
    reaction_time_s: reactionTime(trace.ready, m.need, trace.durationS, m.riseWindowS),
    under_provisioned_s: underProvisionedSeconds(trace.ready, m.need, trace.durationS),
    requests_restarted: trace.restarted,
    requests_rejected: trace.rejected,
    requests_unfinished: trace.unfinished,
  };
}

/** p95 TTFT (ms) of the requests arriving in each window of `windowS`; null where none finished. */
export function p95TtftSeries(trace: RunTrace, windowS: number): (number | null)[] {
  const windows = Math.ceil(trace.durationS / windowS);
  const buckets: number[][] = Array.from({ length: windows }, () => []);
  for (let i = 0; i < trace.arrivalS.length; i++) {
    const k = Math.floor(trace.arrivalS[i] / windowS);
    if (k >= 0 && k < windows) buckets[k].push(trace.ttftS[i] * 1000);
  }
  return buckets.map((b) => {
    if (b.length === 0) return null;
    b.sort((x, y) => x - y);
    return round(percentileOfSorted(b, 95), 1);
  });
}
