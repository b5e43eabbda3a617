"""The published engines' own FPM Structs, for the upstream-parity tests (d).

Each package is installed into this venv with `pip install --no-deps` (wheels cached under
contract-tests/.cache/wheels, so reruns do not download again), and its FPM module is loaded
BY FILE PATH: importing `dynamo` or `sglang` as packages would pull in torch, the Rust runtime
and the rest, which the contract does not need. Both modules import only msgspec and stdlib.

If this interpreter has no matching wheel (sglang publishes CPython-specific wheels), the module
is instead extracted from the CPython 3.11 manylinux wheel: it is pure Python either way.

Versions are pinned below so results are reproducible; override one with the environment
variable named in `version_env` (e.g. FPM_CONTRACT_SGLANG_VERSION=0.5.22).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fpm_structs import StructSet

CONTRACT_DIR = Path(__file__).resolve().parent
WHEEL_CACHE = CONTRACT_DIR / ".cache" / "wheels"
EXTRACTED = CONTRACT_DIR / ".cache" / "extracted"
# Where the fallback looks for a wheel when this interpreter has none of its own.
FALLBACK_WHEEL_TAGS = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                       "--platform", "manylinux_2_34_x86_64", "--platform", "manylinux_2_28_x86_64", "--platform", "any"]


@dataclass(frozen=True)
class UpstreamPackage:
    dist: str
    version: str
    version_env: str
    # Where the module lives in the wheel (found by inspecting the published wheels).
    module_path: str


UPSTREAM_PACKAGES = [
    UpstreamPackage("ai-dynamo", "1.6.1", "FPM_CONTRACT_AI_DYNAMO_VERSION", "dynamo/common/forward_pass_metrics.py"),
    UpstreamPackage("sglang", "0.5.23", "FPM_CONTRACT_SGLANG_VERSION", "sglang/srt/observability/forward_pass_metrics.py"),
]


class UpstreamUnavailable(Exception):
    """The package could not be installed here, or the installed version has no FPM module."""


@dataclass
class UpstreamReport:
    """What was checked, printed at the end of the pytest run."""

    checked: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


REPORT = UpstreamReport()
_loaded: dict[str, StructSet] = {}


def wanted_version(pkg: UpstreamPackage) -> str:
    return os.environ.get(pkg.version_env, pkg.version)


def _installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise UpstreamUnavailable(f"`pip {' '.join(args)}` failed: {(done.stderr or done.stdout).strip()[-800:]}")


def install(pkg: UpstreamPackage, version: str) -> None:
    """pip install --no-deps from the wheel cache, downloading into it first when needed."""
    if _installed_version(pkg.dist) == version:
        return
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"{pkg.dist.replace('-', '_')}-{version}-"
    if not any(p.name.startswith(stem) for p in WHEEL_CACHE.glob("*.whl")):
        _pip("download", "--no-deps", "--only-binary=:all:", "--dest", str(WHEEL_CACHE), f"{pkg.dist}=={version}")
    _pip("install", "--no-deps", "--no-index", "--find-links", str(WHEEL_CACHE), f"{pkg.dist}=={version}")


def _find_module_file(pkg: UpstreamPackage) -> Path:
    dist = importlib.metadata.distribution(pkg.dist)
    known = Path(str(dist.locate_file(pkg.module_path)))
    if known.exists():
        return known
    # Older or newer layouts: any non-test forward_pass_metrics.py that defines the Struct.
    for f in dist.files or []:
        if f.name == "forward_pass_metrics.py" and "tests" not in f.parts:
            path = Path(str(dist.locate_file(f)))
            if "class ForwardPassMetrics" in path.read_text(encoding="utf-8"):
                return path
    raise UpstreamUnavailable(f"{pkg.dist} {dist.version} has no FPM module (no forward_pass_metrics.py defining ForwardPassMetrics)")


def _installed_module(pkg: UpstreamPackage, version: str) -> tuple[Path, str]:
    install(pkg, version)
    path = _find_module_file(pkg)
    return path, str(path.relative_to(Path(str(importlib.metadata.distribution(pkg.dist).locate_file("")))))


def _extracted_module(pkg: UpstreamPackage, version: str, why: str) -> tuple[Path, str]:
    """Fallback: the module file taken out of a CPython 3.11 wheel of the same version."""
    stem = f"{pkg.dist.replace('-', '_')}-{version}-"
    wheels = [p for p in WHEEL_CACHE.glob("*.whl") if p.name.startswith(stem)]
    if not wheels:
        WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
        _pip("download", "--no-deps", "--only-binary=:all:", *FALLBACK_WHEEL_TAGS, "--dest", str(WHEEL_CACHE), f"{pkg.dist}=={version}")
        wheels = [p for p in WHEEL_CACHE.glob("*.whl") if p.name.startswith(stem)]
    with zipfile.ZipFile(wheels[0]) as wheel:
        if pkg.module_path not in wheel.namelist():
            raise UpstreamUnavailable(f"{pkg.dist} {version} has no FPM module ({pkg.module_path} is not in {wheels[0].name})")
        target = EXTRACTED / f"{pkg.dist}-{version}" / pkg.module_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wheel.read(pkg.module_path))
    return target, f"{pkg.module_path}, extracted from {wheels[0].name} because pip install failed: {why[:200]}"


def load(pkg: UpstreamPackage) -> StructSet:
    """The package's FPM Structs, installing it first; raises UpstreamUnavailable with the reason."""
    if pkg.dist in _loaded:
        return _loaded[pkg.dist]
    version = wanted_version(pkg)
    try:
        try:
            path, relative = _installed_module(pkg, version)
        except UpstreamUnavailable as e:
            if "has no FPM module" in str(e):
                raise
            path, relative = _extracted_module(pkg, version, str(e))
        # A unique module name registered in sys.modules: msgspec resolves the postponed
        # annotations (`from __future__ import annotations`) through the module's globals.
        name = f"_upstream_{pkg.dist.replace('-', '_')}_forward_pass_metrics"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        missing = [c for c in ("ForwardPassMetrics", "ScheduledRequestMetrics", "QueuedRequestMetrics") if not hasattr(module, c)]
        if missing:
            raise UpstreamUnavailable(f"{pkg.dist} {version}: {path.name} lacks {', '.join(missing)}")
    except UpstreamUnavailable as e:
        REPORT.unavailable[pkg.dist] = str(e)
        raise
    struct_set = StructSet(
        pkg.dist,
        module.ForwardPassMetrics,
        module.ScheduledRequestMetrics,
        module.QueuedRequestMetrics,
        version=f"{pkg.dist} {version} ({relative})",
    )
    REPORT.checked[pkg.dist] = struct_set.version
    _loaded[pkg.dist] = struct_set
    return struct_set


