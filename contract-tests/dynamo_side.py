"""The real NVIDIA Dynamo runtime's side of the drop-in contract test (test_dynamo_runtime.py).

Run as `python dynamo_side.py ROLE [args]` with Dynamo's own environment
(DYN_DISCOVERY_BACKEND, DYN_FILE_KV / ETCD_ENDPOINTS, DYN_EVENT_PLANE, NATS_SERVER,
DYN_EVENT_PLANE_HOST, DYN_NAMESPACE). Each role builds its own `DistributedRuntime` (one per
process, as in a deployment), prints one JSON object per line on stdout, and runs until its
stdin closes. Roles:

- `relay WORKER_ID`: an engine stand-in (pyzmq PUB, 3 frames, counter_id = seq) feeding
  Dynamo's `FpmEventRelay`; prints `{"ready", "connection_id"}`, then `{"sent": hex}` per message.
- `direct WORKER_ID`: TRT-LLM's path, `FpmDirectPublisher` straight onto the event plane.
- `recv`: `FpmEventSubscriber.recv()`; prints `{"payload": hex}` per message.
- `track`: registers a model card (`register_model`, max_num_batched_tokens 8192) on this
  process's endpoint, starts tracking mode and prints `{"stats": {"worker/rank": hex}, "cards": [...]}`
  every 200 ms; the worker id to publish under is `{"worker_id"}` in its first line.

What the pyo3 API is (dynamo 1.6.1, found with help()/dir() in the venv):
- `DistributedRuntime(loop, discovery_backend, request_plane, *, event_plane="nats"|"zmq")`,
  `runtime.endpoint("ns.component.endpoint")` -> `Endpoint` (`connection_id()`: the u64 that is
  also the worker id and, with etcd, the lease id).
- `FpmEventRelay(endpoint, zmq_endpoint)`: SUB to the engine, publishes endpoint-scoped; on ZMQ
  binds tcp://0.0.0.0:ephemeral and registers an EventChannel record; `.shutdown()` removes it.
- `FpmEventSubscriber(endpoint)`: `.recv()` (blocking, releases the GIL, raw payload bytes) or
  `.start_tracking()` then `.get_recent_stats()` -> {(worker_id, dp_rank): bytes} and
  `.get_model_cards()` -> {worker_id: card_json}; tracking shows only workers with a live card.
- `FpmDirectPublisher(endpoint, worker_id, dp_size)`: `.publish(dp_rank=..., scheduled_*=...,
  queued_*=..., wall_time_secs=...)`; counter_id from 1, variances 0.0, 1 s idle heartbeat.
- `register_model(ModelInput.Tokens, ModelType.Chat, endpoint, path, name, worker_type=WorkerType.Aggregated,
  runtime_config=ModelRuntimeConfig(), skip_model_assets=True)` writes `v1/mdc/{ns}/{comp}/{ep}/{id:x}`.
"""
from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import threading

import msgspec
import zmq


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def stdin_closed() -> asyncio.Event:
    ev = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(ev.set)

    threading.Thread(target=wait, daemon=True).start()
    return ev


def runtime_and_endpoint(loop):
    from dynamo.runtime import DistributedRuntime

    backend = os.environ.get("DYN_DISCOVERY_BACKEND", "file")
    plane = os.environ.get("DYN_EVENT_PLANE", "zmq")
    rt = DistributedRuntime(loop, backend, "tcp", event_plane=plane)
    ns = os.environ.get("DYN_NAMESPACE", "dynamo")
    return rt, rt.endpoint(f"{ns}.backend.generate")


async def relay(worker_id: str) -> None:
    from dynamo.common.forward_pass_metrics import ForwardPassMetrics, ScheduledRequestMetrics
    from dynamo.llm import FpmEventRelay

    rt, ep = runtime_and_endpoint(asyncio.get_running_loop())
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    relay = FpmEventRelay(ep, f"tcp://127.0.0.1:{port}")
    emit({"ready": True, "connection_id": str(ep.connection_id())})
    done = stdin_closed()
    seq = 0
    while not done.is_set():
        m = ForwardPassMetrics(worker_id=worker_id, dp_rank=0, counter_id=seq, wall_time=0.0125,
                               scheduled_requests=ScheduledRequestMetrics(num_decode_requests=4, sum_decode_kv_tokens=4096 + seq))
        payload = msgspec.msgpack.encode(m)
        pub.send_multipart([b"", struct.pack(">Q", seq), payload])
        emit({"sent": payload.hex(), "seq": seq})
        seq += 1
        await asyncio.sleep(0.05)
    relay.shutdown()
    await asyncio.sleep(0.3)
    rt.shutdown()


async def direct(worker_id: str) -> None:
    from dynamo.llm import FpmDirectPublisher

    rt, ep = runtime_and_endpoint(asyncio.get_running_loop())
    pub = FpmDirectPublisher(ep, worker_id, 1)
    emit({"ready": True})
    done = stdin_closed()
    i = 0
    while not done.is_set():
        pub.publish(dp_rank=0, scheduled_num_prefill_requests=1, scheduled_sum_prefill_tokens=100 + i,
                    scheduled_sum_prefill_kv_tokens=0, scheduled_num_decode_requests=2, scheduled_sum_decode_kv_tokens=500,
                    queued_num_prefill_requests=0, queued_sum_prefill_tokens=0, queued_num_decode_requests=0,
                    queued_sum_decode_kv_tokens=0, wall_time_secs=0.02)
        i += 1
        await asyncio.sleep(0.05)
    pub.shutdown()
    await asyncio.sleep(0.3)
    rt.shutdown()


async def recv() -> None:
    from dynamo.llm import FpmEventSubscriber

    rt, ep = runtime_and_endpoint(asyncio.get_running_loop())
    sub = FpmEventSubscriber(ep)

    def pump() -> None:
        while True:
            b = sub.recv()
            if b is None:
                return
            emit({"payload": bytes(b).hex()})

    threading.Thread(target=pump, daemon=True).start()
    emit({"ready": True})
    await stdin_closed().wait()
    rt.shutdown()


async def track() -> None:
    from dynamo.llm import (FpmEventSubscriber, ModelInput, ModelRuntimeConfig, ModelType, WorkerType,
                            register_model)

    rt, ep = runtime_and_endpoint(asyncio.get_running_loop())
    rc = ModelRuntimeConfig()
    rc.max_num_batched_tokens = 8192
    await register_model(ModelInput.Tokens, ModelType.Chat, ep, "fpm-contract-model", "fpm-contract-model",
                         worker_type=WorkerType.Aggregated, runtime_config=rc, skip_model_assets=True)
    sub = FpmEventSubscriber(ep)
    sub.start_tracking()
    emit({"ready": True, "worker_id": str(ep.connection_id())})
    done = stdin_closed()
    while not done.is_set():
        stats = sub.get_recent_stats()
        cards = sub.get_model_cards()
        emit({"stats": {f"{w}/{r}": bytes(v).hex() for (w, r), v in stats.items()}, "cards": sorted(cards.keys())})
        await asyncio.sleep(0.2)
    rt.shutdown()


if __name__ == "__main__":
    role, args = sys.argv[1], sys.argv[2:]
    asyncio.run({"relay": relay, "direct": direct, "recv": recv, "track": track}[role](*args))
