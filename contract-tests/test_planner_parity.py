"""Planner parity: our parity mode against the published ai-dynamo planner code, on a
recorded FPM trace (contract-tests/traces/planner_parity_v1.jsonl, made by
planner_trace.py). For every tick of every component, and for each optimization target:
per-engine TTFT/ITL estimates agree to 1e-6 relative, fitted coefficients agree, and the
desired replica count is the same. What exactly is upstream code is in planner_upstream.py.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import upstream
from codec_client import REPO_ROOT

CONTRACT_DIR = Path(__file__).resolve().parent
TRACE = CONTRACT_DIR / "traces" / "planner_parity_v1.jsonl"
REL = 1e-6

BASE = {
    "max_num_fpm_samples": 64, "fpm_sample_bucket_size": 16, "load_min_observations": 5,
    "load_scaling_down_sensitivity": 80, "min_endpoint": 1, "max_gpu_budget": 8, "gpus_per_replica": 1,
    "max_num_batched_tokens": 2048, "context_length": 8192, "max_kv_tokens": 200_000,
}
CONFIGS = {
    "sla": {**BASE, "optimization_target": "sla", "ttft": 300.0, "itl": 40.0},
    "throughput": {**BASE, "optimization_target": "throughput", "ttft": 500.0, "itl": 50.0},
    "latency": {**BASE, "optimization_target": "latency", "ttft": 500.0, "itl": 50.0},
}
FLAGS = {
    "optimization_target": "--optimization-target", "ttft": "--ttft", "itl": "--itl",
    "max_num_fpm_samples": "--max-num-fpm-samples", "fpm_sample_bucket_size": "--fpm-sample-bucket-size",
    "load_min_observations": "--load-min-observations", "load_scaling_down_sensitivity": "--load-scaling-down-sensitivity",
    "min_endpoint": "--min-endpoint", "max_gpu_budget": "--max-gpu-budget", "gpus_per_replica": "--gpus-per-replica",
    "max_num_batched_tokens": "--max-num-batched-tokens", "context_length": "--context-length", "max_kv_tokens": "--max-kv-tokens",
}


@pytest.fixture(scope="module")
def ai_dynamo_version() -> str:
    pkg = next(p for p in upstream.UPSTREAM_PACKAGES if p.dist == "ai-dynamo")
    version = upstream.wanted_version(pkg)
    try:
        upstream.install(pkg, version)
    except upstream.UpstreamUnavailable as e:
        pytest.fail(f"ai-dynamo {version} could not be installed: {e}")
    return version


def ours(config: dict) -> list[dict]:
    cmd = ["node", str(REPO_ROOT / "bin" / "fpm.js"), "planner", "--mode", "parity", "--parity-rules", "pre-1.6", "--replay-trace", str(TRACE)]
    for key, flag in FLAGS.items():
        cmd += [flag, str(config[key])]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def theirs(config: dict) -> tuple[list[dict], str]:
    done = subprocess.run([sys.executable, str(CONTRACT_DIR / "planner_upstream.py"), str(TRACE), json.dumps(config)],
                          capture_output=True, text=True, timeout=300, cwd=CONTRACT_DIR)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return rows[:-1], rows[-1]["upstream_version"]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def test_trace_is_reproducible():
    import planner_trace
    import io
    buf = io.StringIO()
    planner_trace.generate(buf)
    assert buf.getvalue() == TRACE.read_text(encoding="utf-8"), "regenerate: python contract-tests/planner_trace.py > contract-tests/traces/planner_parity_v1.jsonl"


@pytest.mark.parametrize("target", list(CONFIGS))
def test_planner_parity(target, ai_dynamo_version):
    config = CONFIGS[target]
    mine = ours(config)
    up, version = theirs(config)
    upstream.REPORT.checked["ai-dynamo planner"] = f"ai-dynamo {version} planner perf models + load-scaling rules (test_planner_parity.py)"
    print(f"planner parity ({target}) against ai-dynamo {version}")
    assert version == ai_dynamo_version
    assert len(mine) == len(up) == 200
    compared = {"estimates": 0, "coefficients": 0, "decisions": 0}
    directions: dict[str, int] = {}
    for m, u in zip(mine, up):
        where = f"{target} tick {u['tick']} {u['component']}"
        assert m["component"] == u["component"]
        assert len(m["engines"]) == len(u["estimates"]), where
        if target == "sla":
            for i, (me, ue) in enumerate(zip(m["engines"], u["estimates"])):
                for ours_key, up_key in (("ttftMs", "ttft_s"), ("itlMs", "itl_s")):
                    if up_key in ue:
                        mv = me.get(ours_key)
                        uv = ue[up_key]
                        assert close(None if mv is None else mv / 1000, uv), f"{where} engine {i} {up_key}: ours {mv} ms, upstream {uv} s"
                        compared["estimates"] += uv is not None
            if u["fitted"]:
                assert m["model"]["coef"] is not None, where
                assert close(m["model"]["intercept"], u["intercept"]), f"{where} intercept {m['model']['intercept']} vs {u['intercept']}"
                for a, b in zip(m["model"]["coef"], u["coef"]):
                    assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-12 * max(1.0, abs(u["intercept"]))), f"{where} coef {m['model']['coef']} vs {u['coef']}"
                compared["coefficients"] += 1
        assert m["model"]["samples"] == u["samples"], f"{where} samples {m['model']['samples']} vs {u['samples']}"
        assert not u["consolidation_guard_bound"], f"{where}: upstream's consolidation guard (not in the pre-1.6 rules) changed this decision; the trace must not depend on it"
        if u["gate"] is not None:
            assert m["reason"] == u["gate"], f"{where}: ours {m['reason']}, upstream gate {u['gate']}"
        assert m["desired"] == u["desired"], f"{where}: ours {m['replicas']}->{m['desired']} ({m['reason']}), upstream {u['desired']} (gate {u['gate']})"
        compared["decisions"] += 1
        directions[m["direction"]] = directions.get(m["direction"], 0) + 1
    print(f"compared {compared}, directions {directions}")
    # The trace must exercise the rules, not only the gates.
    assert directions.get("up", 0) > 0 and directions.get("down", 0) > 0, directions
    if target == "sla":
        assert compared["estimates"] > 300 and compared["coefficients"] > 50, compared
