"""(c) Schema parity: field names, order, kinds (int/float/str/struct) and defaults agree between
schemas/*.schema.json (the source of truth), the zod schema (src/schema/zod.ts, described by
probing it in Node), the TypeScript field tables (FPM_FIELDS, SCHEDULED_FIELDS, QUEUED_FIELDS,
ENVELOPE_FIELDS, defaults from defaultForwardPassMetrics()) and the Python Structs (ours and,
through `struct_set`, each upstream engine's). A mismatch fails naming the field.
"""
from __future__ import annotations

import copy

import pytest

from fpm_structs import EventEnvelope
from schema_description import compare, envelope_from_json_schema, from_json_schema, from_node, from_struct


@pytest.fixture(scope="module")
def schema():
    return from_json_schema()


@pytest.fixture(scope="module")
def node_description(ts_codec):
    return ts_codec.describe()


def assert_same(schema, candidate, source):
    problems = compare(schema, candidate, source)
    assert not problems, f"{source} disagrees with schemas/:\n  " + "\n  ".join(problems)


def test_schema_json_describes_every_field_with_kind_and_default(schema):
    assert [f["name"] for f in schema] == ["version", "worker_id", "dp_rank", "counter_id", "wall_time", "scheduled_requests", "queued_requests"]
    def walk(fields, path):
        for f in fields:
            assert f["kind"] in ("int", "float", "str", "struct"), f"{path}.{f['name']}: kind {f['kind']}"
            assert "default" in f, f"{path}.{f['name']} has no default in the JSON Schema"
            if f["kind"] == "struct":
                walk(f["fields"], f"{path}.{f['name']}")
    walk(schema, "$")


def test_zod_schema_matches_json_schema(schema, node_description):
    assert_same(schema, from_node(node_description["zod"]), "zod (src/schema/zod.ts)")


def test_typescript_field_tables_match_json_schema(schema, node_description):
    assert_same(schema, from_node(node_description["tables"]["fpm"]), "TS field tables (src/schema/forward-pass-metrics.ts)")


def test_python_structs_match_json_schema(schema, struct_set):
    assert_same(schema, from_struct(struct_set.forward_pass_metrics), f"Python Structs of {struct_set.version}")


def test_envelope_fields_match_json_schema(node_description):
    reference = envelope_from_json_schema()
    assert_same(reference, from_node(node_description["tables"]["envelope"]), "TS ENVELOPE_FIELDS (src/schema/envelope.ts)")
    assert_same(reference, from_struct(EventEnvelope, with_defaults=False), "Python EventEnvelope (fpm_structs.py)")


def test_parity_check_names_the_field_that_drifted(schema):
    """The comparison itself can fail: a drifted kind, default, order or name is reported by field path."""
    zod = copy.deepcopy(schema)
    drifted = copy.deepcopy(zod)
    scheduled = next(f for f in drifted if f["name"] == "scheduled_requests")
    var = next(f for f in scheduled["fields"] if f["name"] == "var_prefill_length")
    var["kind"] = "int"
    assert compare(schema, drifted, "zod") == ["$.scheduled_requests.var_prefill_length: kind int in zod, float in the schema"]

    drifted = copy.deepcopy(zod)
    drifted[0]["default"] = "2"
    assert compare(schema, drifted, "zod") == ["$.version: default '2' in zod, '1' in the schema (exact JSON)"]

    drifted = copy.deepcopy(zod)
    drifted[2], drifted[3] = drifted[3], drifted[2]
    [problem] = compare(schema, drifted, "zod")
    assert problem.startswith("$: field order differs at position 2: schema has dp_rank, zod has counter_id")

    drifted = [f for f in copy.deepcopy(zod) if f["name"] != "wall_time"]
    assert compare(schema, drifted, "zod") == ["$.wall_time: missing in zod"]

    drifted = copy.deepcopy(zod)
    drifted[1]["ts_name"] = "workerID"
    assert compare(schema, drifted, "zod") == ["$.worker_id: TypeScript name workerID in zod, x-ts-name workerId in the schema"]

    drifted = copy.deepcopy(zod)
    queued = next(f for f in drifted if f["name"] == "queued_requests")
    queued["default"]["num_decode_requests"] = "1"
    assert compare(schema, drifted, "zod") == [
        "$.queued_requests: default " + repr(queued["default"]) + " in zod, " + repr(schema[-1]["default"]) + " in the schema (exact JSON)"]
