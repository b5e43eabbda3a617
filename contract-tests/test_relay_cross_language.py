"""`fpm relay` between a Python engine and a Python NATS subscriber (docs/design/wire-format.md sections 3 and 4).

A Python engine stand-in (pyzmq PUB, msgspec-encoded ForwardPassMetrics) binds one socket
per dp_rank, framed as the engines do: vLLM on tcp (port DYN_FORWARDPASS_METRIC_PORT + rank)
and SGLang on ipc (`ipc://{path}.{rank}`). A spawned `node bin/fpm.js relay` carries the
messages to a real nats-server; a Python subscriber (nats-py) decodes each envelope with
msgspec and checks the subject (percent-encoded segments), the envelope fields, and that
every payload arrives byte-identical and in order per rank.
"""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import nats
import pytest
import zmq

from codec_client import REPO_ROOT
from fpm_structs import FPM_TOPIC, MAX_SAFE_INT, EventEnvelope, ForwardPassMetrics, ScheduledRequestMetrics

DP_SIZE = 2
RUN = 200  # messages per rank after the relay has joined
JOIN_TIMEOUT_S = 60
RUN_TIMEOUT_S = 60
FPM = REPO_ROOT / "bin" / "fpm.js"


def nats_server_binary() -> str:
    for c in (os.environ.get("NATS_SERVER_BIN"), "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server", shutil.which("nats-server")):
        if c and Path(c).exists():
            return c
    pytest.skip("nats-server not installed: run `npm run setup`")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base_port(count: int) -> int:
    """A base in vLLM's range (1024-49151) with `count` consecutive free ports."""
    for _ in range(500):
        base = random.randint(20000, 49000 - count)
        if all(port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free consecutive ports")


def wait_connectable(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


@pytest.fixture
def nats_url():
    """A real nats-server on a free loopback port, in its own temp dir."""
    tmp = tempfile.mkdtemp(prefix="fpm-py-nats-")
    port = free_port()
    conf = Path(tmp) / "nats.conf"
    conf.write_text(f"listen: 127.0.0.1:{port}\n")
    proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_connectable(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def encode_segment(segment: str) -> str:
    """docs/design/wire-format.md section 4.2, written independently of the TypeScript: bytes outside [A-Za-z0-9_-] -> %XX."""
    ok = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return "".join(chr(b) if b in ok else f"%{b:02X}" for b in segment.encode("utf-8"))


@dataclass
class Engine:
    """One engine's ZMQ side: a PUB per dp_rank, seq from 0 stamped into counter_id."""

    urls: list[str]
    worker_id: str
    ctx: zmq.Context = field(default_factory=zmq.Context)
    socks: list = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    sent: dict[int, list[bytes]] = field(default_factory=dict)

    def bind(self) -> None:
        for url in self.urls:
            s = self.ctx.socket(zmq.PUB)
            s.setsockopt(zmq.SNDHWM, 100_000)
            s.setsockopt(zmq.LINGER, 0)
            s.bind(url)
            self.socks.append(s)
            self.seq.append(0)

    def send(self, rank: int, wall_time: float, decode: int = 0) -> bytes:
        seq = self.seq[rank]
        self.seq[rank] += 1
        fpm = ForwardPassMetrics(
            worker_id=self.worker_id,
            dp_rank=rank,
            counter_id=seq,
            wall_time=wall_time,
            scheduled_requests=ScheduledRequestMetrics(num_decode_requests=decode, sum_decode_kv_tokens=1000 * decode, var_decode_kv_tokens=0.25 * decode),
        )
        payload = msgspec.msgpack.encode(fpm)
        # The engines' framing: empty topic, seq as 8-byte big-endian, payload.
        self.socks[rank].send_multipart([b"", seq.to_bytes(8, "big"), payload], flags=zmq.NOBLOCK)
        return payload

    def close(self) -> None:
        for s in self.socks:
            s.close(0)
        self.ctx.term()


@dataclass
class Flavour:
    name: str
    subject: str
    relay_args: list[str]
    env: dict[str, str]
    engine_urls: list[str]


def vllm_flavour(tmp: Path) -> Flavour:
    base = free_base_port(DP_SIZE)
    ns = "xlang.vllm"
    return Flavour(
        name="vllm",
        # fpm relay's default scope is Dynamo 1.6.1's: component backend, endpoint generate.
        subject=f"namespace.{encode_segment(ns)}.component.backend.endpoint.generate.forward-pass-metrics",
        relay_args=["--dp-size", str(DP_SIZE)],
        env={"DYN_FORWARDPASS_METRIC_PORT": str(base), "DYN_NAMESPACE": ns},
        # vLLM binds tcp://*:{base+rank}; loopback here keeps the test off the network.
        engine_urls=[f"tcp://127.0.0.1:{base + r}" for r in range(DP_SIZE)],
    )


def sglang_flavour(tmp: Path) -> Flavour:
    prefix = tmp / "sglang_fpm"
    return Flavour(
        name="sglang",
        subject="namespace.dynamo.component.prefill%2Eworker.endpoint.generate.forward-pass-metrics",
        relay_args=["--zmq-endpoint", f"ipc://{prefix}.{{rank}}", "--dp-size", str(DP_SIZE), "--component", "prefill.worker", "--endpoint", "generate"],
        env={},
        engine_urls=[f"ipc://{prefix}.{r}" for r in range(DP_SIZE)],
    )


def relay_env(nats_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DYN_", "NATS_"))}
    env.update({"NATS_SERVER": nats_url, "DYN_LOG": "warn", **extra})
    return env


async def check_relay(flavour: Flavour, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    received: list[tuple[str, bytes]] = []

    async def on_msg(msg) -> None:
        received.append((msg.subject, msg.data))

    await nc.subscribe(flavour.subject, cb=on_msg)
    await nc.flush()
    engine = Engine(flavour.engine_urls, worker_id="py-worker-1")
    engine.bind()
    relay = subprocess.Popen(["node", str(FPM), "relay", *flavour.relay_args], cwd=REPO_ROOT, env=relay_env(nats_url, flavour.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started_ms = int(time.time() * 1000)

        def ranks_seen() -> set[int]:
            out = set()
            for _, data in received:
                env = msgspec.msgpack.decode(data, type=EventEnvelope)
                out.add(msgspec.msgpack.decode(env.payload, type=ForwardPassMetrics).dp_rank)
            return out

        # The slow joiner: idle heartbeats until every rank has come through.
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while ranks_seen() != set(range(DP_SIZE)):
            if relay.poll() is not None:
                raise AssertionError(f"relay exited with {relay.returncode}: {relay.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"relay did not forward from every rank within {JOIN_TIMEOUT_S}s")
            for r in range(DP_SIZE):
                engine.send(r, 0.0)
            await asyncio.sleep(0.05)
        joined = len(received)

        for i in range(RUN):
            for r in range(DP_SIZE):
                engine.sent.setdefault(r, []).append(engine.send(r, 0.001 * (i + 1), decode=i))
            if i % 50 == 0:
                await asyncio.sleep(0)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while len(received) < joined + RUN * DP_SIZE and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

        by_rank: dict[int, list[tuple[str, EventEnvelope, ForwardPassMetrics]]] = {r: [] for r in range(DP_SIZE)}
        for subject, data in received:
            env = msgspec.msgpack.decode(data, type=EventEnvelope)
            fpm = msgspec.msgpack.decode(env.payload, type=ForwardPassMetrics)
            by_rank[fpm.dp_rank].append((subject, env, fpm))

        ids = set()
        for r, items in by_rank.items():
            payloads = [env.payload for _, env, _ in items][-RUN:]
            assert payloads == engine.sent[r], f"{flavour.name} rank {r}: payloads byte-identical and in order"
            assert {env.publisher_id for _, env, _ in items} == {items[0][1].publisher_id}, "one publisher_id per rank"
            ids.add(items[0][1].publisher_id)
            assert items[0][1].publisher_id <= MAX_SAFE_INT
            now_ms = int(time.time() * 1000)
            for i, (subject, env, fpm) in enumerate(items):
                assert subject == flavour.subject
                assert env.topic == FPM_TOPIC
                assert env.sequence == i, "envelope sequence from 0, +1 per envelope"
                assert started_ms - 5000 <= env.published_at <= now_ms + 1000
                assert fpm.worker_id == "py-worker-1"
        assert len(ids) == DP_SIZE, "each rank has its own publisher_id"
    finally:
        relay.send_signal(signal.SIGTERM)
        try:
            code = relay.wait(timeout=10)
        except subprocess.TimeoutExpired:
            relay.kill()
            raise
        engine.close()
        await nc.close()
    assert code == 0, f"relay exit code {code}: {relay.stderr.read().decode()}"


@pytest.mark.parametrize("flavour_factory", [vllm_flavour, sglang_flavour], ids=["vllm-tcp", "sglang-ipc"])
def test_relay_carries_python_engine_payloads_to_python_subscriber(flavour_factory, nats_url):
    tmp = Path(tempfile.mkdtemp(prefix="fpm-py-relay-"))
    try:
        asyncio.run(check_relay(flavour_factory(tmp), nats_url))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
