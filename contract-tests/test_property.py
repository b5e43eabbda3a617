"""(b) Property test: hypothesis draws valid FPM messages at the edges (int width boundaries up
to 2^53-1, 0.0/-0.0, subnormal and huge floats, unicode worker ids past 31 and 255 bytes,
astral plane included); msgspec's bytes decode in TypeScript to exactly the same values, and
TypeScript encodes the same values to exactly the bytes msgspec wrote.

Deterministic: derandomize=True and no example database, so CI and a laptop run the same
examples. One Node round trip per example carries both directions.
"""
from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings

from codec_client import exact_text, to_exact
from fpm_structs import EventEnvelope
from strategies import build, envelope_values, fpm_wire_values

MIN_EXAMPLES = 2000


def test_msgspec_bytes_and_typescript_bytes_agree_for_generated_messages(struct_set, ts_codec):
    encoder = msgspec.msgpack.Encoder()
    checked: list[int] = []

    @settings(max_examples=MIN_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(wire=fpm_wire_values)
    def same_bytes_and_values(wire):
        fpm = build(struct_set, wire)
        data = encoder.encode(fpm)
        exact = to_exact(fpm)
        [result] = ts_codec.roundtrip_fpm([(data, exact)])
        decoded, encoded = result["decoded"], result["encoded"]
        assert decoded["ok"], f"TypeScript rejects msgspec's bytes {data.hex()}: {decoded['reason']}: {decoded['detail']}"
        assert exact_text(decoded["value"]) == exact_text(exact), f"TypeScript decodes {data.hex()} to different values"
        assert encoded == {"ok": True, "hex": data.hex()}, "TypeScript encodes different bytes than msgspec"
        checked.append(1)

    same_bytes_and_values()
    assert len(checked) >= MIN_EXAMPLES, f"only {len(checked)} examples ran against {struct_set.version}"


def test_envelopes_with_any_u64_cross_both_ways_exactly(ts_codec):
    """publisher_id, sequence, published_at anywhere in 0..2^64-1 (above 2^53 too), bin8/16/32 payloads."""
    checked: list[int] = []

    @settings(max_examples=500, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(fields=envelope_values)
    def same_bytes_and_values(fields):
        env = EventEnvelope(**fields)
        data = msgspec.msgpack.encode(env)
        [decoded] = ts_codec.decode_envelope([data])
        assert decoded["ok"], f"TypeScript rejects msgspec's envelope: {decoded}"
        assert exact_text(decoded["value"]) == exact_text(to_exact(env))
        [encoded] = ts_codec.encode_envelope([to_exact(env)])
        assert encoded == {"ok": True, "hex": data.hex()}, "TypeScript encodes the envelope differently"
        checked.append(1)

    same_bytes_and_values()
    assert len(checked) >= 500
