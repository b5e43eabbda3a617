/**
 * The subscriber's engines, nested component -> worker_id -> dp_rank. Nested maps keep the
 * hot path free of key building: one lookup of the (cached) component, one hash of the
 * worker id the decoder produced, one small-integer lookup.
 */
import type { TrackedEngine } from "./tracked-engine.js";

export type WorkerRanks = Map<number, TrackedEngine>;

export interface ComponentEngines {
  component: string;
  workers: Map<string, WorkerRanks>;
}

export class EngineTable {
  private readonly components = new Map<string, ComponentEngines>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The engines of one component, created empty on first use. */
  component(name: string): ComponentEngines {
    let c = this.components.get(name);
    if (!c) {
      c = { component: name, workers: new Map() };
      this.components.set(name, c);
    }
    return c;
  }

  get(component: string, workerId: string, dpRank: number): TrackedEngine | undefined {
    return this.components.get(component)?.workers.get(workerId)?.get(dpRank);
  }

  /** Adds a new engine (the caller checked it is absent). */
  add(c: ComponentEngines, t: TrackedEngine): void {
    let ranks = c.workers.get(t.workerId);
    if (!ranks) {
      ranks = new Map();
      c.workers.set(t.workerId, ranks);
    }
    ranks.set(t.dpRank, t);
    this.count++;
  }

  delete(t: TrackedEngine): void {
    const c = this.components.get(t.component);
    const ranks = c?.workers.get(t.workerId);
    if (!ranks || ranks.get(t.dpRank) !== t) return;
    ranks.delete(t.dpRank);
    this.count--;
    if (ranks.size === 0) c!.workers.delete(t.workerId);
  }

  /** Every engine, or those of one component, in arrival order of their worker. */
  list(component?: string): TrackedEngine[] {
    const out: TrackedEngine[] = [];
    const push = (c: ComponentEngines) => {
      for (const ranks of c.workers.values()) for (const t of ranks.values()) out.push(t);
    };
    if (component !== undefined) {
      const c = this.components.get(component);
      if (c) push(c);
    } else {
      for (const c of this.components.values()) push(c);
    }
    return out;
  }
}
