/**
 * Paces a simulated deployment against the wall clock: simulated time = elapsed wall time
 * x `speed`. The deployment itself never reads a clock, so the same model runs faster
 * than real time in tests and offline.
 */
import { performance } from "node:perf_hooks";
import type { SimulatedDeployment } from "./deployment.js";

export interface RealtimeSimulationOptions {
  deployment: SimulatedDeployment;
  /** Simulated seconds per wall second. Default 1. */
  speed?: number;
  /** Wall milliseconds between advances; smaller is smoother and costs more CPU. Default 1. */
  tickMs?: number;
  /** Called after each advance (for periodic status). */
  onTick?: (simulatedS: number) => void;
}

export class RealtimeSimulation {
  private readonly opts: RealtimeSimulationOptions;
  private timer: NodeJS.Timeout | null = null;
  private startedMs = 0;
  private running = false;

  constructor(opts: RealtimeSimulationOptions) {
    if (!(opts.speed === undefined || (Number.isFinite(opts.speed) && opts.speed > 0)))
      throw new RangeError(`speed must be > 0, got ${opts.speed}`);
    this.opts = opts;
  }

  get simulatedS(): number {
    return this.opts.deployment.nowS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedMs = performance.now() - (this.opts.deployment.nowS / (this.opts.speed ?? 1)) * 1000;
    const tick = () => {
      if (!this.running) return;
      const target = ((performance.now() - this.startedMs) / 1000) * (this.opts.speed ?? 1);
      this.opts.deployment.advanceTo(target);
      this.opts.onTick?.(target);
      this.timer = setTimeout(tick, this.opts.tickMs ?? 1);
    };
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
