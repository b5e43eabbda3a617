"""The upstream side of the Dynamo 1.6.1 planner parity test: ai-dynamo 1.6.1's own
load-scaling state machine on a recorded trace.

Run as a subprocess (`python planner_upstream_161.py TRACE CONFIG_JSON`); it prints one JSON
object per trace line (reason, desired, the largest TTFT/ITL estimate, samples), then a
summary line naming what ran.

What runs is upstream code, unmodified, loaded by file path with its real module names:
`dynamo/planner/core/state_machine.py` (PlannerScalingState: worker inventory, pending
replicas, `advance_load` and its start-up reduction, the GPU band of `budget.py`),
`load_scaling.py` (gates, the sla consolidation checks, the static-threshold rules with
their anti-oscillation guard, the `load` target, the agg combination and its fallback),
`perf_model/ais_adapter.py` (attention-DP grouping, next-request synthesis, the KV-hit-rate
discount) and `perf_model/engine_query.py` (the queued-prefill chunk plan, the decode query).

What cannot run: the AISimulate Rust forward-pass estimator (`aisimulate_core`, not on
PyPI). It is replaced by `RegressionStandIn` below, which answers each forward-pass query
with 1.6.1's own Python regression classes (`perf_model/{prefill,decode,agg}.py`:
bucketed samples, scikit-learn OLS, negative-coefficient rejection), a group of ranks
taking as long as its slowest rank. That is also how fpm approximates it, so this test
checks everything around the estimator exactly and the estimator by construction.
Other stand-ins, for imports that pull the runtime: `dynamo.runtime.logging`,
`planner_config` (only `resolve_min_endpoint`, compiled from its source) and the AIS SDK's
config class.
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from planner_upstream import _load, _package, dist_root

STAND_INS = {
    "aisimulate_core.sdk.RustForwardPassPerfModel": "RegressionStandIn: 1.6.1's Python regression models answer the forward-pass queries",
    "aisimulate_core.sdk.ForwardPassPerfModelConfig": "a dataclass with the fields the adapter reads",
    "dynamo.planner.config.planner_config": "resolve_min_endpoint compiled from the source; the config object is a namespace",
    "dynamo.runtime.logging": "configure_dynamo_logging is a no-op",
}


def load_upstream():
    root = dist_root() / "dynamo"
    for pkg in ["dynamo", "dynamo.common", "dynamo.runtime", "dynamo.planner", "dynamo.planner.core",
                "dynamo.planner.core.perf_model", "dynamo.planner.config"]:
        _package(pkg, root.joinpath(*pkg.split(".")[1:]))
    fpm_mod = _load("dynamo.common.forward_pass_metrics", root / "common" / "forward_pass_metrics.py")
    perf = root / "planner" / "core" / "perf_model"
    _load("dynamo.planner.core.perf_model.base", perf / "base.py")
    regressions = {
        "prefill": _load("dynamo.planner.core.perf_model.prefill", perf / "prefill.py").PrefillRegressionModel,
        "decode": _load("dynamo.planner.core.perf_model.decode", perf / "decode.py").DecodeRegressionModel,
        "aggregated": _load("dynamo.planner.core.perf_model.agg", perf / "agg.py").AggRegressionModel,
    }

    logging_mod = types.ModuleType("dynamo.runtime.logging")
    logging_mod.configure_dynamo_logging = lambda *a, **k: None
    sys.modules[logging_mod.__name__] = logging_mod
    cfg_mod = types.ModuleType("dynamo.planner.config.planner_config")
    source = (root / "planner" / "config" / "planner_config.py").read_text(encoding="utf-8")
    fn = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == "resolve_min_endpoint")
    fn.returns = None
    for a in fn.args.args:
        a.annotation = None
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "planner_config.py", "exec"), cfg_mod.__dict__)
    cfg_mod.PlannerConfig = object
    sys.modules[cfg_mod.__name__] = cfg_mod

    stand_in = make_stand_in(regressions, fpm_mod.ForwardPassMetrics)
    sdk = types.ModuleType("aisimulate_core.sdk")
    sdk.RustForwardPassPerfModel = stand_in
    sdk.ForwardPassPerfModelConfig = AisConfig
    sys.modules["aisimulate_core"] = types.ModuleType("aisimulate_core")
    sys.modules["aisimulate_core.sdk"] = sdk

    core = root / "planner" / "core"
    _load("dynamo.planner.errors", root / "planner" / "errors.py")
    core_types = _load("dynamo.planner.core.types", core / "types.py")
    _load("dynamo.planner.core.perf_model.engine_query", perf / "engine_query.py")
    adapter = _load("dynamo.planner.core.perf_model.ais_adapter", perf / "ais_adapter.py")
    sys.modules["dynamo.planner.core.perf_model"].PlannerEnginePerfModel = adapter.PlannerEnginePerfModel
    _load("dynamo.planner.core.budget", core / "budget.py")
    _load("dynamo.planner.core.load_scaling", core / "load_scaling.py")
    _load("dynamo.planner.core.throughput_scaling", core / "throughput_scaling.py")
    state_machine = _load("dynamo.planner.core.state_machine", core / "state_machine.py")
    return types.SimpleNamespace(
        fpm_type=fpm_mod.ForwardPassMetrics,
        types=core_types,
        State=state_machine.PlannerScalingState,
        version=importlib.metadata.version("ai-dynamo"),
    )


@dataclass
class AisConfig:
    """Stand-in for the AIS SDK's ForwardPassPerfModelConfig: the fields the adapter reads."""

    model: str = ""
    system: str = ""
    backend: str = "vllm"
    worker_type: str = ""
    estimation_mode: str = "fpm_regression"
    tp: int = 1
    pp: int = 1
    estimator_config: dict = field(default_factory=dict)

    @classmethod
    def from_legacy_engine_config(cls, legacy, worker_type, options):
        # The options (max_observations, min_observations, bucket_count, ...) become the estimator's controls.
        return types.SimpleNamespace(estimator_config=dict(options))


