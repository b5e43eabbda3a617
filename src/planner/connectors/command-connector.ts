/**
 * `command` connector: runs a user-given command with the desired count, for example
 * `kubectl scale deployment/{component} --replicas={replicas}`. `{component}` and
 * `{replicas}` are replaced (and FPM_COMPONENT / FPM_REPLICAS are set); the command runs
 * through `/bin/sh -c` with a timeout. The current count is the number of distinct live
 * workers, and a scale is in progress until that count matches the desired one (or
 * `scaleTimeoutMs` passes).
 */
import { spawn } from "node:child_process";
import type { Logger } from "../../util/log.js";
import type { PlannerDecision } from "../decision.js";
import type { ComponentLiveness, PendingScale, ReplicaConnector } from "./replica-connector.js";

export interface CommandConnectorOptions {
  /** Shell command template with `{component}` and `{replicas}`. Required. */
  command: string;
  /** The command is killed after this long. Default 60,000 ms. */
  commandTimeoutMs?: number;
  /** How long to wait for the live count to match. Default 600,000 ms. */
  scaleTimeoutMs?: number;
  logger: Logger;
}

/** Outcome of one command run, for the log and tests. */
export interface CommandRun {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

/** Quotes a value for `/bin/sh` (component names come from subjects, so never trusted raw). */
function shellQuote(v: string): string {
  return /^[A-Za-z0-9_.:-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

export class CommandConnector implements ReplicaConnector {
  readonly name = "command";
  private readonly pending = new Map<string, PendingScale>();
  private readonly running = new Set<Promise<CommandRun>>();
  readonly runs: CommandRun[] = [];
  private readonly commandTimeoutMs: number;
  private readonly scaleTimeoutMs: number;

  constructor(private readonly opts: CommandConnectorOptions) {
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 60_000;
    this.scaleTimeoutMs = opts.scaleTimeoutMs ?? 600_000;
  }

  replicas(c: ComponentLiveness): number {
    return c.liveWorkers;
  }

  /** Replicas asked for and not live yet: the estimate of those still starting. */
  pendingReplicas(c: ComponentLiveness): number | undefined {
    const p = this.pending.get(c.component);
    return p ? Math.max(0, p.desired - c.liveWorkers) : 0;
  }

  scaleInProgress(c: ComponentLiveness, nowMs: number): boolean {
    const p = this.pending.get(c.component);
    if (!p) return false;
    if (c.liveWorkers === p.desired || nowMs >= p.deadlineMs) {
      if (c.liveWorkers !== p.desired)
        this.opts.logger.warn("scale did not complete in time; deciding again", {
          component: c.component,
          desired: p.desired,
          live: c.liveWorkers,
        });
      this.pending.delete(c.component);
      return false;
    }
    return true;
  }

  async apply(d: PlannerDecision, nowMs: number): Promise<void> {
    if (d.direction === "hold") return;
    this.pending.set(d.component, { desired: d.desired, deadlineMs: nowMs + this.scaleTimeoutMs });
    const command = this.opts.command
      .replaceAll("{component}", shellQuote(d.component))
      .replaceAll("{replicas}", String(d.desired));
    const run = this.run(command, { FPM_COMPONENT: d.component, FPM_REPLICAS: String(d.desired) });
    this.running.add(run);
    const r = await run;
    this.running.delete(run);
    if (this.runs.length >= 100) this.runs.shift();
    this.runs.push(r);
    if (r.exitCode === 0) this.opts.logger.info("scale command done", { component: d.component, replicas: d.desired });
    else
      this.opts.logger.warn("scale command failed", {
        component: d.component,
        replicas: d.desired,
        exit_code: r.exitCode,
        timed_out: r.timedOut,
        output: r.output.slice(-500),
      });
  }

  private run(command: string, env: Record<string, string>): Promise<CommandRun> {
    return new Promise((resolve) => {
      let output = "";
      let timedOut = false;
      // Own process group, so a timeout kills the shell's children too (they hold the pipes open).
      const child = spawn("/bin/sh", ["-c", command], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      const keep = (b: Buffer) => {
        output = (output + b.toString("utf8")).slice(-4096);
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, this.commandTimeoutMs);
      child.on("error", (err) => {
        output += String(err);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ command, exitCode: code, timedOut, output });
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
