"""Talks to the TypeScript side: one long-running Node process per pytest session, JSON lines.

`JsonLinesProcess` is generic (any `dist/scripts/*.js` speaking one JSON request per line, one
response per line, in order); `TsCodec` wraps scripts/contract-codec-server.ts. Values cross in
"exact JSON": ints as decimal strings, floats as the 16 hex digits of their float64 bits.
"""
from __future__ import annotations

import json
import struct
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterable

import msgspec

REPO_ROOT = Path(__file__).resolve().parent.parent
DIST_SCRIPTS = REPO_ROOT / "dist" / "scripts"


def node_script(name: str) -> Path:
    """Path of a compiled `scripts/<name>.ts`; fails with the command to run if it is missing."""
    path = DIST_SCRIPTS / f"{name}.js"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `npx tsc -p tsconfig.json` (contract-tests/run.sh does)")
    return path


class JsonLinesProcess:
    """A Node process answering one JSON line per request line. Thread-safe, one request at a time."""

    def __init__(self, script: str, *args: str, timeout_s: float = 120.0) -> None:
        self._proc = subprocess.Popen(
            ["node", str(node_script(script)), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # let Node's errors reach the pytest output
            cwd=REPO_ROOT,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next_id = 0
        self._timeout_s = timeout_s

    def request(self, op: str, **fields: Any) -> Any:
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(json.dumps({"id": rid, "op": op, **fields}, ensure_ascii=True) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"Node process exited (code {self._proc.poll()}) while serving {op}")
        response = json.loads(line)
        if response.get("id") != rid:
            raise RuntimeError(f"out-of-order response: expected id {rid}, got {response.get('id')}")
        if not response["ok"]:
            raise RuntimeError(f"Node could not serve {op}: {response['error']}")
        return response["result"]

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class TsCodec(JsonLinesProcess):
    """decodeFpm / encodeFpm / decodeEnvelope / encodeEnvelope of src/codec, batched."""

    def __init__(self) -> None:
        super().__init__("contract-codec-server")

    def decode_fpm(self, payloads: Iterable[bytes]) -> list[dict]:
        return self.request("decode_fpm", items=[p.hex() for p in payloads])

    def encode_fpm(self, exact_values: Iterable[dict]) -> list[dict]:
        return self.request("encode_fpm", items=list(exact_values))

    def roundtrip_fpm(self, pairs: Iterable[tuple[bytes, dict]]) -> list[dict]:
        """For each (payload, exact value): TypeScript's decode of the payload and its encoding of the value."""
        return self.request("roundtrip_fpm", items=[{"hex": p.hex(), "value": v} for p, v in pairs])

    def decode_envelope(self, payloads: Iterable[bytes]) -> list[dict]:
        return self.request("decode_envelope", items=[p.hex() for p in payloads])

    def encode_envelope(self, exact_values: Iterable[dict]) -> list[dict]:
        return self.request("encode_envelope", items=list(exact_values))

    def describe(self) -> dict:
        return self.request("describe")


def float_bits(value: float) -> str:
    return struct.pack(">d", value).hex()


def bits_float(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


def to_exact(value: Any) -> Any:
    """A Struct (any implementation) or wire-shaped dict as exact JSON, keys in field order."""
    if isinstance(value, msgspec.Struct):
        return {name: to_exact(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, dict):
        return {k: to_exact(v) for k, v in value.items()}
    if isinstance(value, bool):
        raise TypeError("bool has no exact form in the FPM schema")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_bits(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def exact_text(value: Any) -> str:
    """Canonical text of an exact-JSON value, order-sensitive: equal text means equal values and key order."""
    return json.dumps(value, ensure_ascii=True)