def make_stand_in(regressions, fpm_type):
    class RegressionStandIn:
        """The forward-pass estimator, on 1.6.1's Python regression model of the worker type."""

        def __init__(self, config):
            c = config["estimator_config"]
            self.worker_type = config["worker_type"]
            self.model = regressions[self.worker_type](c["max_observations"], c["min_observations"], c["bucket_count"])

        @classmethod
        def best_available(cls, config):
            return cls(config)

        def tune_with_fpms(self, iterations):
            for ranks in iterations:
                for d in ranks:
                    self.model.add_observation(msgspec.convert(d, type=fpm_type))

        def _ready(self):
            return self.model.has_sufficient_data() and self.model._ensure_fitted()

        def diagnostics(self):
            return {"readiness": "ready" if self._ready() else "warming",
                    "retained_observations": self.model.num_observations, "source": "regression-stand-in"}

        def estimate_forward_pass_time_ms(self, ranks):
            if not self._ready():
                return None
            times = []
            for d in ranks:
                s = d["scheduled_requests"]
                if self.worker_type == "prefill":
                    t = self.model._predict_wall_time(float(s["sum_prefill_tokens"]))
                elif self.worker_type == "decode":
                    t = self.model._predict_2d(float(s["num_decode_requests"]), float(s["sum_decode_kv_tokens"]))
                else:
                    t = self.model._predict_2d(float(s["sum_prefill_tokens"]), float(s["sum_decode_kv_tokens"]))
                times.append(t)
            return max(times) * 1000.0

    return RegressionStandIn


MODE = {"prefill": "prefill", "decode": "decode", "agg": "agg"}
ROLE = {"prefill": "prefill", "decode": "decode", "agg": "aggregated"}


