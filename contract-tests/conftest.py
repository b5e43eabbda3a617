"""Shared fixtures of the contract tests: the TypeScript codec process and the Struct sets.

`struct_set` is parametrized over our Structs and the published engines' (upstream.py), so
every test that takes it runs against each implementation; an upstream package that cannot
be checked is skipped with the reason, and test_upstream_parity.py fails if none can be.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

import upstream
from codec_client import REPO_ROOT, TsCodec
from fpm_structs import OURS, StructSet

VECTOR_DIR = REPO_ROOT / "schemas" / "vectors"
# hypothesis keeps caches in ./.hypothesis by default; keep them in the gitignored cache instead.
set_hypothesis_home_dir(str(Path(__file__).resolve().parent / ".cache" / "hypothesis"))
STRUCT_SET_IDS = ["fpm"] + [p.dist for p in upstream.UPSTREAM_PACKAGES]


@pytest.fixture(scope="session")
def ts_codec():
    codec = TsCodec()
    yield codec
    codec.close()


def load_struct_set(name: str) -> StructSet:
    if name == "fpm":
        return OURS
    pkg = next(p for p in upstream.UPSTREAM_PACKAGES if p.dist == name)
    try:
        return upstream.load(pkg)
    except upstream.UpstreamUnavailable as e:
        pytest.skip(f"upstream {name} not checked: {e}")


@pytest.fixture(scope="session", params=STRUCT_SET_IDS)
def struct_set(request) -> StructSet:
    return load_struct_set(request.param)


def load_vectors(pattern: str) -> list[tuple[str, dict]]:
    """(file, vector) for every vector in the files matching `pattern` under schemas/vectors."""
    out = []
    for path in sorted(VECTOR_DIR.glob(pattern)):
        for v in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            out.append((path.name, v))
    return out


def pytest_terminal_summary(terminalreporter):
    report = upstream.REPORT
    if not report.checked and not report.unavailable:
        return
    terminalreporter.section("upstream parity")
    for dist, version in report.checked.items():
        terminalreporter.write_line(f"checked: {version}")
    for dist, reason in report.unavailable.items():
        terminalreporter.write_line(f"NOT checked: {dist}: {reason}")
