"""(a) Every golden vector gets the same outcome in Python (msgspec) and TypeScript (src/codec).

Same outcome means: both accept with the same values (compared exactly: ints as decimal
strings, floats by their float64 bits) and re-encode to the same bytes, or both reject in the
same category. msgspec's own categories are ValidationError -> `schema`, DecodeError ->
`decode`, version != 1 -> `unsupported_version`; `invalid_value` is this project's physical
check, computed in Python on the decoded Struct (fpm_structs.physical_problem), so it is
compared too rather than skipped. Runs against our Structs and each upstream engine's.
"""
from __future__ import annotations

import msgspec
import pytest

from codec_client import exact_text, to_exact
from conftest import load_vectors
from fpm_structs import EventEnvelope, python_verdict

FPM_VECTORS = [v for v in load_vectors("fpm_v1*.json")]
ENVELOPE_VECTORS = [v for v in load_vectors("envelope_v1*.json")]


def vector_id(item: tuple[str, dict]) -> str:
    return f"{item[0].removesuffix('.json')}:{item[1]['name']}"


def test_vectors_include_the_shared_and_the_extra_files():
    files = {f for f, _ in FPM_VECTORS}
    assert {"fpm_v1.json", "fpm_v1_extra.json"} <= files
    assert len(FPM_VECTORS) >= 60 and len(ENVELOPE_VECTORS) >= 10


@pytest.fixture(scope="module")
def ts_fpm_outcomes(ts_codec):
    """TypeScript's verdict on every FPM vector, in one batch."""
    results = ts_codec.decode_fpm(bytes.fromhex(v["hex"]) for _, v in FPM_VECTORS)
    return {vector_id(item): r for item, r in zip(FPM_VECTORS, results)}


@pytest.mark.parametrize("item", FPM_VECTORS, ids=vector_id)
def test_fpm_vector_same_outcome_in_python_and_typescript(item, struct_set, ts_codec, ts_fpm_outcomes):
    _, vector = item
    data = bytes.fromhex(vector["hex"])
    decoder = msgspec.msgpack.Decoder(struct_set.forward_pass_metrics)
    py_reason, py_value = python_verdict(decoder, data)
    ts = ts_fpm_outcomes[vector_id(item)]
    expected = "ok" if vector["valid"] else vector["reject_reason"]

    assert py_reason == expected, f"{struct_set.version}: Python says {py_reason} ({py_value}), the vector says {expected}"
    if not ts["ok"]:
        assert ts["reason"] == py_reason, f"TypeScript rejects as {ts['reason']} ({ts['detail']}), Python says {py_reason} ({py_value})"
        assert ts["detail"], "a TypeScript rejection carries a detail"
        return
    assert py_reason == "ok", f"TypeScript accepts, Python rejects as {py_reason}: {py_value}"
    assert exact_text(ts["value"]) == exact_text(to_exact(py_value)), "decoded values differ"
    assert msgspec.to_builtins(py_value) == vector["decoded"], f"{struct_set.version} decodes other values than the vector lists"

    canonical = msgspec.msgpack.encode(py_value).hex()
    assert canonical == vector["canonical_hex"], f"{struct_set.version} re-encodes differently from the vector"
    [encoded] = ts_codec.encode_fpm([ts["value"]])
    assert encoded == {"ok": True, "hex": canonical}, "TypeScript re-encodes differently from msgspec"


@pytest.mark.parametrize("item", ENVELOPE_VECTORS, ids=vector_id)
def test_envelope_vector_same_outcome_in_python_and_typescript(item, ts_codec):
    _, vector = item
    data = bytes.fromhex(vector["hex"])
    try:
        env = msgspec.msgpack.decode(data, type=EventEnvelope)
        py_reason = "ok"
    except msgspec.ValidationError as e:
        py_reason, env = "schema", e
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        py_reason, env = "decode", e
    [ts] = ts_codec.decode_envelope([data])
    expected = "ok" if vector["valid"] else vector["reject_reason"]
    assert py_reason == expected, f"Python says {py_reason} ({env}), the vector says {expected}"
    if not ts["ok"]:
        assert ts["reason"] == py_reason, f"TypeScript rejects as {ts['reason']} ({ts['detail']}), Python says {py_reason} ({env})"
        return
    assert py_reason == "ok", f"TypeScript accepts, Python rejects as {py_reason}: {env}"
    assert exact_text(ts["value"]) == exact_text(to_exact(env)), "decoded envelopes differ"
    for key in ("publisher_id", "sequence", "published_at"):
        assert ts["value"][key] == str(vector["decoded"][key]), f"{key} exact, even above 2^53"
    assert ts["value"]["payload"] == vector["decoded"]["payload_hex"]
    [encoded] = ts_codec.encode_envelope([ts["value"]])
    assert encoded == {"ok": True, "hex": msgspec.msgpack.encode(env).hex()}, "TypeScript re-encodes differently from msgspec"
