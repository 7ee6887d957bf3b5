"""Reads for clients are bounded by bytes and by the node-wide read budget (reads.py, budget.py)."""

from __future__ import annotations

import asyncio

import pytest

from aonode.model import Message
from aonode.scheduler import Scheduler
from aonode.scheduler.budget import NeedBudget, ReadBudget, ReadBudgetExhausted, ReadLease
from tests.scheduler.conftest import StoreFactory
from tests.scheduler.helpers import make_scheduler, message_to, process_message, run

KIB = 1024


def _schedule(sched: Scheduler, sizes: list[int]) -> tuple[bytes, list[Message]]:
    """A process (slot 0) and one message per size (slots 1..), each `size` KiB of data."""
    proc = process_message()
    messages = [message_to(proc.id, b"%d:" % i + b"x" * (size * KIB)) for i, size in enumerate(sizes)]

    async def go() -> None:
        await sched.schedule(proc)
        for m in messages:
            await sched.schedule(m)

    run(go())
    return proc.id, messages


def test_a_page_stops_before_the_message_that_would_take_it_past_max_bytes(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    pid, messages = _schedule(sched, [10, 10, 10, 10])
    page = sched.get_schedule(pid, 1, include_messages=True, max_bytes=25 * KIB)
    assert [m.id for m in page.messages] == [messages[0].id, messages[1].id]
    assert [a.slot for a in page.assignments] == [1, 2]
    assert page.has_next and page.next_slot == 3
    rest = sched.get_schedule(pid, 3, include_messages=True, max_bytes=25 * KIB)
    assert [m.id for m in rest.messages] == [messages[2].id, messages[3].id]
    assert not rest.has_next


def test_a_message_larger_than_a_page_goes_alone(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    pid, messages = _schedule(sched, [1, 64, 1])
    pages = []
    slot = 1
    while True:
        page = sched.get_schedule(pid, slot, include_messages=True, max_bytes=8 * KIB)
        pages.append([m.data for m in page.messages])
        if not page.has_next:
            break
        slot = page.next_slot
    assert pages == [[messages[0].data], [messages[1].data], [messages[2].data]]


def test_assignment_only_pages_are_bounded_by_bytes_too(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    pid, _ = _schedule(sched, [0] * 40)
    page = sched.get_schedule(pid, 0, max_bytes=2 * KIB)
    assert 1 <= len(page.assignments) < 20 and page.has_next
    assert [a.slot for a in page.assignments] == list(range(len(page.assignments)))
    unbounded = sched.get_schedule(pid, 0)  # compute's reads: only max_page
    assert len(unbounded.assignments) == 41


def test_the_lease_charges_message_bodies_and_a_full_budget_ends_the_page(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    pid, messages = _schedule(sched, [10, 10, 10])
    budget = ReadBudget(25 * KIB)
    lease = ReadLease(budget)
    page = sched.get_schedule(pid, 1, include_messages=True, max_bytes=1 << 20, lease=lease)
    assert len(page.messages) == 2  # the third did not fit in the budget
    assert budget.in_use == lease.held > 20 * KIB
    other = ReadLease(budget)
    with pytest.raises(NeedBudget) as need:  # the first message of a page: the caller must wait
        sched.get_schedule(pid, 3, include_messages=True, max_bytes=1 << 20, lease=other)
    assert need.value.size > 10 * KIB
    lease.release()
    assert budget.in_use == 0
    page = sched.get_schedule(pid, 3, include_messages=True, max_bytes=1 << 20, lease=other)
    assert [m.id for m in page.messages] == [messages[2].id]
    other.release()
    small = ReadBudget(20 * KIB)
    filler = ReadLease(small)
    assert filler.try_take(15 * KIB)
    with pytest.raises(NeedBudget):
        sched.get_message(messages[0].id, ReadLease(small))
    filler.release()
    assert sched.get_message(messages[0].id, ReadLease(small)) == messages[0]


def test_budget_waits_are_woken_by_releases_and_bounded() -> None:
    async def go() -> None:
        budget = ReadBudget(100, wait_seconds=5)
        first = ReadLease(budget)
        assert first.try_take(80)
        second = ReadLease(budget)
        waiting = asyncio.ensure_future(second.take(50))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        first.release()
        await asyncio.wait_for(waiting, 2)
        assert second.try_take(50)  # the credit the wait left
        assert budget.in_use == 50
        assert ReadLease(budget).try_take(1000) is False  # cut to the capacity: waits for all of it
        second.release()
        whole = ReadLease(budget)
        assert whole.try_take(1000) and budget.in_use == 100  # larger than the budget: alone
        short = ReadBudget(10, wait_seconds=0.1)
        assert short.try_take(10) == 10
        with pytest.raises(ReadBudgetExhausted):
            await ReadLease(short).take(1)

    run(go())


def test_subscription_frames_with_messages_are_bounded_and_give_their_budget_back(
    make_store: StoreFactory,
) -> None:
    sched = make_scheduler(make_store(), max_frame_bytes=25 * KIB)
    pid, messages = _schedule(sched, [10, 10, 40, 10, 10])

    async def go() -> None:
        frames: list[list[bytes]] = []
        subscription = sched.subscribe(pid, 1, include_messages=True)
        async for batch in subscription:
            assert len(batch.messages) == len(batch.assignments)
            frames.append([m.id for m in batch.messages])
            assert sched.read_budget.in_use > 0  # held until the next frame is asked for
            if sum(map(len, frames)) == len(messages):
                break
        await subscription.aclose()
        assert sched.read_budget.in_use == 0
        ids = [m.id for m in messages]
        assert frames == [ids[0:2], ids[2:3], ids[3:5]]

    run(go())


def test_a_subscriber_that_cannot_get_budget_ends_with_resource_exhausted(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), read_budget_bytes=64 * KIB, read_wait_seconds=0.2)
    pid, _ = _schedule(sched, [40, 40])

    async def go() -> None:
        hog = ReadLease(sched.read_budget)
        assert hog.try_take(60 * KIB)
        subscription = sched.subscribe(pid, 1, include_messages=True)
        with pytest.raises(ReadBudgetExhausted):
            await subscription.__anext__()
        await subscription.aclose()
        hog.release()
        assert sched.read_budget.in_use == 0

    run(go())


def test_a_closed_lease_takes_nothing_more() -> None:
    """A read still on its worker thread when its call was cancelled must not leak budget."""
    budget = ReadBudget(100)
    lease = ReadLease(budget)
    assert lease.try_take(10)
    lease.close()
    assert budget.in_use == 0
    assert not lease.try_take(10)
    assert budget.in_use == 0


def test_the_budget_is_first_come_first_served() -> None:
    """A waiting big read is not starved by small reads that would still fit: they queue behind it."""

    async def go() -> None:
        budget = ReadBudget(100, wait_seconds=5)
        holder = ReadLease(budget)
        assert holder.try_take(80)
        big = ReadLease(budget)
        waiting = asyncio.ensure_future(big.take(50))
        await asyncio.sleep(0.05)
        assert not ReadLease(budget).try_take(10)  # 10 would fit, but the big read came first
        small = asyncio.ensure_future(ReadLease(budget).take(10))
        await asyncio.sleep(0.05)
        assert not small.done()
        holder.release()
        await asyncio.wait_for(waiting, 2)
        await asyncio.wait_for(small, 2)
        assert budget.in_use == 60
        cancelled = asyncio.ensure_future(ReadLease(budget).take(90))
        await asyncio.sleep(0.05)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert ReadLease(budget).try_take(40)  # the cancelled waiter left the queue
        assert budget.in_use == 100

    run(go())
