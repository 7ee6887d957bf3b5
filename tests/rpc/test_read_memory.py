"""The node's memory stays bounded whatever its readers do (docs/scheduler.md, "Reads and memory").

A real `aonode serve` (LocalNode) holds messages of several MiB; several clients read them all at once
with GetSchedule and SubscribeSchedule (with messages) and GetMessage, and 200 subscribers sit idle. The
node's anonymous resident memory (RssAnon: the heap; LMDB's file pages, which reading maps in, are
page cache the kernel can take back) must stay under the documented bound:
2 x read budget + 3 x the largest message + 256 KiB per idle subscriber, plus slack for the rest of
the node. Before reads were bounded, the same reads took the node ~700 MiB above its idle size (each
GetSchedule built the whole page of messages, four times over, then failed to send it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.ids import encode_id
from aonode.testing import LocalNode
from aonode.v1 import scheduler_pb2, scheduler_pb2_grpc
from tests.hostile.support import OWNER, assert_node_healthy, assert_process_computes, spawn_aos

MIB = 1 << 20
BUDGET_MIB = 16
MESSAGE_MIB = 6
MESSAGES = 8
SLACK = 64 * MIB


def rss_anon(node: LocalNode) -> int:
    """The node process's anonymous resident memory in bytes (Linux /proc)."""
    assert node.proc is not None
    with open(f"/proc/{node.proc.pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/PID/status")


class PeakSampler:
    """Samples the node's RssAnon every 10 ms in a thread; `peak` is the highest seen."""

    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.peak = rss_anon(node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_anon(self.node))
            time.sleep(0.01)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalNode]:
    monkeypatch.setenv("AONODE_READ_BUDGET_MIB", str(BUDGET_MIB))
    monkeypatch.setenv("AONODE_READ_WAIT_SECONDS", "30")
    with LocalNode(tmp_path / "node") as running:
        yield running


def _read_all(address: str, pid: str, how: str, want: int, errors: list[str]) -> None:
    try:
        with NodeClient(address, timeout=120) as client:
            got = 0
            if how == "get":
                token = ""
                while True:
                    page = client.get_schedule(pid, 1, page_token=token, include_messages=True)
                    got += len(page.messages)
                    if not page.has_next:
                        break
                    token = page.next_page_token
            elif how == "subscribe":
                for frame in client.subscribe(pid, 1, include_messages=True):
                    got += len(frame.messages)
                    if got >= want:
                        break
            else:
                for slot in range(1, want + 1):
                    client.get_message(encode_id(client.get_schedule(pid, slot, slot).assignments[0].message))
                    got += 1
            if got != want:
                errors.append(f"{how}: {got} of {want} messages")
    except ClientError as exc:
        errors.append(f"{how}: {exc}")


def test_many_big_messages_read_at_once_stay_under_the_bound(node: LocalNode) -> None:
    with NodeClient(node.address, timeout=120) as client:
        pid = spawn_aos(client)
        for i in range(MESSAGES):
            client.schedule(build_message(OWNER, pid, action="Big", data=b"%d" % i * (MESSAGE_MIB * MIB)))
        time.sleep(0.5)
        base = rss_anon(node)
        errors: list[str] = []
        readers = [
            threading.Thread(target=_read_all, args=(node.address, pid, how, MESSAGES, errors))
            for how in ("get", "get", "subscribe", "subscribe", "get_message")
        ]
        with PeakSampler(node) as sampler:
            for r in readers:
                r.start()
            for r in readers:
                r.join(120)
        assert errors == []
        bound = 2 * BUDGET_MIB * MIB + 3 * MESSAGE_MIB * MIB + SLACK
        grown = sampler.peak - base
        assert grown < bound, f"RssAnon grew {grown / MIB:.0f} MiB (bound {bound / MIB:.0f} MiB)"
        assert_node_healthy(node.address)
        assert_process_computes(client, pid)


def test_idle_subscribers_cost_at_most_256_kib_each(node: LocalNode) -> None:
    with NodeClient(node.address) as client:
        pid = spawn_aos(client)
        for _ in range(3):
            client.schedule(build_message(OWNER, pid, action="Small", data=b"x" * 1000))
        time.sleep(0.5)
        base = rss_anon(node)
        count = 200
        request = scheduler_pb2.SubscribeScheduleRequest(process=pid, from_slot=0, include_messages=True)
        with grpc.insecure_channel(node.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerServiceStub(channel)
            calls = []
            for _ in range(count):
                call = stub.SubscribeSchedule(request)
                next(call)  # caught up: the backlog arrived, the stream now waits for commits
                calls.append(call)
            time.sleep(1)
            per = (rss_anon(node) - base) / count
            for call in calls:
                call.cancel()
        assert per <= 256 * 1024, f"{per / 1024:.0f} KiB per idle subscriber"
        assert_node_healthy(node.address)
        assert_process_computes(client, pid)
