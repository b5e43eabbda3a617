"""The upstream side of the planner parity test: ai-dynamo's own planner code on a trace.

Run as a subprocess (`python planner_upstream.py TRACE CONFIG_JSON`) so the `dynamo.*`
modules it registers never meet the other contract tests' imports. It prints one JSON
object per trace line: the upstream estimates, coefficients and decision.

What is upstream code and what is not (ai-dynamo 1.6.1):
- the models are `dynamo.planner.core.perf_model.{prefill,decode,agg}` Prefill/Decode/Agg
  RegressionModel (bucketed samples, moving averages, scikit-learn OLS, clamp/reject,
  estimate_next_ttft / estimate_next_itl), loaded by file path with their real module names;
- decisions use `dynamo.planner.core.load_scaling.LoadScalingMixin` unbound methods on a
  small stand-in `self` (config, capabilities, no pending start-up): `_scale_decision`
  (the sla scale-up rule) and `_prefill/_decode/_agg_easy_decision` (throughput/latency),
  and `PlannerScalingState._reconcile_fpm_worker_count` (extracted from state_machine.py by
  its source, since importing the module pulls the whole runtime);
- NOT upstream: 1.6.1's sla scale-down is consolidation-aware and runs on its AIS perf
  model, not on these regression models; the harness applies the pre-1.6 rule instead
  (n > 1 and every estimate under SLA x sensitivity), and the min_endpoint and
  GPU budget clamp (the trace keeps the budget out of reach). Imports that pull the
  runtime (`planner_config`, `core.types`) are replaced by stubs with the same names.
"""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import math
import sys
import types
from pathlib import Path

import msgspec


def dist_root() -> Path:
    return Path(str(importlib.metadata.distribution("ai-dynamo").locate_file("")))


def _package(name: str, path: Path) -> None:
    if name not in sys.modules:
        m = types.ModuleType(name)
        m.__path__ = [str(path)]
        sys.modules[name] = m


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_upstream():
    root = dist_root() / "dynamo"
    for pkg in ["dynamo", "dynamo.common", "dynamo.planner", "dynamo.planner.core", "dynamo.planner.core.perf_model", "dynamo.planner.config"]:
        _package(pkg, root.joinpath(*pkg.split(".")[1:]))
    fpm_mod = _load("dynamo.common.forward_pass_metrics", root / "common" / "forward_pass_metrics.py")
    _load("dynamo.planner.core.perf_model.base", root / "planner" / "core" / "perf_model" / "base.py")
    prefill = _load("dynamo.planner.core.perf_model.prefill", root / "planner" / "core" / "perf_model" / "prefill.py")
    decode = _load("dynamo.planner.core.perf_model.decode", root / "planner" / "core" / "perf_model" / "decode.py")
    agg = _load("dynamo.planner.core.perf_model.agg", root / "planner" / "core" / "perf_model" / "agg.py")

    # Stand-ins for the two runtime-heavy imports of load_scaling.py.
    cfg = types.ModuleType("dynamo.planner.config.planner_config")

    def resolve_min_endpoint(config, component):
        value = config.prefill_min_endpoint if component == "prefill" else config.decode_min_endpoint
        return config.min_endpoint if value is None else value

    cfg.resolve_min_endpoint = resolve_min_endpoint
    sys.modules[cfg.__name__] = cfg
    core_types = types.ModuleType("dynamo.planner.core.types")
    core_types.FpmObservations = object
    core_types.ScalingDecision = object
    sys.modules[core_types.__name__] = core_types
    load_scaling = _load("dynamo.planner.core.load_scaling", root / "planner" / "core" / "load_scaling.py")

    # _reconcile_fpm_worker_count: compile just that function from state_machine.py.
    source = (root / "planner" / "core" / "state_machine.py").read_text(encoding="utf-8")
    fn_node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == "_reconcile_fpm_worker_count")
    fn_node.decorator_list = []
    module_ast = ast.Module(body=[fn_node], type_ignores=[])
    scope = {"logger": load_scaling.logger, "ForwardPassMetrics": object}
    exec(compile(module_ast, "state_machine.py", "exec"), scope)
    return types.SimpleNamespace(
        fpm_type=fpm_mod.ForwardPassMetrics,
        models={"prefill": prefill.PrefillRegressionModel, "decode": decode.DecodeRegressionModel, "agg": agg.AggRegressionModel},
        mixin=load_scaling.LoadScalingMixin,
        reconcile=scope["_reconcile_fpm_worker_count"],
        version=importlib.metadata.version("ai-dynamo"),
    )


def stand_in_self(config: dict):
    """What the LoadScalingMixin methods read from `self`."""
    cfg = types.SimpleNamespace(
        optimization_target=config["optimization_target"],
        min_endpoint=config["min_endpoint"],
        prefill_min_endpoint=None,
        decode_min_endpoint=None,
        load_scaling_down_sensitivity=config["load_scaling_down_sensitivity"],
    )
    caps = types.SimpleNamespace(
        prefill=types.SimpleNamespace(context_length=config.get("context_length"), max_num_batched_tokens=config.get("max_num_batched_tokens")),
        decode=types.SimpleNamespace(max_kv_tokens=config.get("max_kv_tokens"), max_num_batched_tokens=config.get("max_num_batched_tokens")),
    )
    return types.SimpleNamespace(_config=cfg, _capabilities=caps, _pending_startup=lambda component: 0, _diag_load_reason=None)


