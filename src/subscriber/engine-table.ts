/**
 * The subscriber's engines, nested component -> worker_id -> dp_rank. Nested maps keep the
 * hot path free of key building: one lookup of the (cached) component, one hash of the
 * worker id the decoder produced, one small-integer lookup. New engines start on probation
 * (`Probation`): when the table is full, the newest strangers make room, not the engines
 * that keep reporting.
 */
import type { SequenceFollower } from "../util/sequence-follower.js";
import { Probation } from "./probation.js";
import type { TrackedEngine } from "./tracked-engine.js";

/** What the table keeps per engine beyond the public `TrackedEngine`. */
export interface EngineEntry extends TrackedEngine {
  /** Follows the engine's `counter_id`. */
  counterIds: SequenceFollower;
}

export type WorkerRanks = Map<number, EngineEntry>;

export interface ComponentEngines {
  component: string;
  workers: Map<string, WorkerRanks>;
}

export class EngineTable {
  private readonly components = new Map<string, ComponentEngines>();
  private readonly probation = new Probation<EngineEntry>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Engines still on probation. */
  get onProbation(): number {
    return this.probation.size;
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

  get(component: string, workerId: string, dpRank: number): EngineEntry | undefined {
    return this.components.get(component)?.workers.get(workerId)?.get(dpRank);
  }

  /** Adds a new engine with its first message (the caller checked it is absent). */
  add(c: ComponentEngines, t: EngineEntry): void {
    let ranks = c.workers.get(t.workerId);
    if (!ranks) {
      ranks = new Map();
      c.workers.set(t.workerId, ranks);
    }
    ranks.set(t.dpRank, t);
    this.probation.enter(t);
    this.count++;
  }

  /** Call after `t.messages` went up by one. */
  seen(t: EngineEntry): void {
    this.probation.seen(t);
  }

  /** True when the engine has left probation. */
  promoted(t: TrackedEngine): boolean {
    return this.probation.promoted(t as EngineEntry);
  }

  /** Removes the engine that should make room for a newcomer; undefined when all are promoted. */
  evictForNewcomer(): EngineEntry | undefined {
    const t = this.probation.evict();
    if (t) this.remove(t);
    return t;
  }

  delete(t: TrackedEngine): void {
    if (this.remove(t as EngineEntry)) this.probation.delete(t as EngineEntry);
  }

  private remove(t: EngineEntry): boolean {
    const c = this.components.get(t.component);
    const ranks = c?.workers.get(t.workerId);
    if (!ranks || ranks.get(t.dpRank) !== t) return false;
    ranks.delete(t.dpRank);
    this.count--;
    if (ranks.size === 0) c!.workers.delete(t.workerId);
    return true;
  }

  /** Every engine, or those of one component, in arrival order of their worker. */
  list(component?: string): EngineEntry[] {
    const out: EngineEntry[] = [];
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
