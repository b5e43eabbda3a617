"""Normalized field descriptions of the FPM and envelope schemas, from every source that defines one.

A description is a list of {"name", "kind", "default"?, "ts_name"?, "fields"?} in wire order;
kinds are int, float, str, struct (FPM) and u64, str, bin (envelope); defaults are exact JSON
(decimal strings for ints, float64 bits for floats). `compare` lists every disagreement by
field path, so a failing test names the field.
"""
from __future__ import annotations

import json
from typing import Any, Optional

import msgspec
import msgspec.inspect as mi

from codec_client import REPO_ROOT, float_bits, to_exact

SCHEMA_DIR = REPO_ROOT / "schemas"
JSON_KINDS = {"integer": "int", "number": "float", "string": "str"}


def _exact_default(kind: str, value: Any, fields: Optional[list[dict]] = None) -> Any:
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return float_bits(float(value))
    if kind == "struct":
        return {f["name"]: _exact_default(f["kind"], value[f["name"]], f.get("fields")) for f in fields or []}
    return value


def _json_schema_level(doc: dict, node: dict) -> list[dict]:
    order = node["x-field-order"]
    props = node["properties"]
    extra = set(props) - set(order)
    if extra:
        raise AssertionError(f"JSON Schema {node.get('title', doc.get('title'))}: properties {sorted(extra)} are missing from x-field-order")
    out = []
    for name in order:
        prop = props[name]
        d: dict[str, Any] = {"name": name, "ts_name": prop.get("x-ts-name")}
        if "$ref" in prop:
            ref = doc["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
            d["kind"] = "struct"
            d["fields"] = _json_schema_level(doc, ref)
        else:
            d["kind"] = JSON_KINDS.get(prop.get("type"), f"json:{prop.get('type')}")
        if "default" in prop:
            d["default"] = _exact_default(d["kind"], prop["default"], d.get("fields"))
        out.append(d)
    return out


def from_json_schema() -> list[dict]:
    doc = json.loads((SCHEMA_DIR / "forward_pass_metrics.v1.schema.json").read_text(encoding="utf-8"))
    return _json_schema_level(doc, doc)


def envelope_from_json_schema() -> list[dict]:
    doc = json.loads((SCHEMA_DIR / "event_envelope.v1.schema.json").read_text(encoding="utf-8"))
    return [{"name": n, "kind": doc["properties"][n]["x-msgpack"], "ts_name": doc["properties"][n].get("x-ts-name")}
            for n in doc["x-field-order"]]


def _kind_of(info: mi.Type) -> str:
    if isinstance(info, mi.IntType):
        return "u64" if info.ge == 0 else "int"
    if isinstance(info, mi.FloatType):
        return "float"
    if isinstance(info, mi.StrType):
        return "str"
    if isinstance(info, mi.BytesType):
        return "bin"
    if isinstance(info, mi.StructType):
        return "struct"
    return f"python:{type(info).__name__}"


def from_struct(cls: type, with_defaults: bool = True) -> list[dict]:
    """A msgspec Struct class (ours or an engine's) described through msgspec.inspect."""
    info = mi.type_info(cls)
    out = []
    for f in info.fields:
        d: dict[str, Any] = {"name": f.encode_name, "kind": _kind_of(f.type)}
        if d["kind"] == "struct":
            d["fields"] = from_struct(f.type.cls, with_defaults)
        if with_defaults and f.default is not msgspec.NODEFAULT:
            d["default"] = to_exact(f.default)
        elif with_defaults and f.default_factory is not msgspec.NODEFAULT:
            d["default"] = to_exact(f.default_factory())
        out.append(d)
    return out


def from_node(description: list[dict]) -> list[dict]:
    """The Node side's description (scripts/contract-describe.ts) with the same keys as the others."""
    out = []
    for f in description:
        d = {"name": f["name"], "kind": f["kind"]}
        if "tsName" in f:
            d["ts_name"] = f["tsName"]
        if "default" in f:
            d["default"] = f["default"]
        if "fields" in f:
            d["fields"] = from_node(f["fields"])
        out.append(d)
    return out


def compare(reference: list[dict], candidate: list[dict], source: str, path: str = "$") -> list[str]:
    """Every difference between `candidate` and the reference (the JSON Schema), one line per field."""
    problems = []
    ref_names = [f["name"] for f in reference]
    cand_names = [f["name"] for f in candidate]
    for name in ref_names:
        if name not in cand_names:
            problems.append(f"{path}.{name}: missing in {source}")
    for name in cand_names:
        if name not in ref_names:
            problems.append(f"{path}.{name}: in {source} but not in the schema")
    common_ref = [n for n in ref_names if n in cand_names]
    common_cand = [n for n in cand_names if n in ref_names]
    for i, (a, b) in enumerate(zip(common_ref, common_cand)):
        if a != b:
            problems.append(f"{path}: field order differs at position {i}: schema has {a}, {source} has {b} (schema order {ref_names}, {source} order {cand_names})")
            break
    by_name = {f["name"]: f for f in candidate}
    for ref in reference:
        cand = by_name.get(ref["name"])
        if cand is None:
            continue
        p = f"{path}.{ref['name']}"
        if cand["kind"] != ref["kind"]:
            problems.append(f"{p}: kind {cand['kind']} in {source}, {ref['kind']} in the schema")
            continue
        if "ts_name" in cand and "ts_name" in ref and cand["ts_name"] != ref["ts_name"]:
            problems.append(f"{p}: TypeScript name {cand['ts_name']} in {source}, x-ts-name {ref['ts_name']} in the schema")
        nested = compare(ref["fields"], cand["fields"], source, p) if ref["kind"] == "struct" else []
        problems += nested
        # A struct's default is reported only when its fields agree (else the field lines say it).
        if nested:
            continue
        if "default" in ref and "default" in cand and cand["default"] != ref["default"]:
            problems.append(f"{p}: default {cand['default']!r} in {source}, {ref['default']!r} in the schema (exact JSON)")
        elif "default" in ref and "default" not in cand and source_has_defaults(candidate):
            problems.append(f"{p}: no default in {source}, {ref['default']!r} in the schema")
    return problems


def source_has_defaults(description: list[dict]) -> bool:
    return any("default" in f for f in description)
