/** A worker thread of the evaluation pool (pool.ts): runs the jobs it is sent, one at a time. */
import { parentPort } from "node:worker_threads";
import { ConfigError } from "../util/errors.js";
import { type PoolJob, type PoolReply, runJob } from "./pool.js";

parentPort?.on("message", (m: { index: number; job: PoolJob }) => {
  let reply: PoolReply;
  try {
    reply = { index: m.index, result: runJob(m.job) };
  } catch (err) {
    reply = { index: m.index, error: (err as Error).message, config: err instanceof ConfigError };
  }
  parentPort?.postMessage(reply);
});
