"""Generates the recorded FPM traces of the planner parity tests, deterministically.

`python contract-tests/planner_trace.py > contract-tests/traces/planner_parity_v1.jsonl`
(the pre-1.6 rules) and `python contract-tests/planner_trace.py --v2 >
contract-tests/traces/planner_parity_v2.jsonl` (Dynamo 1.6.1's rules: `generate_v2`).

Each line is one tick of one component (the format `fpm planner --replay-trace` reads):
the latest FPM of every live engine, the ready replica count and whether a scale is in
progress. Components cover every model and branch: `prefill` (prefill model), `decode`
(decode model), `backend` (agg model), `inverted` (a prefill model whose cost falls with
load: fit rejected), `clamped` (a decode model whose num_decode_requests coefficient is
negative: clamped to 0). Phases move the load from light to heavy to light so the rules
scale up, hold and down; some ticks repeat a stale message, send an idle heartbeat, hide
an engine (worker count mismatch), report a scale in progress or carry no FPM at all.
"""
from __future__ import annotations

import json
import random
import sys

TICKS = 40
RANKS = 2
MAX_BATCHED = 2048


def workers_at(tick: int) -> int:
    # 1 worker while warming, 3 under the heavy phase, back to 2 then 1.
    if tick < 8:
        return 1
    if tick < 20:
        return 2 if tick < 12 else 3
    if tick < 30:
        return 2
    return 1


def load_at(tick: int) -> float:
    """0..1: how loaded the engines are (queues and KV)."""
    if tick < 8:
        return 0.2
    if tick < 14:
        return 1.0
    if tick < 20:
        return 0.6
    return 0.03


