/** Stopping child processes in tests and benchmarks. */
import type { ChildProcess } from "node:child_process";

/** True once the child has exited, by itself or by a signal. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. A child that
 * already died (its exit code or the signal that ended it is set) resolves at once,
 * rather than waiting for an "exit" event that has already been emitted.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
