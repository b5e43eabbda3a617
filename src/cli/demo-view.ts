/**
 * What `fpm demo` shows: the live terminal view (per-engine queue, wall time and planner
 * estimates, replicas over time, each decision with its reason) and the final summary.
 * Pure rendering from the state the orchestrator collects.
 */
import { type DemoDecision, type DemoState, type DemoSummary, engineRows, loadAt, relayTotals } from "./demo-state.js";

function f(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits);
}

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  return t.length >= n ? t.slice(0, n) : left ? t.padEnd(n) : t.padStart(n);
}

/** The default policy's rules in words (docs/design/planner-default-policy.md). */
const DEFAULT_POLICY_WHY: Record<string, string> = {
  demand_scale_up: "the demand and backlog need more replicas (one step)",
  worst_engine_overload: "an engine's queue grows or breaks the TTFT SLA",
  predictive_scale_down: "fewer replicas meet the SLAs over the whole stabilization window",
  stabilization_window: "fewer would do now, not over the whole stabilization window",
  scale_down_refused_backlog: "requests are queued: no scale-down",
  capacity_starting: "replicas are starting: no scale-down",
};

/** One line describing why a decision was taken. */
export function describeDecision(d: DemoDecision, ttftSlaMs: number, itlSlaMs: number, downPercent = 80): string {
  const arrow = d.desired === d.replicas ? `${d.replicas}` : `${d.replicas} -> ${d.desired}`;
  let why = "";
  const policy = d.rule ? DEFAULT_POLICY_WHY[d.rule] : undefined;
  if (policy)
    why = `${policy}; ${d.replicasNeeded ?? "-"} needed now, TTFT at ${d.desired}: ${f(d.ttftAtDesiredMs)} ms`;
  else if (d.reason === "scale_up")
    why = `every engine's TTFT estimate above the ${ttftSlaMs} ms SLA (or ITL above ${itlSlaMs} ms); highest TTFT ${f(d.maxTtftMs)} ms`;
  else if (d.reason === "scale_down")
    why = `every engine under ${downPercent}% of the SLAs; highest TTFT ${f(d.maxTtftMs)} ms, ITL ${f(d.maxItlMs)} ms`;
  else if (d.reason === "idle_scale_down") why = "every engine idle for a whole interval";
  else if (d.reason === "no_change")
    why = `estimates between the thresholds (TTFT ${f(d.minTtftMs)}..${f(d.maxTtftMs)} ms)`;
  else if (d.reason === "scaling_in_progress") why = "waiting for the last scale to complete";
  else if (d.reason === "insufficient_data") why = "the latency model is not fitted yet";
  else if (d.reason === "no_fpm_data") why = "no FPM from any engine";
  else why = d.reason;
  return `${pad(d.atS.toFixed(1), 6)} s  replicas ${pad(arrow, 7, true)} ${pad(d.reason, 18, true)} ${why}`;
}

/** Replica counts over time as a compact strip, one character per tick. */
export function replicaStrip(history: readonly { replicas: number }[], width = 60): string {
  const tail = history.slice(-width);
  return tail.map((h) => (h.replicas < 10 ? String(h.replicas) : "+")).join("");
}

export function renderLiveView(s: DemoState): string {
  const lines: string[] = [];
  const load = loadAt(s.settings, s.elapsedS);
  const relays = relayTotals(s);
  const dropped = Object.values(relays.dropped).reduce((a, b) => a + b, 0);
  const sla = { ttft: s.settings.ttftMs, itl: s.settings.itlMs };
  lines.push(
    `fpm demo  ${s.elapsedS.toFixed(0)}/${s.settings.durationS} s   load ${load.rate} req/s (${load.phase})   NATS ${s.natsUrl}   Ctrl-C stops everything`,
  );
  lines.push(
    `replicas ${s.replicas} (ready workers ${s.readyWorkers}, relays ${s.relaysRunning.length})   messages relayed ${relays.forwarded}, dropped ${dropped}   SLA: TTFT ${sla.ttft} ms, ITL ${sla.itl} ms`,
  );
  lines.push("");
  lines.push(
    `${pad("engine (worker/rank)", 22, true)} ${pad("running", 7)} ${pad("queued", 6)} ${pad("queued tok", 10)} ${pad("wall ms", 8)} ${pad("TTFT est ms", 11)} ${pad("ITL est ms", 10)}`,
  );
  const engines = engineRows(s).sort(
    (a, b) => a.workerId.localeCompare(b.workerId, undefined, { numeric: true }) || a.dpRank - b.dpRank,
  );
  for (const e of engines) {
    const sch = e.fpm.scheduledRequests;
    const q = e.fpm.queuedRequests;
    lines.push(
      `${pad(`${e.workerId}/${e.dpRank}`, 22, true)} ${pad(sch.numPrefillRequests + sch.numDecodeRequests, 7)} ${pad(q.numPrefillRequests + q.numDecodeRequests, 6)} ${pad(q.sumPrefillTokens, 10)} ${pad(e.fpm.wallTimeS === 0 ? "idle" : (e.fpm.wallTimeS * 1000).toFixed(1), 8)} ${pad(f(e.ttftMs), 11)} ${pad(f(e.itlMs), 10)}`,
    );
  }
  if (engines.length === 0) lines.push("(waiting for the first FPM)");
  lines.push("");
  lines.push(`replicas per planner tick: ${replicaStrip(s.replicaHistory)}`);
  lines.push("decisions (latest first):");
  for (const d of s.decisions.slice(-8).reverse()) lines.push(`  ${describeDecision(d, sla.ttft, sla.itl)}`);
  return lines.join("\n");
}

export function renderSummary(s: DemoSummary): string {
  const lines: string[] = [];
  lines.push(`== fpm demo summary (${s.durationS} s)`);
  lines.push(
    `scale-ups: ${s.scaleUps}   scale-downs: ${s.scaleDowns}   planner decisions: ${s.decisions}   replicas between ${s.minReplicas} and ${s.maxReplicas}`,
  );
  lines.push(`replicas over time (planner ticks): ${replicaStrip(s.replicaHistory, 1000)}`);
  for (const c of s.changes) lines.push(`  at ${c.atS.toFixed(1)} s: ${c.from} -> ${c.to} (${c.reason})`);
  const dropped = Object.entries(s.relayDropped).filter(([, v]) => v > 0);
  lines.push(
    `messages: engines published ${s.enginesPublished} (dropped at the engine ${s.enginesDropped}; those sent before a relay had connected are not received, as with real engines), relayed to NATS ${s.relayed}, dropped by relays ${dropped.length ? dropped.map(([k, v]) => `${k}=${v}`).join(" ") : "0"}, lost in transit ${s.relayLost}`,
  );
  lines.push(
    `requests: arrived ${s.requests.arrived}, finished ${s.requests.finished}, rejected ${s.requests.rejected}`,
  );
  lines.push(`logs of every process: ${s.logDir}`);
  return lines.join("\n");
}
