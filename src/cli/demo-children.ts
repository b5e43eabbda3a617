/**
 * The command lines of the processes `fpm demo` starts: nats-server, `fpm planner` (SLA
 * mode, virtual connector), one `fpm relay` per worker slot and `fpm simulate` in closed
 * loop. Pure, so a test can read exactly what the demo runs.
 */
import type { DemoSettings } from "./demo-state.js";

export const DEMO_NAMESPACE = "demo";
export const DEMO_COMPONENT = "backend";

export function natsServerArgs(port: number): string[] {
  return ["-a", "127.0.0.1", "-p", String(port)];
}

/** The planner deciding every interval; decision records on stdout, no /metrics. */
export function plannerArgs(s: DemoSettings, natsUrl: string): string[] {
  return [
    "planner",
    ...["--nats", natsUrl, "--namespace", DEMO_NAMESPACE, "--component", `${DEMO_COMPONENT}:agg`],
    ...["--optimization-target", "sla", "--ttft", String(s.ttftMs), "--itl", String(s.itlMs)],
    ...["--load-adjustment-interval", String(s.intervalS), "--max-num-batched-tokens", "2048"],
    ...["--gpus-per-replica", String(s.dpRanks), "--max-gpu-budget", String(s.maxWorkers * s.dpRanks)],
    ...["--min-endpoint", "1", "--stale-after-ms", "2500", "--metrics-port", "-1"],
    // The demo compresses time (2 s ticks, 2 s start-up): its stabilization window is three ticks.
    ...["--scale-down-stabilization", String(3 * s.intervalS)],
  ];
}

/** The relay of worker slot `slot`: its engines bind `portBase + slot * dpRanks + rank`. */
export function relayArgs(s: DemoSettings, natsUrl: string, portBase: number, slot: number, metricsPort: number) {
  return [
    "relay",
    ...["--base-port", String(portBase + slot * s.dpRanks), "--dp-size", String(s.dpRanks)],
    ...["--nats", natsUrl, "--namespace", DEMO_NAMESPACE, "--component", DEMO_COMPONENT],
    ...["--metrics-port", String(metricsPort), "--metrics-host", "127.0.0.1"],
  ];
}

/** The simulated deployment under the load step, following the planner, printing `--events`. */
export function simulateArgs(s: DemoSettings, natsUrl: string, portBase: number): string[] {
  return [
    "simulate",
    ...["--workers", String(s.workers), "--dp-ranks", String(s.dpRanks), "--port-base", String(portBase)],
    ...["--arrivals", `step:${s.baseRate}:${s.stepRate}:${s.stepAt}:${s.stepUntil}`, "--poisson"],
    ...["--seed", String(s.seed), "--follow-planner", "--nats", natsUrl],
    ...["--namespace", DEMO_NAMESPACE, "--component", DEMO_COMPONENT],
    ...["--startup-delay", String(s.startupDelayS), "--max-workers", String(s.maxWorkers)],
    ...["--events", "--status-interval", "1", "--heartbeat-interval-ms", "500"],
  ];
}
