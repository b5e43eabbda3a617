"""Planner parity with Dynamo 1.6.1's rules: fpm's parity mode against ai-dynamo 1.6.1's own
load-scaling state machine (planner_upstream_161.py says exactly what is upstream code and
what stands in for the unpublished AIS estimator), on the recorded trace
contract-tests/traces/planner_parity_v2.jsonl (replicas starting, scales in progress, KV
hit rates, accept lengths). For every tick of every component and each target: the same
desired count, the same reason, the same largest TTFT/ITL estimate (1e-6 relative) and the
same sample count. Also: fpm's config key table covers every field of 1.6.1's PlannerConfig.
"""
from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import upstream
from codec_client import REPO_ROOT
from test_planner_parity import ai_dynamo_version  # noqa: F401  (the fixture that installs ai-dynamo)

CONTRACT_DIR = Path(__file__).resolve().parent
TRACE = CONTRACT_DIR / "traces" / "planner_parity_v2.jsonl"
REL = 1e-6

BASE = {
    "max_num_fpm_samples": 64, "fpm_sample_bucket_size": 16, "load_min_observations": 5,
    "load_scaling_down_sensitivity": 80, "min_endpoint": 1, "max_gpu_budget": 8, "gpus_per_replica": 1,
    "max_num_batched_tokens": 2048, "context_length": 8192, "max_kv_tokens": 200_000, "ttft": 500.0, "itl": 50.0,
}
CONFIGS = {
    "sla": {**BASE, "optimization_target": "sla", "ttft": 300.0, "itl": 40.0, "speculative_nextn": 2},
    # No chunk size: the agg TTFT side is unavailable (the fallback), prefill has no estimate.
    "sla_no_chunk_size": {**{k: v for k, v in BASE.items() if k != "max_num_batched_tokens"},
                          "optimization_target": "sla", "ttft": 300.0, "itl": 40.0},
    "sla_attention_dp": {**BASE, "optimization_target": "sla", "ttft": 300.0, "itl": 40.0, "attention_dp": 2},
    "sla_gpu_band": {**BASE, "optimization_target": "sla", "ttft": 300.0, "itl": 40.0, "gpus_per_replica": 2,
                     "max_gpu_budget": 4, "min_gpu_budget": 2},
    "throughput": {**BASE, "optimization_target": "throughput"},
    "latency": {**BASE, "optimization_target": "latency"},
    "load": {**BASE, "optimization_target": "load", "prefill_scale_up_queue_tokens": 20_000,
             "prefill_scale_down_queue_tokens": 2_000, "decode_scale_up_kv_rate": 60, "decode_scale_down_kv_rate": 25},
}
FLAGS = {
    "optimization_target": "--optimization-target", "ttft": "--ttft", "itl": "--itl",
    "max_num_fpm_samples": "--max-num-fpm-samples", "fpm_sample_bucket_size": "--fpm-sample-bucket-size",
    "load_min_observations": "--load-min-observations", "load_scaling_down_sensitivity": "--load-scaling-down-sensitivity",
    "min_endpoint": "--min-endpoint", "max_gpu_budget": "--max-gpu-budget", "min_gpu_budget": "--min-gpu-budget",
    "gpus_per_replica": "--gpus-per-replica", "max_num_batched_tokens": "--max-num-batched-tokens",
    "context_length": "--context-length", "max_kv_tokens": "--max-kv-tokens", "speculative_nextn": "--speculative-nextn",
    "prefill_scale_up_queue_tokens": "--prefill-scale-up-queue-tokens",
    "prefill_scale_down_queue_tokens": "--prefill-scale-down-queue-tokens",
    "decode_scale_up_kv_rate": "--decode-scale-up-kv-rate", "decode_scale_down_kv_rate": "--decode-scale-down-kv-rate",
}