def engine_fpm(rng: random.Random, kind: str, worker: str, rank: int, counter: int, load: float) -> dict:
    noise = 1.0 + rng.uniform(-0.01, 0.01)
    sched = {"num_prefill_requests": 0, "sum_prefill_tokens": 0, "var_prefill_length": 0.0, "sum_prefill_kv_tokens": 0,
             "num_decode_requests": 0, "sum_decode_kv_tokens": 0, "var_decode_kv_tokens": 0.0}
    queued = {"num_prefill_requests": 0, "sum_prefill_tokens": 0, "var_prefill_length": 0.0,
              "num_decode_requests": 0, "sum_decode_kv_tokens": 0, "var_decode_kv_tokens": 0.0}
    if kind in ("prefill", "inverted", "agg"):
        n = rng.randint(1, 4)
        tokens = rng.randint(200, MAX_BATCHED)
        sched.update(num_prefill_requests=n, sum_prefill_tokens=tokens)
        q = int(load * rng.randint(0, 40_000)) if load > 0.1 else 0
        queued.update(num_prefill_requests=q // 1000, sum_prefill_tokens=q)
    if kind in ("decode", "clamped", "agg"):
        # Batch size follows the load, so a light phase is light in KV too.
        n = rng.randint(1, max(2, int(96 * load)))
        kv = n * rng.randint(200, 2000)
        sched.update(num_decode_requests=n, sum_decode_kv_tokens=kv)
        queued.update(sum_decode_kv_tokens=int(load * rng.randint(0, 150_000)))
    p, d, nd = sched["sum_prefill_tokens"], sched["sum_decode_kv_tokens"], sched["num_decode_requests"]
    wall = {
        "prefill": 0.008 + 3e-5 * p,
        "inverted": 0.2 - 5e-5 * p,
        "decode": 0.004 + 2e-4 * nd + 4e-7 * d,
        "clamped": 0.06 - 3e-4 * nd + 5e-7 * d,
        "agg": 0.005 + 2e-5 * p + 5e-7 * d,
    }[kind] * noise
    return {"version": 1, "worker_id": worker, "dp_rank": rank, "counter_id": counter, "wall_time": wall,
            "scheduled_requests": sched, "queued_requests": queued}


def heartbeat(worker: str, rank: int, counter: int) -> dict:
    z = {"num_prefill_requests": 0, "sum_prefill_tokens": 0, "var_prefill_length": 0.0}
    return {"version": 1, "worker_id": worker, "dp_rank": rank, "counter_id": counter, "wall_time": 0.0,
            "scheduled_requests": {**z, "sum_prefill_kv_tokens": 0, "num_decode_requests": 0, "sum_decode_kv_tokens": 0, "var_decode_kv_tokens": 0.0},
            "queued_requests": {**z, "num_decode_requests": 0, "sum_decode_kv_tokens": 0, "var_decode_kv_tokens": 0.0}}


def generate(out) -> None:
    rng = random.Random(20260601)
    components = [("prefill", "prefill"), ("decode", "decode"), ("backend", "agg"), ("inverted", "inverted"), ("clamped", "clamped")]
    last: dict[tuple[str, str, int], dict] = {}
    for tick in range(TICKS):
        for comp, kind in components:
            n = workers_at(tick)
            engines = []
            for w in range(n):
                for r in range(RANKS):
                    key = (comp, f"{comp}-w{w}", r)
                    counter = tick * 100 + 1
                    roll = rng.random()
                    if key in last and roll < 0.1:
                        fpm = last[key]  # no new message since the last tick: the stale one again
                    elif roll < 0.15:
                        fpm = heartbeat(key[1], r, counter)
                    else:
                        fpm = engine_fpm(rng, kind, key[1], r, counter, load_at(tick))
                    last[key] = fpm
                    engines.append(fpm)
            replicas = n
            in_progress = False
            special = rng.random()
            if tick > 3 and special < 0.05:
                engines = []  # no FPM this tick
            elif tick > 3 and special < 0.1:
                engines = engines[:-1]  # one rank missing: ranks per worker differ or a worker missing
            elif tick > 3 and special < 0.15:
                replicas = n + 1  # the deployment reports a worker that publishes nothing
            elif tick > 3 and special < 0.2:
                in_progress = True
            model_kind = {"inverted": "prefill", "clamped": "decode"}.get(kind, kind)
            line = {"tick": tick, "component": comp, "kind": model_kind, "replicas": replicas, "scale_in_progress": in_progress, "engines": engines}
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def load_v2(tick: int) -> float:
    """Light, heavy, middling, light again, with a dip: consolidation checks pass and refuse."""
    return [0.05, 0.3, 1.0, 0.7, 0.4, 0.15, 0.05, 0.5, 0.02, 0.1][(tick // 6) % 10]


def generate_v2(out) -> None:
    """The Dynamo 1.6.1 trace: as v1, plus replicas still starting (`pending`), a scale in
    progress with and without them, and the runtime metadata 1.6.1 discounts by
    (`kv_hit_rate`, `accept_length`). Components: prefill, decode and agg."""
    rng = random.Random(20261201)
    components = [("prefill", "prefill"), ("decode", "decode"), ("backend", "agg")]
    last: dict[tuple[str, str, int], dict] = {}
    for tick in range(60):
        kv_hit = round(rng.uniform(0.0, 0.6), 3) if tick >= 10 else None
        accept = round(rng.uniform(1.0, 3.0), 3) if tick >= 10 else None
        for comp, kind in components:
            n = 1 + (tick // 4) % 3
            engines = []
            for w in range(n):
                for r in range(RANKS):
                    key = (comp, f"{comp}-w{w}", r)
                    roll = rng.random()
                    if key in last and roll < 0.08:
                        fpm = last[key]
                    elif roll < 0.12:
                        fpm = heartbeat(key[1], r, tick * 100 + 1)
                    else:
                        fpm = engine_fpm(rng, kind, key[1], r, tick * 100 + 1, load_v2(tick))
                    last[key] = fpm
                    engines.append(fpm)
            line = {"tick": tick, "component": comp, "kind": kind, "replicas": n, "pending": 0,
                    "scaling_in_progress": False, "engines": engines}
            special = rng.random()
            # Under heavy load a scale-up is often still starting: the rule must wait for it.
            if load_v2(tick) >= 0.7 and special >= 0.25 and rng.random() < 0.5:
                line.update(pending=1, scaling_in_progress=True)
            if tick > 3 and special < 0.04:
                line["engines"] = []
            elif tick > 3 and special < 0.08:
                line["engines"] = engines[:-1]
            elif tick > 3 and special < 0.2:
                line.update(pending=rng.randint(1, 2), scaling_in_progress=True)
            elif tick > 3 and special < 0.25:
                line["scaling_in_progress"] = True
            if kv_hit is not None:
                line["kv_hit_rate"] = kv_hit
                line["accept_length"] = accept
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    (generate_v2 if "--v2" in sys.argv else generate)(sys.stdout)
