"""fpm as a drop-in for a stock Dynamo 1.6.1 deployment, against the real runtime (issue 10).

The real NVIDIA Dynamo runtime (`ai-dynamo-runtime`, its pyo3 bindings run without a GPU; pin
from FPM_CONTRACT_AI_DYNAMO_RUNTIME_VERSION) runs in helper processes (dynamo_side.py, which
also notes what its Python API is). For each event plane (NATS, ZMQ) and each discovery
backend (file, a real etcd), with nothing but Dynamo's own environment variables:

1. Dynamo's FpmEventRelay -> `fpm tail` and `fpm planner`: payloads arrive byte for byte, the
   worker id (above 2^53) stays exact into the planner's decision records.
2. Dynamo's FpmDirectPublisher (TRT-LLM's path, counter_id from 1) -> `fpm tail`.
3. `fpm relay` -> Dynamo's FpmEventSubscriber, recv mode (bytes unchanged) and tracking mode
   (a model card registered with register_model; the worker shows up under its id).
4. Both relays' messages carry the same subject (NATS) or frames (ZMQ: 4 frames, header 0x01 +
   length) and envelopes of the same canonical shape (msgspec re-encodes each to its own bytes).
5. A stopped relay, Dynamo's or fpm's, leaves discovery.

On ZMQ the fpm processes get no DYN_EVENT_PLANE: they must pick ZMQ themselves because a
discovery backend is configured. DYN_EVENT_PLANE_HOST=127.0.0.1 keeps everything on loopback.
"""
from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import msgspec
import pytest
import zmq

import upstream
from codec_client import REPO_ROOT
from fpm_structs import EventEnvelope, ForwardPassMetrics
from test_relay_cross_language import free_port, nats_server_binary, wait_connectable

FPM = REPO_ROOT / "bin" / "fpm.js"
SIDE = Path(__file__).resolve().parent / "dynamo_side.py"
WORKER = "18446744073709551557"  # above 2^53: must stay exact end to end
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def runtime_version() -> str:
    try:
        checked = upstream.install_runtime()
    except upstream.UpstreamUnavailable as e:
        pytest.fail(f"the Dynamo runtime could not be installed: {e}")
    print(f"\nDynamo runtime checked: {checked}")
    return checked


class Proc:
    """A child whose stdout lines (JSON, or log text) are read by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], json_lines: bool = True) -> None:
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        self.err: list[str] = []
        self.json_lines = json_lines
        self.ready: dict = {}
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self.lines.put(json.loads(line) if self.json_lines else line)
            except json.JSONDecodeError:
                pass

    def next(self, pred=lambda o: True, timeout: float = TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.proc.args[:3]}: nothing matching within {timeout} s; stderr:\n{''.join(self.err)[-3000:]}")
            try:
                o = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if pred(o):
                return o

    def exited(self, timeout: float = 15) -> int:
        """Waits for the child to end by itself; its exit code."""
        return self.proc.wait(timeout=timeout)

    def stop(self) -> int:
        """Closes stdin (the Dynamo helpers shut down cleanly on that), then SIGTERM."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                return self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def dynamo(role: str, env: dict[str, str], *args: str) -> Proc:
    p = Proc([sys.executable, str(SIDE), role, *args], env)
    p.ready = p.next(lambda o: o.get("ready"), timeout=60)
    return p


def fpm(args: list[str], env: dict[str, str]) -> Proc:
    return Proc(["node", str(FPM), *args], env)


