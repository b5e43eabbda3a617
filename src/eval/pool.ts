/**
 * Runs evaluation jobs (jobs.ts) on a pool of worker threads, or in this thread when
 * `threads` is 1. Results come back in job order whatever thread ran which job, so the
 * output does not depend on the pool: every job is a pure function of its plain-data input.
 */
import { Worker } from "node:worker_threads";
import { ConfigError } from "../util/errors.js";
import { type ContenderJob, type ContenderRun, runContenderJob, runSizingJob, type SizingJob } from "./jobs.js";
import type { SizingTable } from "./sizing.js";

export type PoolJob = { kind: "size"; job: SizingJob } | { kind: "run"; job: ContenderJob };
export type PoolResult = SizingTable | ContenderRun;

/** What a worker thread sends back for one job. */
export type PoolReply = { index: number; result: PoolResult } | { index: number; error: string; config: boolean };

export function runJob(j: PoolJob): PoolResult {
  return j.kind === "size" ? runSizingJob(j.job) : runContenderJob(j.job);
}

/** Runs `jobs`, `threads` at a time; `onDone` hears of each as it completes. */
export async function runPool(
  jobs: readonly PoolJob[],
  threads: number,
  onDone?: (index: number, wallS: number) => void,
): Promise<PoolResult[]> {
  const results: PoolResult[] = new Array(jobs.length);
  if (threads <= 1 || jobs.length <= 1) {
    for (let i = 0; i < jobs.length; i++) {
      const t0 = performance.now();
      results[i] = runJob(jobs[i]);
      onDone?.(i, (performance.now() - t0) / 1000);
    }
    return results;
  }
  const url = new URL("./pool-worker.js", import.meta.url);
  const workers = Array.from({ length: Math.min(threads, jobs.length) }, () => new Worker(url));
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const started = new Map<number, number>();
      const feed = (w: Worker) => {
        if (next >= jobs.length) {
          if (running === 0) resolve();
          return;
        }
        const index = next++;
        running++;
        started.set(index, performance.now());
        w.postMessage({ index, job: jobs[index] });
      };
      for (const w of workers) {
        w.on("message", (m: PoolReply) => {
          running--;
          if ("error" in m) {
            reject(m.config ? new ConfigError(m.error) : new Error(m.error));
            return;
          }
          results[m.index] = m.result;
          onDone?.(m.index, (performance.now() - (started.get(m.index) ?? 0)) / 1000);
          feed(w);
        });
        w.on("error", reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