def planner_config(config: dict, kind: str):
    dp = config.get("attention_dp")
    spec = None
    if dp:
        roles = {ROLE[kind]: {"attention_dp": dp, "worker_type": ROLE[kind], "model": "m", "system": "s", "backend": "vllm", "tp": 1, "pp": 1,
                              "estimator_config": {}}}
        spec = types.SimpleNamespace(roles=roles)
    return types.SimpleNamespace(
        mode=MODE[kind], optimization_target=config["optimization_target"], enable_load_scaling=True,
        enable_throughput_scaling=False, min_endpoint=config["min_endpoint"], prefill_min_endpoint=None,
        decode_min_endpoint=None, load_scaling_down_sensitivity=config["load_scaling_down_sensitivity"],
        ttft_ms=config["ttft"], itl_ms=config["itl"], max_num_fpm_samples=config["max_num_fpm_samples"],
        load_min_observations=config["load_min_observations"], fpm_sample_bucket_size=config["fpm_sample_bucket_size"],
        prefill_scale_up_queue_tokens=config.get("prefill_scale_up_queue_tokens"),
        prefill_scale_down_queue_tokens=config.get("prefill_scale_down_queue_tokens"),
        decode_scale_up_kv_rate=config.get("decode_scale_up_kv_rate"),
        decode_scale_down_kv_rate=config.get("decode_scale_down_kv_rate"),
        speculative_nextn=config.get("speculative_nextn", 0), min_gpu_budget=config.get("min_gpu_budget", -1),
        max_gpu_budget=config["max_gpu_budget"], max_throughput_scaling_replicas=8, ais_perf_model=spec,
        model_name=None, namespace="dynamo", backend="vllm",
    )


def main() -> None:
    trace_path, config = sys.argv[1], json.loads(sys.argv[2])
    up = load_upstream()
    T = up.types
    caps = T.EngineCapabilities(num_gpu=config["gpus_per_replica"], max_num_batched_tokens=config.get("max_num_batched_tokens"),
                                context_length=config.get("context_length"), max_kv_tokens=config.get("max_kv_tokens"))
    states: dict[str, object] = {}
    for line in Path(trace_path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        kind, comp, n = t["kind"], t["component"], t["replicas"]
        pending = t.get("pending", 0)
        state = states.get(comp)
        if state is None:
            wc = T.WorkerCapabilities(prefill=caps if kind == "prefill" else None, decode=caps if kind != "prefill" else None)
            state = up.State(planner_config(config, kind), wc)
            states[comp] = state
        flag = bool(t.get("scaling_in_progress"))
        prefill = kind == "prefill"
        state.begin_tick()
        state.observe_worker_counts(T.WorkerCounts(
            ready_num_prefill=n if prefill else None, ready_num_decode=None if prefill else n,
            prefill_scaling_in_progress=flag and prefill, decode_scaling_in_progress=flag and not prefill,
            pending_num_prefill=pending if prefill else 0, pending_num_decode=0 if prefill else pending))
        stats = {(e["worker_id"], e["dp_rank"]): msgspec.convert(e, type=up.fpm_type) for e in t["engines"]}
        obs = T.FpmObservations(prefill=stats if prefill else None, decode=None if prefill else stats)
        state.observe_fpm(obs)
        decision = state.advance_load(obs, predicted_kv_hit_rate=t.get("kv_hit_rate"),
                                      predicted_accept_length=t.get("accept_length"))
        diag = state.diagnostics()
        target = None
        if decision is not None:
            target = decision.num_prefill if prefill else decision.num_decode
        model = None
        if config["optimization_target"] == "sla":
            perf = state._prefill_regression if prefill else (state._agg_regression if kind == "agg" else state._decode_regression)
            model = perf._engine_model._model.model if perf._engine_model is not None else None
        print(json.dumps({
            "tick": t["tick"], "component": comp, "reason": diag.load_decision_reason,
            "desired": n + pending if target is None else target,
            "ttft_ms": diag.estimated_ttft_ms, "itl_ms": diag.estimated_itl_ms,
            "samples": model.num_observations if model is not None else 0,
        }, allow_nan=False))
    print(json.dumps({"upstream_version": up.version, "stand_ins": STAND_INS}))


if __name__ == "__main__":
    main()