class Deployment:
    """Dynamo's environment for one plane and one discovery backend, with its services."""

    def __init__(self, plane: str, backend: str) -> None:
        self.plane, self.backend = plane, backend
        self.tmp = tempfile.mkdtemp(prefix=f"fpm-dyn-{plane}-{backend}-")
        self.children: list[subprocess.Popen] = []
        self.base = {k: v for k, v in os.environ.items() if not k.startswith(("DYN_", "NATS_", "ETCD_"))}
        self.base.update({"DYN_DISCOVERY_BACKEND": backend, "DYN_EVENT_PLANE_HOST": "127.0.0.1",
                          "DYN_NAMESPACE": f"c{plane}{backend}", "DYN_LOG": "info", "PYTHONUNBUFFERED": "1"})
        if backend == "file":
            self.base["DYN_FILE_KV"] = os.path.join(self.tmp, "kv")
        else:
            port, peer = free_port(), free_port()
            etcd = shutil.which("etcd") or "/usr/bin/etcd"
            self.children.append(subprocess.Popen(
                [etcd, "--data-dir", os.path.join(self.tmp, "etcd"), "--listen-client-urls", f"http://127.0.0.1:{port}",
                 "--advertise-client-urls", f"http://127.0.0.1:{port}", "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}", "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_connectable(port, 20)
            self.base["ETCD_ENDPOINTS"] = f"http://127.0.0.1:{port}"
        if plane == "nats":
            port = free_port()
            conf = os.path.join(self.tmp, "nats.conf")
            Path(conf).write_text(f"listen: 127.0.0.1:{port}\n")
            self.children.append(subprocess.Popen([nats_server_binary(), "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_connectable(port)
            self.base["NATS_SERVER"] = f"nats://127.0.0.1:{port}"
        # Dynamo is told its plane; fpm on ZMQ must choose it from the discovery backend alone.
        self.dynamo_env = {**self.base, "DYN_EVENT_PLANE": plane}
        self.fpm_env = dict(self.base) if plane == "zmq" else {**self.base, "DYN_EVENT_PLANE": "nats"}
        self.ns = self.base["DYN_NAMESPACE"]

    def event_channels(self) -> dict[str, dict]:
        """Every EventChannel record of the namespace, key -> record."""
        prefix = f"v1/event_channels/namespace/{self.ns}/"
        if self.backend == "file":
            out = {}
            d = Path(self.base["DYN_FILE_KV"]) / "v1" / "event_channels"
            for f in d.glob("*") if d.exists() else []:
                if f.name.startswith(".tmp_"):
                    continue
                key = "v1/event_channels/" + urllib.parse.unquote(f.name)
                if key.startswith(prefix):
                    try:
                        out[key] = json.loads(f.read_text())
                    except (OSError, json.JSONDecodeError):
                        pass
            return out
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = json.dumps({"key": base64.b64encode(prefix.encode()).decode(), "range_end": base64.b64encode(end.encode()).decode()})
        req = urllib.request.Request(self.base["ETCD_ENDPOINTS"] + "/v3/kv/range", data=body.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            kvs = json.loads(r.read()).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): json.loads(base64.b64decode(kv["value"])) for kv in kvs}

    def zmq_endpoints(self) -> dict[int, str]:
        return {r["instance_id"]: r["transport"]["config"]["endpoint"] for r in self.event_channels().values()
                if r.get("transport", {}).get("kind") == "Zmq"}

    def close(self) -> None:
        for c in self.children:
            c.terminate()
            try:
                c.wait(timeout=10)
            except subprocess.TimeoutExpired:
                c.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_until(check, what: str, timeout: float = TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def canonical(raw: bytes) -> EventEnvelope:
    """The envelope, after checking it is in msgspec's canonical form (key order, int widths)."""
    env = msgspec.msgpack.decode(raw, type=EventEnvelope)
    assert msgspec.msgpack.encode(env) == raw
    assert list(msgspec.msgpack.decode(raw).keys()) == ["publisher_id", "sequence", "published_at", "topic", "payload"]
    return env


class Capture:
    """What goes over the plane: NATS messages of the namespace, or ZMQ frames from each publisher."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.items: queue.Queue = queue.Queue()
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._nats if dep.plane == "nats" else self._zmq, daemon=True)
        self.thread.start()

    def _nats(self) -> None:
        import asyncio

        import nats

        async def run() -> None:
            nc = await nats.connect(self.dep.base["NATS_SERVER"])

            async def cb(m) -> None:
                self.items.put((m.subject, [m.data]))

            # Both scopes, so a relay on the wrong one would show up (and fail the subject check).
            for subject in (f"namespace.{self.dep.ns}.component.*.forward-pass-metrics",
                            f"namespace.{self.dep.ns}.component.*.endpoint.*.forward-pass-metrics"):
                await nc.subscribe(subject, cb=cb)
            while not self.stop_flag.is_set():
                await asyncio.sleep(0.05)
            await nc.close()

        asyncio.run(run())

    def _zmq(self) -> None:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.SUB)
        sock.setsockopt(zmq.SUBSCRIBE, b"forward-pass-metrics")
        sock.setsockopt(zmq.RCVTIMEO, 100)
        connected: set[str] = set()
        while not self.stop_flag.is_set():
            for pid, ep in self.dep.zmq_endpoints().items():
                if ep not in connected:
                    sock.connect(ep)
                    connected.add(ep)
            try:
                frames = sock.recv_multipart()
            except zmq.Again:
                continue
            self.items.put((struct.unpack(">Q", frames[1])[0] if len(frames) > 1 and len(frames[1]) == 8 else None, frames))
        sock.close(0)

    def first_with_worker(self, worker_id: str, timeout: float = TIMEOUT_S):
        """The first message whose payload is from `worker_id`: (subject or id, frames, envelope)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                where, frames = self.items.get(timeout=0.2)
            except queue.Empty:
                continue
            if self.dep.plane == "zmq" and len(frames) != 4:
                continue
            env = canonical(frames[-1] if self.dep.plane == "nats" else frames[3][5:])
            if msgspec.msgpack.decode(env.payload, type=ForwardPassMetrics).worker_id == worker_id:
                return where, frames, env
        raise AssertionError(f"nothing from worker {worker_id} on the plane")

    def close(self) -> None:
        self.stop_flag.set()
        self.thread.join(5)


def fpm_payload(worker_id: str, seq: int) -> bytes:
    return msgspec.msgpack.encode(ForwardPassMetrics(worker_id=worker_id, dp_rank=0, counter_id=seq, wall_time=0.01))


@pytest.mark.parametrize("backend", ["file", "etcd"])
@pytest.mark.parametrize("plane", ["nats", "zmq"])
def test_dynamo_runtime_dropin(plane: str, backend: str, runtime_version: str) -> None:
    dep = Deployment(plane, backend)
    procs: list[Proc] = []
    capture = Capture(dep)
    try:
        # 1. Dynamo's relay -> fpm tail and fpm planner.
        decisions = os.path.join(dep.tmp, "decisions.jsonl")
        planner = fpm(["planner", "--load-adjustment-interval", "1", "--optimization-target", "throughput",
                       "--max-kv-tokens", "100000", "--context-length", "4096", "--decisions-file", decisions], dep.fpm_env)
        tail = fpm(["tail", "--json", "--count", "5"], dep.fpm_env)
        procs += [planner, tail]
        time.sleep(1.5)  # both listening before the relay starts
        dyn_relay = dynamo("relay", dep.dynamo_env, WORKER)
        procs.append(dyn_relay)
        sent = set()
        shown = []
        def tail_done():
            while not dyn_relay.lines.empty():
                o = dyn_relay.lines.get()
                if "sent" in o:
                    sent.add(o["sent"])
            while not tail.lines.empty():
                shown.append(tail.lines.get())
            return len(shown) >= 5
        wait_until(tail_done, "5 messages in fpm tail")
        for s in shown:
            assert s["payload_hex"] in sent, "fpm tail shows the payload Dynamo's relay sent, byte for byte"
            assert s["payload"]["worker_id"] == WORKER
            assert s["subject"] == f"namespace.{dep.ns}.component.backend.endpoint.generate.forward-pass-metrics"
        assert tail.exited() == 0, "fpm tail --count stops by itself"

        def planner_saw_worker():
            if not os.path.exists(decisions):
                return False
            for line in Path(decisions).read_text().splitlines():
                d = json.loads(line)
                if any(e.get("workerId") == WORKER for e in d.get("engines", [])):
                    return d
            return False
        d = wait_until(planner_saw_worker, "a planner decision with Dynamo's worker")
        assert d["component"] == "backend"

        # 4a. What Dynamo's relay puts on the plane.
        dyn_where, dyn_frames, dyn_env = capture.first_with_worker(WORKER)

        # 5a. A stopped Dynamo relay leaves discovery.
        dyn_relay.stop()
        if plane == "zmq":
            wait_until(lambda: not dep.zmq_endpoints(), "Dynamo's record to go")

        # 2. TRT-LLM's direct publisher -> fpm tail: counter_id from 1.
        tail = fpm(["tail", "--json", "--count", "3"], dep.fpm_env)
        procs.append(tail)
        time.sleep(1.0)
        direct = dynamo("direct", dep.dynamo_env, "7")
        procs.append(direct)
        first = tail.next(lambda o: "payload" in o)
        assert first["payload"]["worker_id"] == "7" and first["payload"]["counter_id"] >= 1
        assert first["payload"]["scheduled_requests"]["var_decode_kv_tokens"] == 0
        tail.stop()
        direct.stop()

        # 3. fpm relay -> Dynamo's subscriber, recv and tracking (with a model card).
        recv = dynamo("recv", dep.dynamo_env)
        track = dynamo("track", dep.dynamo_env)
        procs += [recv, track]
        track_worker = track.ready["worker_id"]
        before = set(dep.event_channels())
        ctx = zmq.Context()
        engine = ctx.socket(zmq.PUB)
        port = engine.bind_to_random_port("tcp://127.0.0.1")
        relay = fpm(["relay", "--zmq-endpoint", f"tcp://127.0.0.1:{port}"], dep.fpm_env)
        procs.append(relay)
        ours = {}
        seq = 0
        if plane == "zmq":
            our_keys = wait_until(lambda: set(dep.event_channels()) - before, "fpm relay's record")
        def delivered():
            nonlocal seq
            p = fpm_payload(track_worker, seq)
            engine.send_multipart([b"", struct.pack(">Q", seq), p])
            ours[p.hex()] = seq
            seq += 1
            time.sleep(0.05)
            got = [o for o in list(recv.lines.queue) if o.get("payload") in ours]
            tracked = [o for o in list(track.lines.queue)
                       if o.get("stats", {}).get(f"{track_worker}/0") in ours and track_worker in o.get("cards", [])]
            return len(got) >= 5 and tracked
        wait_until(delivered, "Dynamo's subscriber to receive fpm relay's messages (recv and tracking)")

        # 4b. What fpm's relay puts on the plane: the same subject / frames, the same envelope shape.
        where, frames, env = capture.first_with_worker(track_worker)
        if plane == "zmq":
            assert len(frames) == len(dyn_frames) == 4
            assert frames[0] == dyn_frames[0] == b"forward-pass-metrics"
            for f in (frames, dyn_frames):
                assert f[3][0] == 1 and struct.unpack(">I", f[3][1:5])[0] == len(f[3]) - 5
                e = canonical(f[3][5:])
                assert struct.unpack(">Q", f[1])[0] == e.publisher_id and struct.unpack(">Q", f[2])[0] == e.sequence
            rec = dep.event_channels()[next(iter(our_keys))]
            assert rec["scope"] == {"kind": "endpoint", "endpoint": {"namespace": dep.ns, "component": "backend", "name": "generate"}}
        else:
            assert where == dyn_where, "fpm relay publishes on the subject Dynamo's relay uses"
        assert env.topic == dyn_env.topic == "forward-pass-metrics"
        assert env.payload.hex() in ours
        assert env.publisher_id <= 2**53 - 1 and dyn_env.publisher_id <= 2**53 - 1

        # 5b. A stopped fpm relay leaves discovery.
        assert relay.stop() == 0
        if plane == "zmq":
            wait_until(lambda: not (set(dep.event_channels()) & our_keys), "fpm relay's record to go", timeout=10)
        engine.close(0)
        assert planner.stop() == 0
    finally:
        capture.close()
        for p in procs:
            p.stop()
        dep.close()
