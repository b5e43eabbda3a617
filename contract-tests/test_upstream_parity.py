"""(d) Upstream parity: the published engines' own FPM Structs (ai-dynamo, sglang; versions in
upstream.py) are installed with `pip install --no-deps`, loaded by file path, and run through
tests a to c: test_vectors.py, test_property.py and test_schema_parity.py take the `struct_set`
fixture, which is parametrized over ours and each upstream package.

This file checks that the packages themselves were found: a package without an FPM module is
skipped naming the version that lacks it; the run fails only if no upstream can be checked.
"""
from __future__ import annotations

import msgspec
import pytest

import upstream
from fpm_structs import FPM_VERSION


@pytest.mark.parametrize("pkg", upstream.UPSTREAM_PACKAGES, ids=lambda p: p.dist)
def test_upstream_package_provides_fpm_structs(pkg):
    try:
        structs = upstream.load(pkg)
    except upstream.UpstreamUnavailable as e:
        pytest.skip(f"upstream {pkg.dist} not checked: {e}")
    module = __import__("sys").modules[structs.forward_pass_metrics.__module__]
    assert getattr(module, "FPM_VERSION", FPM_VERSION) == FPM_VERSION, f"{structs.version} declares FPM_VERSION {module.FPM_VERSION}"
    assert structs.forward_pass_metrics().version == FPM_VERSION
    print(f"upstream checked: {structs.version}")


def test_upstream_encoders_write_the_same_bytes_as_ours():
    """The engines' module-level `encode` (what their publishers call) writes our canonical bytes."""
    from fpm_structs import ForwardPassMetrics, QueuedRequestMetrics, ScheduledRequestMetrics
    ours = ForwardPassMetrics(worker_id="w-1", dp_rank=2, counter_id=3, wall_time=0.5,
                              scheduled_requests=ScheduledRequestMetrics(num_prefill_requests=1, var_prefill_length=2.5),
                              queued_requests=QueuedRequestMetrics(num_decode_requests=4))
    checked = 0
    for pkg in upstream.UPSTREAM_PACKAGES:
        try:
            structs = upstream.load(pkg)
        except upstream.UpstreamUnavailable:
            continue
        module = __import__("sys").modules[structs.forward_pass_metrics.__module__]
        theirs = msgspec.convert(msgspec.to_builtins(ours), structs.forward_pass_metrics)
        assert module.encode(theirs) == msgspec.msgpack.encode(ours), f"{structs.version} encodes differently"
        checked += 1
    if checked == 0:
        pytest.skip("no upstream package available")


def test_at_least_one_upstream_package_is_checked():
    reasons = {}
    for pkg in upstream.UPSTREAM_PACKAGES:
        try:
            upstream.load(pkg)
        except upstream.UpstreamUnavailable as e:
            reasons[pkg.dist] = str(e)
    assert len(reasons) < len(upstream.UPSTREAM_PACKAGES), f"no upstream FPM module could be checked: {reasons}"
