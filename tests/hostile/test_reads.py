"""Hostile reads: schedule pages, subscriptions and message reads that try to exhaust the node's memory,
stall it, or feed it malformed read requests (issue 10, item 4; docs/scheduler.md, "Reads and memory").

One node for the module, with a small read budget (16 MiB) and a short budget wait (1 s), and one AOS
process holding big messages (4 x 3 MiB and one 12 MiB, larger than a frame). Each case runs its attack
over gRPC, checks the status (or that every message still reached the reader), then that the node is
SERVING, the read budget is all given back, and the attacked process still computes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from aonode.client import NodeClient, build_message
from aonode.ids import encode_id
from aonode.rpc.convert import message_from_pb, message_to_pb
from aonode.v1 import scheduler_pb2, scheduler_pb2_grpc
from tests.conftest import ServerThread, make_config, wait_for
from tests.hostile.support import ATTACKER, OWNER, assert_node_healthy, assert_process_computes, spawn_aos

MIB = 1 << 20
BIG = [3 * MIB] * 4 + [12 * MIB]


@dataclass
class Target:
    server: ServerThread
    client: NodeClient
    stub: scheduler_pb2_grpc.SchedulerServiceStub
    pid: str
    message_ids: list[str]  # slots 1.. in order

    @property
    def address(self) -> str:
        return self.server.address


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data: Path = tmp_path_factory.mktemp("reads") / "node"
    server = ServerThread(make_config(data, read_budget_mib=16, read_wait_seconds=1.0)).start()
    try:
        with (
            NodeClient(server.address, timeout=60) as client,
            grpc.insecure_channel(
                server.address, options=[("grpc.max_receive_message_length", 64 * MIB)]
            ) as channel,
        ):
            pid = spawn_aos(client)
            ids = []
            for i, size in enumerate(BIG):
                message = build_message(ATTACKER, pid, action="Big", data=b"%d" % i * size)
                client.schedule(message)
                ids.append(encode_id(message.id))
            yield Target(server, client, scheduler_pb2_grpc.SchedulerServiceStub(channel), pid, ids)
    finally:
        server.stop()


def healthy(t: Target) -> None:
    """After each case: the budget is all given back, the node serves, the process computes."""
    budget = t.server.node.scheduler.read_budget
    wait_for(lambda: budget.in_use == 0, timeout=20)
    assert_node_healthy(t.address)
    assert_process_computes(t.client, t.pid, OWNER)


def expect(code: grpc.StatusCode, call: Callable[[], object]) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    assert raised.value.code() == code, raised.value.details()


def _schedule_request(t: Target, **fields: object) -> scheduler_pb2.GetScheduleRequest:
    return scheduler_pb2.GetScheduleRequest(process=t.pid, **fields)  # type: ignore[arg-type]


def test_get_schedule_with_every_big_message_pages_by_bytes(target: Target) -> None:
    """Before: one page of all five (24 MiB) built in memory, then RESOURCE_EXHAUSTED on send."""
    pages, token = [], ""
    while True:
        page = target.client.get_schedule(target.pid, 1, page_token=token, include_messages=True)
        pages.append([len(m.data) for m in page.messages])
        if not page.has_next:
            break
        token = page.next_page_token
    assert [size for page in pages for size in page] == BIG
    assert all(len(page) == 1 for page in pages)  # each is larger than a frame (1 MiB): alone
    healthy(target)


def test_subscribe_with_every_big_message_gets_past_them(target: Target) -> None:
    """Before: the first frame held all five and failed, so a subscriber could never get past them."""
    sizes: list[int] = []
    for frame in target.client.subscribe(target.pid, 1, include_messages=True):
        assert len(frame.messages) == len(frame.assignments) <= 1
        sizes += [len(m.data) for m in frame.messages]
        if len(sizes) == len(BIG):
            break
    assert sizes == BIG
    healthy(target)


def test_a_message_larger_than_a_frame_reaches_get_message(target: Target) -> None:
    message = target.client.get_message(target.message_ids[-1])
    assert len(message.data) == 12 * MIB
    healthy(target)


def test_concurrent_big_reads_all_complete_through_the_budget(target: Target) -> None:
    """Twelve readers at once want 3-12 MiB each through a 16 MiB budget: they take turns, none fails."""
    errors: list[BaseException] = []

    def read(i: int) -> None:
        try:
            with NodeClient(target.address, timeout=60) as client:
                if i % 3 == 0:
                    page = client.get_schedule(target.pid, 5, 5, include_messages=True)
                    assert len(page.messages[0].data) == 12 * MIB
                elif i % 3 == 1:
                    assert len(client.get_message(target.message_ids[i % 4]).data) == 3 * MIB
                else:
                    for frame in client.subscribe(target.pid, 4, include_messages=True):
                        if frame.messages and frame.assignments[-1].slot == 5:
                            break
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []
    healthy(target)


def test_stalled_subscribers_cannot_grow_the_node_and_others_get_resource_exhausted(target: Target) -> None:
    """Subscribers that never read hold the whole budget; a further body read waits 1 s, then gets
    RESOURCE_EXHAUSTED (memory bounded), and reads work again once they are gone."""
    budget = target.server.node.scheduler.read_budget
    stalled = []
    for _ in range(3):
        call = target.stub.SubscribeSchedule(
            scheduler_pb2.SubscribeScheduleRequest(process=target.pid, from_slot=5, include_messages=True)
        )
        stalled.append(call)  # never read: the 12 MiB frame sits in the send path
    wait_for(lambda: budget.in_use >= 12 * MIB)
    expect(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        lambda: target.stub.GetMessage(
            scheduler_pb2.GetMessageRequest(message_id=target.message_ids[-1]), timeout=30
        ),
    )
    for call in stalled:
        call.cancel()
    healthy(target)
    assert len(target.client.get_message(target.message_ids[-1]).data) == 12 * MIB


def test_readers_that_hang_up_mid_message_give_the_budget_back(target: Target) -> None:
    for _ in range(10):
        call = target.stub.SubscribeSchedule(
            scheduler_pb2.SubscribeScheduleRequest(process=target.pid, from_slot=1, include_messages=True)
        )
        next(call)
        call.cancel()
        with pytest.raises(grpc.RpcError):  # a deadline far too short for 12 MiB
            target.stub.GetMessage(
                scheduler_pb2.GetMessageRequest(message_id=target.message_ids[-1]), timeout=0.001
            )
    healthy(target)


def test_a_huge_limit_is_capped(target: Target) -> None:
    reply = target.stub.GetSchedule(_schedule_request(target, limit=2**32 - 1), timeout=30)
    assert [a.slot for a in reply.assignments] == list(range(len(reply.assignments)))
    assert len(reply.assignments) >= 6
    healthy(target)


@pytest.mark.parametrize(
    "token",
    ["abc", "١٢", "-1", "9" * 5000, str(2**64), "1e3", " 1"],
    ids=["letters", "arabic-digits", "negative", "5000-digits", "past-u64", "exponent", "space"],
)
def test_a_forged_page_token_is_invalid_argument(target: Target, token: str) -> None:
    expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: target.stub.GetSchedule(_schedule_request(target, page_token=token), timeout=30),
    )
    healthy(target)


def test_ranges_past_the_tip_and_backwards(target: Target) -> None:
    reply = target.stub.GetSchedule(_schedule_request(target, from_slot=2**64 - 1), timeout=30)
    assert list(reply.assignments) == [] and not reply.has_next
    expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: target.stub.GetSchedule(_schedule_request(target, from_slot=5, to_slot=2), timeout=30),
    )
    healthy(target)


def test_unknown_and_malformed_ids(target: Target) -> None:
    unknown = encode_id(b"\x01" * 32)
    expect(
        grpc.StatusCode.NOT_FOUND,
        lambda: target.stub.GetSchedule(scheduler_pb2.GetScheduleRequest(process=unknown), timeout=30),
    )
    expect(
        grpc.StatusCode.NOT_FOUND,
        lambda: next(
            target.stub.SubscribeSchedule(scheduler_pb2.SubscribeScheduleRequest(process=unknown), timeout=30)
        ),
    )
    expect(
        grpc.StatusCode.NOT_FOUND,
        lambda: target.stub.GetMessage(scheduler_pb2.GetMessageRequest(message_id=unknown), timeout=30),
    )
    expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: target.stub.GetMessage(scheduler_pb2.GetMessageRequest(message_id="x" * 43), timeout=30),
    )
    expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: target.stub.GetSchedule(scheduler_pb2.GetScheduleRequest(process="not-an-id"), timeout=30),
    )
    healthy(target)


def test_three_hundred_idle_subscribers(target: Target) -> None:
    calls = []
    following = target.client.get_slot(target.pid).current_slot + 1
    request = scheduler_pb2.SubscribeScheduleRequest(
        process=target.pid, from_slot=following, include_messages=True
    )
    for _ in range(300):
        calls.append(target.stub.SubscribeSchedule(request))
    healthy(target)  # its Eval commits: every subscriber gets that slot
    for call in calls:
        frame = next(call)
        assert [a.slot for a in frame.assignments] == [following]
        call.cancel()
    healthy(target)


def test_a_message_at_the_request_limit_can_be_read_back(tmp_path: Path) -> None:
    """A message whose Schedule request is as large as the node accepts comes back in a GetSchedule page
    and a SubscribeSchedule frame, which add its assignment (before: RESOURCE_EXHAUSTED on send, so a
    subscriber with messages could never get past it)."""
    limit = 256 * 1024
    server = ServerThread(make_config(tmp_path / "n", max_message_bytes=limit)).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn_aos(client)
            probe = build_message(ATTACKER, pid, action="Big", data=b"")
            overhead = scheduler_pb2.ScheduleRequest(message=message_to_pb(probe)).ByteSize() + 8
            message = build_message(ATTACKER, pid, action="Big", data=b"x" * (limit - overhead))
            assert (
                limit - 16 < scheduler_pb2.ScheduleRequest(message=message_to_pb(message)).ByteSize() <= limit
            )
            slot = client.schedule(message).slot
            page = client.get_schedule(pid, slot, slot, include_messages=True)
            assert page.messages == [message]
            frame = next(iter(client.subscribe(pid, slot, include_messages=True)))
            assert message_from_pb(frame.messages[0]) == message
            assert client.get_message(encode_id(message.id)) == message
            assert_node_healthy(server.address)
            assert_process_computes(client, pid)
    finally:
        server.stop()
