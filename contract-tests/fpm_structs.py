"""ForwardPassMetrics v1 and the event-plane envelope as msgspec Structs: the Python side of the contract.

Written from docs/design/wire-format.md and `schemas/` (not copied from an engine), so the contract tests compare three
independent descriptions: the JSON Schema, the TypeScript codec and these Structs. Field order is the
wire's key order: msgspec writes Struct fields in declaration order.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, Optional

import msgspec

FPM_VERSION = 1
FPM_TOPIC = "forward-pass-metrics"
MAX_SAFE_INT = 2**53 - 1
# msgpack cannot carry more than 2^64-1, and msgspec bounds must fit an int64: only the sign is checked.
U64 = Annotated[int, msgspec.Meta(ge=0)]


class ScheduledRequestMetrics(msgspec.Struct, frozen=True, gc=False):
    """Requests executed in this iteration."""

    num_prefill_requests: int = 0
    sum_prefill_tokens: int = 0
    var_prefill_length: float = 0.0
    sum_prefill_kv_tokens: int = 0
    num_decode_requests: int = 0
    sum_decode_kv_tokens: int = 0
    var_decode_kv_tokens: float = 0.0


class QueuedRequestMetrics(msgspec.Struct, frozen=True, gc=False):
    """Requests waiting, not scheduled (no sum_prefill_kv_tokens)."""

    num_prefill_requests: int = 0
    sum_prefill_tokens: int = 0
    var_prefill_length: float = 0.0
    num_decode_requests: int = 0
    sum_decode_kv_tokens: int = 0
    var_decode_kv_tokens: float = 0.0


class ForwardPassMetrics(msgspec.Struct, frozen=True, gc=False):
    """One message per scheduler iteration; wall_time 0.0 marks an idle heartbeat."""

    version: int = FPM_VERSION
    worker_id: str = ""
    dp_rank: int = 0
    counter_id: int = 0
    wall_time: float = 0.0
    scheduled_requests: ScheduledRequestMetrics = ScheduledRequestMetrics()
    queued_requests: QueuedRequestMetrics = QueuedRequestMetrics()


class EventEnvelope(msgspec.Struct, frozen=True):
    """One NATS message on the Dynamo event plane. Every key is required; u64 fields reject negatives."""

    publisher_id: U64
    sequence: U64
    published_at: U64
    topic: str
    payload: bytes


class StructSet(msgspec.Struct, frozen=True):
    """The three FPM Struct classes of one implementation (ours, or an upstream engine's)."""

    name: str
    forward_pass_metrics: Any
    scheduled: Any
    queued: Any
    version: str = "contract-tests/fpm_structs.py"


OURS = StructSet("fpm", ForwardPassMetrics, ScheduledRequestMetrics, QueuedRequestMetrics)


def physical_problem(fpm: Any) -> Optional[str]:
    """This project's `invalid_value` check, applied to a decoded Struct (any implementation).

    The same rule as the TypeScript decoder (schemas/forward_pass_metrics.v1.schema.json
    `x-invalid-value`): ints other than `version` in [0, 2^53-1]; floats >= 0 and finite.
    Returns the first offending path in wire order, or None.
    """
    def check(obj: Any, path: str) -> Optional[str]:
        for name in obj.__struct_fields__:
            value = getattr(obj, name)
            p = f"{path}.{name}"
            if isinstance(value, msgspec.Struct):
                found = check(value, p)
                if found:
                    return found
            elif isinstance(value, bool) or isinstance(value, str):
                continue
            elif isinstance(value, int):
                if name == "version" and path == "$":
                    continue
                if value < 0 or value > MAX_SAFE_INT:
                    return f"{p} = {value}"
            elif isinstance(value, float):
                if not (value >= 0 and math.isfinite(value)):
                    return f"{p} = {value!r}"
        return None

    return check(fpm, "$")


def python_verdict(decoder: msgspec.msgpack.Decoder, data: bytes) -> tuple[str, Any]:
    """Decodes like a reference consumer plus our physical check: ("ok", struct) or (reason, detail).

    msgspec's ValidationError (a subclass of DecodeError) is `schema`; other DecodeErrors are `decode`,
    and so is invalid UTF-8 in a str, for which msgspec raises UnicodeDecodeError instead.
    """
    try:
        value = decoder.decode(data)
    except msgspec.ValidationError as e:
        return "schema", f"ValidationError: {e}"
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        return "decode", f"{type(e).__name__}: {e}"
    if getattr(value, "version", FPM_VERSION) != FPM_VERSION:
        return "unsupported_version", f"version {value.version}"
    problem = physical_problem(value) if hasattr(value, "wall_time") else None
    if problem:
        return "invalid_value", problem
    return "ok", value
