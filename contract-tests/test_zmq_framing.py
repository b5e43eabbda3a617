"""(e) Framing across languages, over real ZMQ sockets on loopback.

Python PUB (pyzmq, bind, docs/design/wire-format.md section 3: [b"", seq as 8-byte big-endian, payload], counter_id
equal to seq) -> TypeScript SUB (zeromq, scripts/contract-zmq-sub.ts): every message arrives,
in order, with its 3 frames and bytes unchanged, and decodeFpm reads counter_id == seq.
And the reverse: TypeScript PUB (scripts/contract-zmq-pub.ts) -> Python SUB.

ZMQ's slow joiner: a SUB misses whatever is published before its subscription reaches the
PUB. Both tests keep publishing one message at a time until the first one arrives, then
require a contiguous run from that first message through N more.
"""
from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import msgspec
import pytest
import zmq

from codec_client import REPO_ROOT, exact_text, node_script, to_exact
from fpm_structs import ForwardPassMetrics, ScheduledRequestMetrics

RUN = 2000  # messages after the SUB has joined
JOIN_TIMEOUT_S = 60
RUN_TIMEOUT_S = 120


class NodeLines:
    """A Node script whose stdout JSON lines are collected by a thread."""

    def __init__(self, script: str, *args: str) -> None:
        self.proc = subprocess.Popen(["node", str(node_script(script)), *args], cwd=REPO_ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, timeout: float) -> dict:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError(f"Node script exited early with code {self.proc.wait()}")
        return line

    def write(self, text: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def python_fpm(seq: int) -> ForwardPassMetrics:
    return ForwardPassMetrics(worker_id="py-pub", dp_rank=0, counter_id=seq, wall_time=seq / 1024,
                              scheduled_requests=ScheduledRequestMetrics(num_decode_requests=seq % 300, sum_decode_kv_tokens=seq * 17))


def typescript_fpm(seq: int) -> ForwardPassMetrics:
    """What scripts/contract-zmq-pub.ts `fpmForSeq` sends."""
    return ForwardPassMetrics(worker_id="ts-pub", dp_rank=1, counter_id=seq, wall_time=seq / 1024,
                              scheduled_requests=ScheduledRequestMetrics(num_decode_requests=seq % 300, sum_decode_kv_tokens=seq * 17))


@pytest.fixture
def zmq_context():
    ctx = zmq.Context()
    yield ctx
    ctx.term()


def test_python_pub_to_typescript_sub_delivers_every_message_in_order(zmq_context):
    pub = zmq_context.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.setsockopt(zmq.LINGER, 0)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = NodeLines("contract-zmq-sub", f"tcp://127.0.0.1:{port}")
    encoder = msgspec.msgpack.Encoder()
    sent: dict[int, bytes] = {}

    def publish(seq: int) -> None:
        payload = encoder.encode(python_fpm(seq))
        sent[seq] = payload
        pub.send_multipart([b"", seq.to_bytes(8, "big"), payload])

    try:
        assert "connected" in sub.next(timeout=JOIN_TIMEOUT_S)
        seq = 0
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        first = None
        while first is None:
            assert time.monotonic() < deadline, "the TypeScript SUB received nothing: it never joined"
            publish(seq)
            seq += 1
            try:
                first = sub.next(timeout=0.02)
            except queue.Empty:
                pass
        last = seq + RUN - 1
        for s in range(seq, last + 1):
            publish(s)
        received = [first]
        while int(received[-1]["seq"]) < last:
            received.append(sub.next(timeout=RUN_TIMEOUT_S))
    finally:
        sub.close()
        pub.close()

    start = int(first["seq"])
    seqs = [int(m["seq"]) for m in received]
    assert seqs == list(range(start, last + 1)), f"gaps or reordering between {start} and {last}"
    assert len(received) >= RUN + 1
    for m in received:
        s = int(m["seq"])
        assert m["frames"] == 3 and m["topic_hex"] == "", f"seq {s}: frames {m['frames']}, topic {m['topic_hex']!r}"
        assert m["seq_frame_hex"] == s.to_bytes(8, "big").hex()
        assert m["payload_hex"] == sent[s].hex(), f"seq {s}: payload changed on the way"
        assert m["decoded"]["ok"], f"seq {s}: decodeFpm rejected it: {m['decoded']}"
        assert m["decoded"]["value"]["counter_id"] == str(s), "counter_id equals the seq frame"
        assert exact_text(m["decoded"]["value"]) == exact_text(to_exact(python_fpm(s)))


def test_typescript_pub_to_python_sub_delivers_every_message_in_order(zmq_context):
    pub = NodeLines("contract-zmq-pub", "tcp://127.0.0.1:*", str(RUN))
    sub = zmq_context.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    decoder = msgspec.msgpack.Decoder(ForwardPassMetrics)
    received: list[list[bytes]] = []
    try:
        endpoint = pub.next(timeout=JOIN_TIMEOUT_S)["bound"]
        assert endpoint.startswith("tcp://127.0.0.1:"), endpoint
        sub.connect(endpoint)
        assert sub.poll(JOIN_TIMEOUT_S * 1000), "the Python SUB received nothing from the TypeScript PUB"
        received.append(sub.recv_multipart())
        pub.write("go\n")
        last = pub.next(timeout=RUN_TIMEOUT_S)["last"]
        while int.from_bytes(received[-1][1], "big") < last:
            assert sub.poll(RUN_TIMEOUT_S * 1000), f"stalled after seq {int.from_bytes(received[-1][1], 'big')}"
            received.append(sub.recv_multipart())
    finally:
        pub.close()
        sub.close()

    start = int.from_bytes(received[0][1], "big")
    seqs = [int.from_bytes(m[1], "big") for m in received]
    assert seqs == list(range(start, last + 1)), f"gaps or reordering between {start} and {last}"
    assert last - start >= RUN
    for frames in received:
        assert len(frames) == 3 and frames[0] == b"" and len(frames[1]) == 8
        s = int.from_bytes(frames[1], "big")
        fpm = decoder.decode(frames[2])
        assert fpm.counter_id == s, "counter_id equals the seq frame"
        assert frames[2] == msgspec.msgpack.encode(typescript_fpm(s)), f"seq {s}: TypeScript bytes differ from msgspec's"
