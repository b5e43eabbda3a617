/**
 * One SVG per scenario, to read at a glance: on top the arrival rate (grey area, right
 * axis) and each contender's ready workers over time (step lines, left axis); below, each
 * contender's p95 TTFT per window on a log scale with the TTFT SLA as a dashed red line.
 * The legend gives each contender's share of requests within both SLAs and its cost
 * against the oracle. Plain SVG 1.1, no scripts, no external fonts or files.
 */
import type { ScenarioEvaluation } from "./evaluation.js";

const W = 960;
const H = 600;
const LEFT = 64;
const RIGHT = 72;
const TOP = 64;
const LOAD_H = 300;
const GAP = 46;
const TTFT_H = 150;
const PLOT_W = W - LEFT - RIGHT;
const TTFT_TOP = TOP + LOAD_H + GAP;

/** Line colours in contender order; the oracle is always dashed black. */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const f = (v: number) => Number(v.toFixed(1)).toString();

/** Round tick steps (1, 2, 5 x 10^k) giving about `count` ticks over [0, max]. */
export function niceStep(max: number, count: number): number {
  const raw = max / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function colourOf(name: string, i: number): { stroke: string; dash: string } {
  if (name === "oracle") return { stroke: "#222222", dash: ' stroke-dasharray="6 4"' };
  return { stroke: PALETTE[i % PALETTE.length], dash: "" };
}

export function renderPlot(e: ScenarioEvaluation): string {
  const p = e.plot;
  const s = e.scenario;
  const minutes = p.durationS > 900;
  const unit = minutes ? 60 : 1;
  const x = (t: number) => LEFT + (Math.min(t, p.durationS) / p.durationS) * PLOT_W;
  const maxWorkers = s.max_workers;
  const yW = (n: number) => TOP + LOAD_H - (n / maxWorkers) * LOAD_H;
  const peak = Math.max(1, ...p.rate);
  const rateStep = niceStep(peak, 5);
  const rateMax = Math.ceil(peak / rateStep) * rateStep;
  const yR = (r: number) => TOP + LOAD_H - (r / rateMax) * LOAD_H;
  const ttftValues = p.contenders.flatMap((c) => c.p95TtftMs).filter((v): v is number => v !== null && v > 0);
  const lo = Math.min(p.ttftSlaMs / 10, ...ttftValues.map((v) => Math.max(1, v)));
  const decadeLo = 10 ** Math.floor(Math.log10(Math.max(1, lo)));
  const decadeHi = 10 ** Math.ceil(Math.log10(Math.max(p.ttftSlaMs * 10, ...ttftValues)));
  const yT = (ms: number) =>
    TTFT_TOP +
    TTFT_H -
    ((Math.log10(Math.max(decadeLo, ms)) - Math.log10(decadeLo)) / (Math.log10(decadeHi) - Math.log10(decadeLo))) *
      TTFT_H;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(
    `<title>${esc(s.name)}: arrivals, ready workers and p95 TTFT of ${esc(e.rows.map((r) => r.contender).join(", "))}</title>`,
  );
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${esc(s.name)}: ${esc(s.arrivals)}, ${s.duration_s} s</text>`,
  );
  out.push(
    `<text x="${LEFT}" y="44" fill="#444444">engine ${esc(s.engine)}, ${s.dp_ranks} ranks per worker, start-up ${s.startup_delay_s} s, SLA TTFT ${s.ttft_sla_ms} ms / ITL ${s.itl_sla_ms} ms</text>`,
  );

  // Time grid and axis (shared by both panels).
  const tStep = niceStep(p.durationS / unit, 8) * unit;
  for (let t = 0; t <= p.durationS + 1e-9; t += tStep) {
    const gx = f(x(t));
    out.push(`<line x1="${gx}" y1="${TOP}" x2="${gx}" y2="${TOP + LOAD_H}" stroke="#eeeeee"/>`);
    out.push(`<line x1="${gx}" y1="${TTFT_TOP}" x2="${gx}" y2="${TTFT_TOP + TTFT_H}" stroke="#eeeeee"/>`);
    const label = minutes ? `${f(t / 60)}` : `${f(t)}`;
    out.push(`<text x="${gx}" y="${TTFT_TOP + TTFT_H + 16}" text-anchor="middle">${label}</text>`);
  }
  out.push(
    `<text x="${LEFT + PLOT_W / 2}" y="${TTFT_TOP + TTFT_H + 34}" text-anchor="middle" fill="#444444">time (${minutes ? "min" : "s"})</text>`,
  );

  // Load: grey area on the right axis.
  const pts = p.rate.map((r, i) => `${f(x(i * p.rateStepS))},${f(yR(r))}`);
  out.push(
    `<polygon points="${f(x(0))},${f(yR(0))} ${pts.join(" ")} ${f(x(p.durationS))},${f(yR(0))}" fill="#d9d9d9" fill-opacity="0.7" stroke="none"/>`,
  );
  for (let r = 0; r <= rateMax + 1e-9; r += rateStep)
    out.push(`<text x="${LEFT + PLOT_W + 8}" y="${f(yR(r) + 4)}" fill="#777777">${f(r)}</text>`);
  out.push(
    `<text x="${W - 14}" y="${TOP + LOAD_H / 2}" transform="rotate(90 ${W - 14} ${TOP + LOAD_H / 2})" text-anchor="middle" fill="#777777">arrivals (req/s, grey)</text>`,
  );

  // Workers: grid on the left axis, a step line per contender.
  const wStep = Math.max(1, niceStep(maxWorkers, 8));
  for (let n = 0; n <= maxWorkers; n += wStep) {
    out.push(`<line x1="${LEFT}" y1="${f(yW(n))}" x2="${LEFT + PLOT_W}" y2="${f(yW(n))}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${LEFT - 8}" y="${f(yW(n) + 4)}" text-anchor="end">${n}</text>`);
  }
  out.push(
    `<text x="16" y="${TOP + LOAD_H / 2}" transform="rotate(-90 16 ${TOP + LOAD_H / 2})" text-anchor="middle">ready workers</text>`,
  );
  p.contenders.forEach((c, i) => {
    const { stroke, dash } = colourOf(c.name, i);
    const path: string[] = [];
    for (let k = 0; k < c.ready.times.length; k++) {
      const t = c.ready.times[k];
      if (t > p.durationS) break;
      const v = c.ready.values[k];
      path.push(k === 0 ? `M${f(x(t))},${f(yW(v))}` : `H${f(x(t))}V${f(yW(v))}`);
    }
    path.push(`H${f(x(p.durationS))}`);
    // Contenders that overlap are offset by a pixel each so every line stays visible.
    const offset = f((i - (p.contenders.length - 1) / 2) * 1.5);
    out.push(
      `<path d="${path.join("")}" transform="translate(0 ${offset})" fill="none" stroke="${stroke}" stroke-width="2.2"${dash}/>`,
    );
  });
  out.push(`<rect x="${LEFT}" y="${TOP}" width="${PLOT_W}" height="${LOAD_H}" fill="none" stroke="#999999"/>`);

  // p95 TTFT panel, log scale, with the SLA.
  for (let d = decadeLo; d <= decadeHi + 1e-9; d *= 10) {
    out.push(`<line x1="${LEFT}" y1="${f(yT(d))}" x2="${LEFT + PLOT_W}" y2="${f(yT(d))}" stroke="#e6e6e6"/>`);
    const label = d >= 1000 ? `${d / 1000} s` : `${d} ms`;
    out.push(`<text x="${LEFT - 8}" y="${f(yT(d) + 4)}" text-anchor="end">${label}</text>`);
  }
  out.push(
    `<text x="16" y="${TTFT_TOP + TTFT_H / 2}" transform="rotate(-90 16 ${TTFT_TOP + TTFT_H / 2})" text-anchor="middle">p95 TTFT</text>`,
  );
  out.push(
    `<line x1="${LEFT}" y1="${f(yT(p.ttftSlaMs))}" x2="${LEFT + PLOT_W}" y2="${f(yT(p.ttftSlaMs))}" stroke="#cc0000" stroke-width="1.5" stroke-dasharray="8 4"/>`,
  );
  out.push(
    `<text x="${LEFT + PLOT_W - 6}" y="${f(yT(p.ttftSlaMs) - 5)}" text-anchor="end" fill="#cc0000">TTFT SLA ${p.ttftSlaMs} ms</text>`,
  );
  p.contenders.forEach((c, i) => {
    const { stroke, dash } = colourOf(c.name, i);
    const segs: string[] = [];
    let pen = false;
    c.p95TtftMs.forEach((v, k) => {
      if (v === null) {
        pen = false;
        return;
      }
      const px = f(x((k + 0.5) * p.windowS));
      segs.push(`${pen ? "L" : "M"}${px},${f(yT(v))}`);
      pen = true;
    });
    if (segs.length > 0)
      out.push(`<path d="${segs.join("")}" fill="none" stroke="${stroke}" stroke-width="1.8"${dash}/>`);
  });
  out.push(`<rect x="${LEFT}" y="${TTFT_TOP}" width="${PLOT_W}" height="${TTFT_H}" fill="none" stroke="#999999"/>`);

  // Legend, inside the top panel's upper left corner.
  const rows = e.rows;
  const lw = 330;
  out.push(
    `<rect x="${LEFT + 8}" y="${TOP + 8}" width="${lw}" height="${16 * rows.length + 10}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`,
  );
  rows.forEach((r, i) => {
    const { stroke, dash } = colourOf(r.contender, i);
    const ly = TOP + 22 + 16 * i;
    out.push(
      `<line x1="${LEFT + 16}" y1="${ly - 4}" x2="${LEFT + 40}" y2="${ly - 4}" stroke="${stroke}" stroke-width="2.5"${dash}/>`,
    );
    const cost = r.cost_vs_oracle === null ? "-" : `${r.cost_vs_oracle.toFixed(2)}x`;
    out.push(
      `<text x="${LEFT + 48}" y="${ly}">${esc(r.contender)}: ${(r.both_within_sla * 100).toFixed(1)}% within both SLAs, ${cost} oracle, ${r.flaps} flap${r.flaps === 1 ? "" : "s"}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
