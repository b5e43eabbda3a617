/**
 * `command` connector: runs a user-given shell command with the desired count, for example
 * `kubectl scale "deployment/$FPM_COMPONENT" --replicas="$FPM_REPLICAS"`. No value is ever
 * pasted into the command text: it runs as `/bin/sh -c TEMPLATE fpm-scale COMPONENT REPLICAS`,
 * so the values arrive as the positional parameters `$1` and `$2` and as the environment
 * variables of SCALE_COMMAND_VARIABLES; component names outside SCALE_COMPONENT_NAME are
 * refused. The command is killed after a timeout. The current count is the number of
 * distinct live workers, and a scale is in progress until that count matches the desired
 * one (or `scaleTimeoutMs` passes).
 */
import { spawn } from "node:child_process";
import { ConfigError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { MAX_TIMER_MS, numberValue } from "../../util/number-option.js";
import type { PlannerDecision } from "../decision.js";
import {
  type ComponentLiveness,
  DEFAULT_SCALE_TIMEOUT_MS,
  type PendingScale,
  type ReplicaConnector,
} from "./replica-connector.js";

/** The scale command is killed after this long, by default (ms). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Environment variables the scale command gets, with what each holds. */
export const SCALE_COMMAND_VARIABLES = {
  FPM_COMPONENT: "the component to scale (also $1)",
  FPM_REPLICAS: "the desired replica count (also $2)",
  FPM_CURRENT_REPLICAS: "the replica count the decision started from",
  FPM_DIRECTION: "up or down",
} as const;

/** Component names a scale command may receive: letters, digits, '.', '_' and '-', 1-128 characters, not starting with '-' or '.'. */
export const SCALE_COMPONENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SCALE_COMPONENT_RULE =
  "letters, digits, '.', '_' and '-' only, at most 128 characters, not starting with '-' or '.'";

/** Throws ConfigError unless `component` may be handed to a scale command. */
export function checkScaleComponent(component: string): void {
  if (!SCALE_COMPONENT_NAME.test(component))
    throw new ConfigError(
      `component ${JSON.stringify(component)} cannot be given to --scale-command: a component name must be ${SCALE_COMPONENT_RULE}`,
    );
}

/**
 * Throws ConfigError for an empty template or one with the old `{component}` / `{replicas}`
 * placeholders: their values used to be pasted into the shell text, and no rewrite of them is
 * safe in every quoting context, so the user rewrites them once.
 */
export function checkScaleCommand(template: string): void {
  if (template.trim() === "") throw new ConfigError("--scale-command must not be empty");
  const old = template.match(/\{(component|replicas)\}/g);
  if (old)
    throw new ConfigError(
      `--scale-command uses ${[...new Set(old)].join(" and ")}, which are no longer replaced (values are never pasted into shell text); ` +
        `use the variables "$FPM_COMPONENT" and "$FPM_REPLICAS" (or "$1" and "$2"), double-quoted, for example: ` +
        `kubectl scale "deployment/$FPM_COMPONENT" --replicas="$FPM_REPLICAS"`,
    );
}

export interface CommandConnectorOptions {
  /** Shell command run by `/bin/sh -c`; reads the values from `$1`, `$2` or SCALE_COMMAND_VARIABLES. Required. */
  command: string;
  /** The command is killed after this long, an integer in 1..2^31-1 ms. Default DEFAULT_COMMAND_TIMEOUT_MS (60,000 ms). */
  commandTimeoutMs?: number;
  /** How long to wait for the live count to match. Default DEFAULT_SCALE_TIMEOUT_MS (600,000 ms). */
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

export class CommandConnector implements ReplicaConnector {
  readonly name = "command";
  private readonly pending = new Map<string, PendingScale>();
  private readonly running = new Set<Promise<CommandRun>>();
  readonly runs: CommandRun[] = [];
  private readonly commandTimeoutMs: number;
  private readonly scaleTimeoutMs: number;

  constructor(private readonly opts: CommandConnectorOptions) {
    checkScaleCommand(opts.command);
    // A timer: beyond what Node's timers hold it would kill every command after 1 ms.
    this.commandTimeoutMs = numberValue(opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, "commandTimeoutMs", {
      integer: true,
      min: 1,
      max: MAX_TIMER_MS,
    });
    this.scaleTimeoutMs = numberValue(opts.scaleTimeoutMs ?? DEFAULT_SCALE_TIMEOUT_MS, "scaleTimeoutMs", { min: 0 });
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
    if (!SCALE_COMPONENT_NAME.test(d.component) || !Number.isSafeInteger(d.desired) || d.desired < 0) {
      this.opts.logger.limited("scale-refused", "error", "scale command not run: unsafe component name or count", {
        component: JSON.stringify(d.component),
        replicas: String(d.desired),
      });
      return;
    }
    this.pending.set(d.component, { desired: d.desired, deadlineMs: nowMs + this.scaleTimeoutMs });
    const run = this.run([d.component, String(d.desired)], {
      FPM_COMPONENT: d.component,
      FPM_REPLICAS: String(d.desired),
      FPM_CURRENT_REPLICAS: String(d.replicas),
      FPM_DIRECTION: d.direction,
    });
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

  private run(args: string[], env: Record<keyof typeof SCALE_COMMAND_VARIABLES, string>): Promise<CommandRun> {
    const command = this.opts.command;
    return new Promise((resolve) => {
      let output = "";
      let timedOut = false;
      // The values are arguments ($0 names the script in the shell's messages), never command text.
      // Own process group, so a timeout kills the shell's children too (they hold the pipes open).
      const child = spawn("/bin/sh", ["-c", command, "fpm-scale", ...args], {
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