# The Dynamo runtime itself (the pyo3 bindings of the Rust runtime), for test_dynamo_runtime.py.
# Unlike the packages above it is installed with its dependencies (pydantic, uvloop), into the
# same venv and from the same wheel cache.
RUNTIME_DIST = "ai-dynamo-runtime"
RUNTIME_VERSION = "1.6.1"
RUNTIME_VERSION_ENV = "FPM_CONTRACT_AI_DYNAMO_RUNTIME_VERSION"


def install_runtime() -> str:
    """Installs ai-dynamo-runtime (pin from FPM_CONTRACT_AI_DYNAMO_RUNTIME_VERSION) and ai-dynamo --no-deps;
    returns what was checked, e.g. "ai-dynamo-runtime 1.6.1"."""
    version = os.environ.get(RUNTIME_VERSION_ENV, RUNTIME_VERSION)
    try:
        if _installed_version(RUNTIME_DIST) != version:
            WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
            _pip("download", "--only-binary=:all:", "--dest", str(WHEEL_CACHE), f"{RUNTIME_DIST}=={version}")
            _pip("install", "--no-index", "--find-links", str(WHEEL_CACHE), f"{RUNTIME_DIST}=={version}")
        # dynamo.common (the FPM Structs the runtime's Python side uses) comes from ai-dynamo.
        load(UPSTREAM_PACKAGES[0])
    except UpstreamUnavailable as e:
        REPORT.unavailable[RUNTIME_DIST] = str(e)
        raise
    checked = f"{RUNTIME_DIST} {_installed_version(RUNTIME_DIST)} (the real runtime, pyo3 bindings)"
    REPORT.checked[RUNTIME_DIST] = checked
    return checked
