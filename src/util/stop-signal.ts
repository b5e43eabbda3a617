/** Waits for SIGINT/SIGTERM, an optional duration, or an explicit stop, whichever comes first. */
import type { Logger } from "../util/log.js";
import { numberValue, TIMER_SECONDS } from "./number-option.js";

export interface StopSignal {
  /** Resolves with what stopped it. */
  done: Promise<string>;
  stop(why: string): void;
}

export function untilStopped(opts: { durationS?: number; logger?: Logger } = {}): StopSignal {
  // A duration Node's timer cannot hold would fire after 1 ms: refuse it before listening.
  if (opts.durationS !== undefined) numberValue(opts.durationS, "duration (s)", TIMER_SECONDS);
  let resolveDone!: (why: string) => void;
  const done = new Promise<string>((r) => (resolveDone = r));
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const stop = (why: string) => {
    if (stopped) return;
    stopped = true;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (timer) clearTimeout(timer);
    opts.logger?.debug("stopping", { why });
    resolveDone(why);
  };
  const onSignal = (sig: NodeJS.Signals) => stop(sig);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (opts.durationS !== undefined) timer = setTimeout(() => stop("duration"), opts.durationS * 1000);
  return { done, stop };
}