def sla_rule(up, me, estimates_ms, sla, n, label, min_ep, sens):
    # Scale-up: upstream `_scale_decision`. Scale-down: the pre-1.6 rule of docs/design/planner-algorithm.md section 7 (see the module doc).
    can_down = n > 1 and bool(estimates_ms) and all(t < sla * (sens / 100.0) for t in estimates_ms)
    return up.mixin._scale_decision(me, estimates_ms, sla, n, label, min_ep, can_scale_down=can_down)


def main() -> None:
    trace_path, config = sys.argv[1], json.loads(sys.argv[2])
    up = load_upstream()
    me = stand_in_self(config)
    # Upstream's consolidation guard (not in the pre-1.6 rules) runs as is; the harness records
    # when it changed a decision, so the test can say the trace never depends on it.
    guard_bound = []

    def guard(desired, ready, values, up_threshold):
        out = up.mixin._consolidation_safe_easy_target(me, desired, ready, values, up_threshold)
        if out != desired:
            guard_bound.append(True)
        return out

    me._consolidation_safe_easy_target = guard
    models: dict[str, object] = {}
    mbt = config["max_num_batched_tokens"]
    sens = config["load_scaling_down_sensitivity"]
    min_ep = config["min_endpoint"]
    target = config["optimization_target"]
    for line in Path(trace_path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        kind, comp, n = t["kind"], t["component"], t["replicas"]
        model = models.get(comp)
        if model is None:
            model = up.models[kind](config["max_num_fpm_samples"], config["load_min_observations"], config["fpm_sample_bucket_size"])
            models[comp] = model
        fpms = [msgspec.convert(e, type=up.fpm_type) for e in t["engines"]]
        stats = {(f.worker_id, f.dp_rank): f for f in fpms}
        for f in fpms:  # parity sampling: the latest message of every engine, every tick
            model.add_observation(f)
        estimates = []
        for f in fpms:
            s, q = f.scheduled_requests, f.queued_requests
            if kind == "prefill":
                estimates.append({"ttft_s": model.estimate_next_ttft(q.sum_prefill_tokens, mbt)})
            elif kind == "decode":
                estimates.append({"itl_s": model.estimate_next_itl(s.sum_decode_kv_tokens, q.sum_decode_kv_tokens)})
            else:
                estimates.append({
                    "ttft_s": model.estimate_next_ttft(q.sum_prefill_tokens, mbt, s.sum_decode_kv_tokens),
                    "itl_s": model.estimate_next_itl(s.sum_decode_kv_tokens, q.sum_decode_kv_tokens),
                })
        fitted = model._is_fitted
        coef = [float(c) for c in model._model.coef_] if fitted else None
        intercept = float(model._model.intercept_) if fitted else None

        desired, gate = n, None
        if t.get("scale_in_progress"):
            gate = "scaling_in_progress"  # 1.6.1's name for the gate
        elif not fpms:
            gate = "no_fpm_data"
        elif not up.reconcile(stats, n, comp):
            gate = "worker_count_mismatch"
        elif target == "sla":
            if not model.has_sufficient_data():
                gate = "insufficient_data"
            elif not fitted:
                gate = "fit_rejected"
            else:
                ttft = [e["ttft_s"] * 1000 for e in estimates if e.get("ttft_s") is not None]
                itl = [e["itl_s"] * 1000 for e in estimates if e.get("itl_s") is not None]
                if kind == "prefill":
                    d = sla_rule(up, me, ttft, config["ttft"], n, "prefill TTFT", min_ep, sens)
                elif kind == "decode":
                    d = sla_rule(up, me, itl, config["itl"], n, "decode ITL", min_ep, sens)
                else:
                    p = sla_rule(up, me, ttft, config["ttft"], n, "agg TTFT", min_ep, sens)
                    dd = sla_rule(up, me, itl, config["itl"], n, "agg ITL", min_ep, sens)
                    # The combination of upstream `_advance_load_agg`.
                    if p is not None and p > n:
                        d = p
                    elif dd is not None and dd > n:
                        d = dd
                    elif p is None and dd is not None and dd < n:
                        d = dd
                    elif p is not None and p < n and dd is not None and dd < n:
                        d = max(p, dd)
                    else:
                        d = None
                desired = n if d is None else d
        else:
            guard_bound.clear()
            fn = {"prefill": up.mixin._prefill_easy_decision, "decode": up.mixin._decode_easy_decision, "agg": up.mixin._agg_easy_decision}[kind]
            d = fn(me, stats, n)
            desired = n if d is None else d
        if gate is None:
            desired = max(desired, min_ep)
            desired = min(desired, config["max_gpu_budget"] // config["gpus_per_replica"])
        print(json.dumps({
            "tick": t["tick"], "component": comp, "gate": gate, "desired": desired,
            "estimates": estimates, "fitted": fitted, "coef": coef, "intercept": intercept,
            "samples": model.num_observations, "consolidation_guard_bound": bool(guard_bound),
        }, allow_nan=False))
    print(json.dumps({"upstream_version": up.version}))


if __name__ == "__main__":
    main()