def ours(config: dict, tmp: Path) -> list[dict]:
    cmd = ["node", str(REPO_ROOT / "bin" / "fpm.js"), "planner", "--mode", "parity", "--parity-rules", "1.6.1",
           "--replay-trace", str(TRACE)]
    for key, flag in FLAGS.items():
        if key in config:
            cmd += [flag, str(config[key])]
    if "attention_dp" in config:
        cfg = tmp / "planner.json"
        roles = {r: {"attention_dp": config["attention_dp"]} for r in ("prefill", "decode", "aggregated")}
        cfg.write_text(json.dumps({"ais_perf_model": {"roles": roles}}))
        cmd += ["--config", str(cfg)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def theirs(config: dict) -> tuple[list[dict], dict]:
    done = subprocess.run([sys.executable, str(CONTRACT_DIR / "planner_upstream_161.py"), str(TRACE), json.dumps(config)],
                          capture_output=True, text=True, timeout=300, cwd=CONTRACT_DIR)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return rows[:-1], rows[-1]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


def largest(engines: list[dict], key: str):
    values = [e[key] for e in engines if e.get(key) is not None]
    return max(values) if values else None


def same_reason(ours_reason: str, upstream_reason) -> bool:
    # 1.6.1 leaves its reason unset when a scale-up waits for starting replicas; fpm names it.
    if upstream_reason is None:
        return ours_reason == "pending_replicas"
    # fpm tells a rejected fit apart from too few samples; 1.6.1's readiness says "not ready" for both.
    if upstream_reason == "insufficient_data":
        return ours_reason in ("insufficient_data", "fit_rejected")
    return ours_reason == upstream_reason


def test_trace_v2_is_reproducible():
    import io

    import planner_trace
    buf = io.StringIO()
    planner_trace.generate_v2(buf)
    assert buf.getvalue() == TRACE.read_text(encoding="utf-8"), \
        "regenerate: python contract-tests/planner_trace.py --v2 > contract-tests/traces/planner_parity_v2.jsonl"


@pytest.mark.parametrize("target", list(CONFIGS))
def test_planner_parity_161(target, ai_dynamo_version, tmp_path):  # noqa: F811
    config = CONFIGS[target]
    mine = ours(config, tmp_path)
    up, summary = theirs(config)
    upstream.REPORT.checked["ai-dynamo 1.6.1 planner rules"] = (
        f"ai-dynamo {summary['upstream_version']} PlannerScalingState / load_scaling / budget / ais_adapter / engine_query; "
        f"stood in: {', '.join(summary['stand_ins'])} (test_planner_parity_161.py)")
    print(f"planner parity 1.6.1 ({target}) against ai-dynamo {summary['upstream_version']}; stand-ins: {summary['stand_ins']}")
    assert summary["upstream_version"] == ai_dynamo_version
    assert len(mine) == len(up) == 180
    reasons: dict[str, int] = {}
    rules: dict[str, int] = {}
    for m, u in zip(mine, up):
        where = f"{target} tick {u['tick']} {u['component']}"
        assert m["component"] == u["component"]
        assert m["desired"] == u["desired"], f"{where}: ours {m['replicas']}+{m.get('pending', 0)}->{m['desired']} ({m['reason']}), upstream {u['desired']} ({u['reason']})"
        assert same_reason(m["reason"], u["reason"]), f"{where}: ours {m['reason']}, upstream {u['reason']}"
        assert close(largest(m["engines"], "ttftMs"), u["ttft_ms"]), f"{where}: TTFT ours {largest(m['engines'], 'ttftMs')}, upstream {u['ttft_ms']}"
        assert close(largest(m["engines"], "itlMs"), u["itl_ms"]), f"{where}: ITL ours {largest(m['engines'], 'itlMs')}, upstream {u['itl_ms']}"
        if target.startswith("sla"):
            assert m["model"]["samples"] == u["samples"], f"{where}: samples {m['model']['samples']} vs {u['samples']}"
        reasons[m["reason"]] = reasons.get(m["reason"], 0) + 1
        rules[m["rule"]] = rules.get(m["rule"], 0) + 1
    print(f"reasons {reasons}; rules {rules}")
    # The trace must reach the 1.6.1 branches, not only the gates.
    assert reasons.get("scale_up", 0) > 0 and reasons.get("scale_down", 0) > 0, reasons
    if target == "sla":
        assert reasons.get("scale_down_refused_consolidation", 0) > 0 and reasons.get("pending_replicas", 0) > 0, reasons
    if target == "sla_no_chunk_size":
        assert rules.get("agg_decode_only_fallback", 0) > 0, rules
    if target == "sla_gpu_band":
        assert reasons.get("gpu_budget_guard_hold", 0) > 0, reasons
    if target == "throughput":
        assert rules.get("threshold_consolidation_guard", 0) > 0, rules


def test_config_keys_cover_dynamo_161(ai_dynamo_version):  # noqa: F811
    """Every field of 1.6.1's PlannerConfig (and its aliases) is in fpm's key table."""
    source = (upstream_root() / "planner" / "config" / "planner_config.py").read_text(encoding="utf-8")
    cls = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == "PlannerConfig")
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
            if isinstance(node.value, ast.Call):
                for kw in node.value.keywords:
                    if kw.arg == "validation_alias":
                        names.update(a.value for a in kw.value.args)
    script = ("import('./dist/src/planner/planner-config-keys.js').then(m => "
              "console.log(JSON.stringify(m.knownConfigKeys())))")
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    known = set(json.loads(done.stdout))
    print(f"1.6.1 PlannerConfig: {len(names)} keys and aliases; fpm knows {len(names & known)}")
    assert len(names) > 60
    assert names <= known, f"1.6.1 keys fpm does not know: {sorted(names - known)}"


def upstream_root() -> Path:
    import planner_upstream
    return planner_upstream.dist_root() / "dynamo"
