"""hypothesis strategies for valid FPM v1 values, biased to the edges where codecs break.

Values are wire-shaped dicts (snake_case keys, Python ints/floats/str) so the same draw can
build any implementation's Structs (`build`).
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from fpm_structs import MAX_SAFE_INT, StructSet

# msgpack int width boundaries (fixint, uint8, uint16, uint32, uint64) and their neighbours.
INT_EDGES = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 - 2, MAX_SAFE_INT]
FLOAT_EDGES = [
    0.0, -0.0, 5e-324, 2.225073858507201e-308, 2.2250738585072014e-308,  # zeros, smallest and largest subnormal, smallest normal
    1.7976931348623157e308, 1.0, 0.1, 2.0**53, 2.0**53 + 2, 1e-310, 123456.789,
]

counts = st.one_of(st.sampled_from(INT_EDGES), st.integers(0, 300), st.integers(0, MAX_SAFE_INT))
non_negative_floats = st.one_of(
    st.sampled_from(FLOAT_EDGES),
    st.floats(min_value=0.0, allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.0, max_value=2.2250738585072014e-308, allow_subnormal=True),
    st.integers(0, 2**60).map(float),
)
# Repeating a short unicode piece crosses the fixstr (31 bytes) and str8 (255 bytes) limits
# with 1- to 4-byte UTF-8 characters, astral plane included.
repeated_text = st.tuples(st.text(min_size=1, max_size=3), st.integers(0, 120)).map(lambda t: t[0] * t[1])
worker_ids = st.one_of(
    st.text(max_size=40),
    repeated_text,
    st.integers(0, 2**64 - 1).map(str),  # Dynamo: decimal string of the runtime connection id
    st.sampled_from(["", "w" * 31, "w" * 32, "w" * 255, "w" * 256, "\U0001F680" * 8, "\U0001F680" * 64]),
)

SCHEDULED_KINDS = [
    ("num_prefill_requests", counts), ("sum_prefill_tokens", counts), ("var_prefill_length", non_negative_floats),
    ("sum_prefill_kv_tokens", counts), ("num_decode_requests", counts), ("sum_decode_kv_tokens", counts),
    ("var_decode_kv_tokens", non_negative_floats),
]
QUEUED_KINDS = [k for k in SCHEDULED_KINDS if k[0] != "sum_prefill_kv_tokens"]


def _fixed(fields: list[tuple[str, st.SearchStrategy]]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({name: strategy for name, strategy in fields})


fpm_wire_values = st.fixed_dictionaries({
    "version": st.just(1),
    "worker_id": worker_ids,
    "dp_rank": counts,
    "counter_id": counts,
    "wall_time": non_negative_floats,
    "scheduled_requests": _fixed(SCHEDULED_KINDS),
    "queued_requests": _fixed(QUEUED_KINDS),
})


def build(struct_set: StructSet, wire: dict[str, Any]) -> Any:
    """The implementation's ForwardPassMetrics Struct holding these wire values."""
    return struct_set.forward_pass_metrics(
        **{k: v for k, v in wire.items() if k not in ("scheduled_requests", "queued_requests")},
        scheduled_requests=struct_set.scheduled(**wire["scheduled_requests"]),
        queued_requests=struct_set.queued(**wire["queued_requests"]),
    )


# Envelope u64 fields: the JSON-safe limit and the full u64 range older runtimes used.
U64_EDGES = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1, 2**53, 2**53 + 1, 2**63, 2**64 - 1]
u64s = st.one_of(st.sampled_from(U64_EDGES), st.integers(0, 2**64 - 1))
envelope_values = st.fixed_dictionaries({
    "publisher_id": u64s,
    "sequence": u64s,
    "published_at": u64s,
    "topic": st.one_of(st.just("forward-pass-metrics"), st.text(max_size=300)),
    "payload": st.one_of(st.binary(max_size=80), st.integers(0, 70000).map(lambda n: b"\x5a" * n)),
})
