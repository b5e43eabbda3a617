"""Generates schemas/vectors/fpm_v1_extra.json and envelope_v1_extra.json with msgspec.

These are this project's own vectors, beyond the shared ones: width boundaries, str8/str16 ids,
float32 and non-canonical int forms, bool/bin/nil where they do not belong, duplicate keys,
nested unknown values, and the values msgspec accepts but this project rejects as
`invalid_value` (negative ints, ints above 2^53-1, NaN/inf/negative floats): the one expected
divergence from the reference decoder, marked `"msgspec_accepts": true`.

Every expected outcome is computed here by msgspec (our Structs in fpm_structs.py) plus the
physical check, never typed by hand; each case also states the outcome it was written for, and
generation fails if msgspec disagrees, so a changed msgspec cannot silently rewrite a vector.

Run: contract-tests/.venv/bin/python contract-tests/gen_extra_vectors.py  (rewrites both files)
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import msgspec
from msgspec import Raw

from fpm_structs import EventEnvelope, ForwardPassMetrics, physical_problem, python_verdict

ROOT = Path(__file__).resolve().parent.parent
FPM_DECODER = msgspec.msgpack.Decoder(ForwardPassMetrics)
ENVELOPE_DECODER = msgspec.msgpack.Decoder(EventEnvelope)
enc = msgspec.msgpack.encode

TYPICAL_SCHEDULED = {
    "num_prefill_requests": 5, "sum_prefill_tokens": 1024, "var_prefill_length": 33.3,
    "sum_prefill_kv_tokens": 512, "num_decode_requests": 32, "sum_decode_kv_tokens": 8192,
    "var_decode_kv_tokens": 100.0,
}
TYPICAL_QUEUED = {
    "num_prefill_requests": 3, "sum_prefill_tokens": 768, "var_prefill_length": 25.0,
    "num_decode_requests": 1, "sum_decode_kv_tokens": 128, "var_decode_kv_tokens": 0.0,
}


def typical(**top: Any) -> dict:
    """The wire dict of a typical message, with `top` replacing or adding top-level keys."""
    base = {
        "version": 1, "worker_id": "extra-worker", "dp_rank": 2, "counter_id": 17, "wall_time": 0.025,
        "scheduled_requests": dict(TYPICAL_SCHEDULED), "queued_requests": dict(TYPICAL_QUEUED),
    }
    base.update(top)
    return base


def with_scheduled(**fields: Any) -> dict:
    return typical(scheduled_requests={**TYPICAL_SCHEDULED, **fields})


def with_queued(**fields: Any) -> dict:
    return typical(queued_requests={**TYPICAL_QUEUED, **fields})


def f32(value: float) -> Raw:
    return Raw(b"\xca" + struct.pack(">f", value))


def f64(value: float) -> Raw:
    return Raw(b"\xcb" + struct.pack(">d", value))


def u64(value: int) -> Raw:
    return Raw(b"\xcf" + value.to_bytes(8, "big"))


def map_pairs(pairs: list[tuple[Any, Any]]) -> bytes:
    """A msgpack map from raw (key, value) pairs: duplicate or non-str keys, which dicts cannot hold."""
    out = bytearray(b"\xde" + len(pairs).to_bytes(2, "big")) if len(pairs) > 15 else bytearray([0x80 | len(pairs)])
    for k, v in pairs:
        out += enc(k) + enc(v)
    return bytes(out)


def fpm_case(name: str, description: str, payload: Any, expect: str) -> dict:
    data = payload if isinstance(payload, bytes) else enc(payload)
    verdict, value = python_verdict(FPM_DECODER, data)
    if verdict != expect:
        raise SystemExit(f"vector {name}: written for {expect}, msgspec+physical check says {verdict} ({value})")
    case: dict[str, Any] = {"name": name, "description": description, "kind": "fpm", "hex": data.hex()}
    if verdict == "ok":
        case.update(valid=True, decoded=msgspec.to_builtins(value), canonical_hex=enc(value).hex())
    else:
        case.update(valid=False, reject_reason=verdict)
        if verdict == "invalid_value":
            decoded = FPM_DECODER.decode(data)
            case.update(msgspec_accepts=True, msgspec_error=f"none: msgspec decodes it; the physical check rejects {physical_problem(decoded)}")
        else:
            case["msgspec_error"] = value
    return case


def fpm_cases() -> list[dict]:
    c = fpm_case
    valid, schema, decode, invalid, version = "ok", "schema", "decode", "invalid_value", "unsupported_version"
    return [
        # Widths and forms
        c("worker_id_fixstr_31", "worker_id of 31 bytes: the longest fixstr.", typical(worker_id="w" * 31), valid),
        c("worker_id_str8_32", "worker_id of 32 bytes: the shortest str8.", typical(worker_id="w" * 32), valid),
        c("worker_id_str8_255", "worker_id of 255 bytes: the longest str8.", typical(worker_id="w" * 255), valid),
        c("worker_id_str16_256", "worker_id of 256 bytes: str16.", typical(worker_id="w" * 256), valid),
        c("worker_id_str32", "worker_id of 65536 bytes: str32.", typical(worker_id="x" * 65536), valid),
        c("worker_id_astral", "worker_id with astral-plane characters (4-byte UTF-8).", typical(worker_id="gpu-\U0001F680-\U00020000"), valid),
        c("worker_id_empty", "Empty worker_id (the default).", typical(worker_id=""), valid),
        c("int_boundaries", "Ints at every msgpack width boundary.", typical(dp_rank=127, counter_id=128, scheduled_requests={
            **TYPICAL_SCHEDULED, "num_prefill_requests": 255, "sum_prefill_tokens": 256, "sum_prefill_kv_tokens": 65535,
            "num_decode_requests": 65536, "sum_decode_kv_tokens": 2**32 - 1}, queued_requests={
            **TYPICAL_QUEUED, "num_prefill_requests": 2**32, "sum_prefill_tokens": 2**53 - 1}), valid),
        c("int_max_safe", "counter_id 2^53-1: the largest int a JS number holds exactly.", typical(counter_id=2**53 - 1), valid),
        c("int_non_canonical_forms", "Ints in wider forms than needed (uint64 3, uint8 1 as version): accepted, re-encoded smallest.",
          typical(version=Raw(b"\xcc\x01"), dp_rank=u64(3), counter_id=Raw(b"\xd3" + (5).to_bytes(8, "big"))), valid),
        c("float32_in_float_field", "wall_time as msgpack float32: accepted, widened exactly, re-encoded float64.", typical(wall_time=f32(0.1)), valid),
        c("negative_zero_wall_time", "wall_time -0.0: not negative (IEEE), accepted, sign bit kept.", typical(wall_time=-0.0), valid),
        c("subnormal_and_huge_floats", "Smallest subnormal and largest finite float64.",
          with_scheduled(var_prefill_length=5e-324, var_decode_kv_tokens=1.7976931348623157e308), valid),
        c("int_in_float_field_u64", "wall_time as uint64 2^60: an int in a float field, accepted as 2^60.", typical(wall_time=u64(2**60)), valid),
        c("int_in_float_field_u64_max", "var_decode_kv_tokens as uint64 2^64-1: accepted, rounded to the nearest float64 (2^64).",
          with_scheduled(var_decode_kv_tokens=u64(2**64 - 1)), valid),
        c("empty_map", "An empty map: every field takes its default.", b"\x80", valid),
        c("map16_header", "Top-level map16 header for 7 entries: accepted.", b"\xde\x00\x07" + enc(typical())[1:], valid),
        c("queued_has_scheduled_only_key", "queued_requests carries sum_prefill_kv_tokens (not its field): ignored.",
          with_queued(sum_prefill_kv_tokens=9), valid),
        c("nested_unknown_values", "Unknown keys holding nested maps, arrays, bin, ext, nil, bool, floats: skipped.",
          typical(timing_scope={"a": [1, 2.5, None, True, {"b": b"\x00\x01"}], "c": msgspec.msgpack.Ext(5, b"xyz")},
                  scheduled_requests={**TYPICAL_SCHEDULED, "future": [[], {}, "s" * 40]}), valid),
        c("unknown_key_non_str_key_inside", "An unknown key whose map value has int keys: skipped.", typical(extra={1: 2, 3: [4]}), valid),
        c("duplicate_keys_last_wins", "dp_rank twice (1 then 4): the last one wins.",
          map_pairs([("version", 1), ("worker_id", "dup"), ("dp_rank", 1), ("dp_rank", 4)]), valid),
        c("duplicate_nested_key_last_wins", "scheduled_requests.num_decode_requests twice: the last one wins.",
          map_pairs([("worker_id", "dup"), ("scheduled_requests", Raw(map_pairs([("num_decode_requests", 1), ("num_decode_requests", 2)])))]), valid),
        # Wrong types and shapes
        c("bool_in_int_field", "dp_rank true: a bool is not an int.", typical(dp_rank=True), schema),
        c("bool_in_float_field", "wall_time false: a bool is not a float.", typical(wall_time=False), schema),
        c("bin_worker_id", "worker_id as bin instead of str.", typical(worker_id=b"worker"), schema),
        c("int_worker_id", "worker_id as an int (Dynamo ids are decimal strings).", typical(worker_id=7587890123456789012), schema),
        c("str_in_int_field", "counter_id as a str.", typical(counter_id="17"), schema),
        c("nil_nested_struct", "scheduled_requests nil.", typical(scheduled_requests=None), schema),
        c("nil_in_float_field", "wall_time nil.", typical(wall_time=None), schema),
        c("non_str_top_level_key", "A top-level int key.", map_pairs([(1, 2), ("worker_id", "w")]), schema),
        c("non_str_nested_key", "An int key inside queued_requests.", typical(queued_requests={1: 2}), schema),
        c("float_version", "version 1.0 as a float.", typical(version=1.0), schema),
        c("float_in_nested_int", "queued_requests.num_prefill_requests 2.0.", with_queued(num_prefill_requests=2.0), schema),
        c("top_level_str", "A bare msgpack str.", enc("forward-pass-metrics"), schema),
        c("schema_error_before_invalid", "A negative dp_rank then a float counter_id: the type error wins.",
          map_pairs([("dp_rank", -1), ("counter_id", 1.5)]), schema),
        # Not msgpack
        c("invalid_utf8_worker_id", "worker_id bytes are not UTF-8.", map_pairs([("worker_id", Raw(b"\xa2\xff\xfe"))]), decode),
        c("truncated_map_header", "Map header promises 7 entries, input ends after one.", enc(typical())[:20], decode),
        c("truncated_str", "worker_id str header longer than the input.", b"\x81\xa9worker_id\xd9\x20abc", decode),
        c("reserved_byte_in_unknown", "0xc1 inside an unknown key's value: malformed even when skipped.",
          map_pairs([("extra", Raw(b"\x91\xc1"))]), decode),
        c("trailing_after_empty_map", "An empty map followed by a byte.", b"\x80\x00", decode),
        # Versions
        c("version_0", "version 0.", typical(version=0), version),
        c("version_negative", "version -1: a version problem, not a value problem.", typical(version=-1), version),
        c("version_u64_max", "version 2^64-1.", typical(version=2**64 - 1), version),
        c("version_beats_invalid", "version 2 with a negative dp_rank: unsupported_version first.", typical(version=2, dp_rank=-1), version),
        # Decodes, but no physical sense: msgspec accepts, this project rejects (the documented divergence)
        c("negative_dp_rank", "dp_rank -1.", typical(dp_rank=-1), invalid),
        c("negative_counter_int64", "counter_id as int64 -2^63.", typical(counter_id=-(2**63)), invalid),
        c("negative_nested_count", "scheduled_requests.sum_prefill_tokens -5.", with_scheduled(sum_prefill_tokens=-5), invalid),
        c("int_above_max_safe", "counter_id 2^53: a JS number cannot hold the next one exactly.", typical(counter_id=2**53), invalid),
        c("int_u64_max", "queued_requests.sum_decode_kv_tokens 2^64-1.", with_queued(sum_decode_kv_tokens=2**64 - 1), invalid),
        c("nan_wall_time", "wall_time NaN.", typical(wall_time=float("nan")), invalid),
        c("inf_wall_time", "wall_time +inf.", typical(wall_time=float("inf")), invalid),
        c("negative_inf_variance", "scheduled_requests.var_prefill_length -inf.", with_scheduled(var_prefill_length=float("-inf")), invalid),
        c("negative_wall_time", "wall_time -0.001.", typical(wall_time=-0.001), invalid),
        c("negative_int_in_float_field", "queued_requests.var_decode_kv_tokens as int -3.", with_queued(var_decode_kv_tokens=-3), invalid),
        c("nan_float32_variance", "var_decode_kv_tokens float32 NaN.", with_scheduled(var_decode_kv_tokens=f32(float("nan"))), invalid),
    ]


def envelope_case(name: str, description: str, payload: Any, expect: str) -> dict:
    data = payload if isinstance(payload, bytes) else enc(payload)
    try:
        env = ENVELOPE_DECODER.decode(data)
        verdict, detail = "ok", None
    except msgspec.ValidationError as e:
        verdict, detail = "schema", f"ValidationError: {e}"
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        verdict, detail = "decode", f"{type(e).__name__}: {e}"
    if verdict != expect:
        raise SystemExit(f"envelope vector {name}: written for {expect}, msgspec says {verdict} ({detail})")
    case: dict[str, Any] = {"name": name, "description": description, "kind": "envelope", "hex": data.hex()}
    if verdict == "ok":
        if enc(env) != data:
            raise SystemExit(f"envelope vector {name}: valid envelope vectors must be canonical (re-encode byte for byte)")
        case.update(valid=True, decoded={
            "publisher_id": str(env.publisher_id), "sequence": str(env.sequence), "published_at": str(env.published_at),
            "topic": env.topic, "payload_hex": env.payload.hex()})
    else:
        case.update(valid=False, reject_reason=verdict, msgspec_error=detail)
    return case


def envelope(**fields: Any) -> dict:
    base = {"publisher_id": 12345, "sequence": 0, "published_at": 1760000000000, "topic": "forward-pass-metrics",
            "payload": enc(ForwardPassMetrics(worker_id="w", counter_id=0))}
    base.update(fields)
    return base


def envelope_cases() -> list[dict]:
    c = envelope_case
    return [
        c("envelope_all_u64_max", "Every u64 field at 2^64-1.", envelope(publisher_id=2**64 - 1, sequence=2**64 - 1, published_at=2**64 - 1), "ok"),
        c("envelope_zeroes", "publisher_id, sequence, published_at 0 and an empty payload.", envelope(publisher_id=0, published_at=0, payload=b""), "ok"),
        c("envelope_other_topic", "Another topic: a valid envelope (subscribers drop it by topic).", envelope(topic="kv-events"), "ok"),
        c("envelope_bin16_payload", "A payload of 300 bytes (bin16), not an FPM: the envelope does not look inside.", envelope(payload=bytes(range(256)) + b"x" * 44), "ok"),
        c("envelope_negative_publisher", "publisher_id -1.", envelope(publisher_id=-1), "schema"),
        c("envelope_float_sequence", "sequence 1.0.", envelope(sequence=1.0), "schema"),
        c("envelope_missing_payload", "No payload key.", {k: v for k, v in envelope().items() if k != "payload"}, "schema"),
        c("envelope_topic_bin", "topic as bin.", envelope(topic=b"forward-pass-metrics"), "schema"),
        c("envelope_array", "A positional array.", list(envelope().values()), "schema"),
        c("envelope_truncated", "Cut in half.", enc(envelope())[:40], "decode"),
        c("envelope_trailing", "One extra byte.", enc(envelope()) + b"\x00", "decode"),
    ]


def write(path: Path, vectors: list[dict]) -> None:
    doc = {"encoder": f"msgspec {msgspec.__version__}", "generator": "contract-tests/gen_extra_vectors.py", "vectors": vectors}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=True, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    write(ROOT / "schemas" / "vectors" / "fpm_v1_extra.json", fpm_cases())
    write(ROOT / "schemas" / "vectors" / "envelope_v1_extra.json", envelope_cases())
