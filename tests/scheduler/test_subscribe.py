"""Subscriptions: catch-up then live, in order without gaps or duplicates, heartbeats, cleanup."""

from __future__ import annotations

import asyncio

import pytest

from aonode.errors import InvalidArgument, NotFound
from aonode.model import Assignment
from aonode.scheduler import ScheduleBatch
from tests.scheduler.conftest import StoreFactory
from tests.scheduler.helpers import make_scheduler, message_to, process_message, run


def test_subscriber_from_zero_during_concurrent_load_sees_every_slot_once(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), max_frame=50)
    proc = process_message()
    total = 1 + 30 + 4 * 62 + 3 * 40  # the Process, a backlog, 4 unary producers, bulk

    async def go() -> None:
        await sched.schedule(proc)
        await sched.schedule_many([message_to(proc.id) for _ in range(30)])  # a backlog to catch up on
        seen: list[Assignment] = []
        frames: list[int] = []

        async def consume() -> None:
            async for batch in sched.subscribe(proc.id, 0):
                frames.append(len(batch.assignments))
                seen.extend(batch.assignments)
                if batch.assignments:
                    await asyncio.sleep(0)  # a consumer that yields, so producers interleave
                if len(seen) >= total:
                    return

        async def produce(n: int) -> None:
            for _ in range(n):
                await sched.schedule(message_to(proc.id))

        async def bulk() -> None:
            for _ in range(3):
                await sched.schedule_many([message_to(proc.id) for _ in range(40)])

        await asyncio.gather(consume(), *(produce(62) for _ in range(4)), bulk())
        assert [a.slot for a in seen] == list(range(total))
        assert len({a.message for a in seen}) == total
        assert max(frames) > 1  # the backlog and bursts went out several per frame
        assert sched.waiter_count() == 0

    run(go())


def test_backlog_is_sent_in_frames(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), max_frame=10)
    proc = process_message()

    async def go() -> list[int]:
        await sched.schedule(proc)
        await sched.schedule_many([message_to(proc.id) for _ in range(99)])
        sizes = []
        sub = sched.subscribe(proc.id, 5)
        async for batch in sub:
            sizes.append(len(batch.assignments))
            assert batch.head_slot == 99
            if sub.next_slot == 100:
                break
        return sizes

    assert run(go()) == [10] * 9 + [5]


def test_large_backlog_frames_are_read_off_the_loop(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), max_frame=500)
    proc = process_message()

    async def go() -> int:
        await sched.schedule(proc)
        await sched.schedule_many([message_to(proc.id) for _ in range(1199)])
        n = 0
        async for batch in sched.subscribe(proc.id):
            assert [a.slot for a in batch.assignments] == list(range(n, n + len(batch.assignments)))
            n += len(batch.assignments)
            if n == 1200:
                return n
        return n

    assert run(go()) == 1200


def test_idle_subscriber_gets_heartbeats_then_live_data(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), heartbeat_seconds=0.05)
    proc = process_message()

    async def go() -> tuple[list[ScheduleBatch], list[ScheduleBatch]]:
        await sched.schedule(proc)
        sub = sched.subscribe(proc.id, 1)
        idle = [await sub.__anext__(), await sub.__anext__()]  # nothing after slot 0: heartbeats
        scheduled = asyncio.ensure_future(sched.schedule(message_to(proc.id)))
        # More heartbeats may come while the commit is under way (an fsync can take longer than 50 ms on
        # a loaded disk); the first batch with assignments must be the new slot.
        after: list[ScheduleBatch] = []
        while not after or not after[-1].assignments:
            after.append(await asyncio.wait_for(sub.__anext__(), 30))
        await scheduled
        return idle, after

    idle, after = run(go())
    assert [(list(b.assignments), b.head_slot) for b in idle] == [([], 0), ([], 0)]
    assert all(list(b.assignments) == [] for b in after[:-1])
    assert [a.slot for a in after[-1].assignments] == [1]


def test_cancelled_subscriber_leaves_no_waiter(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    proc = process_message()

    async def go() -> None:
        await sched.schedule(proc)

        async def consume() -> None:
            async for _ in sched.subscribe(proc.id, 0):
                pass

        tasks = [asyncio.ensure_future(consume()) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert sched.waiter_count(proc.id) == 5
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sched.waiter_count(proc.id) == 0
        # Commits after the cancellation wake nobody and break nothing.
        await sched.schedule(message_to(proc.id))
        assert sched.waiter_count() == 0

    run(go())


def test_close_ends_subscriptions(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    proc = process_message()

    async def go() -> None:
        await sched.schedule(proc)
        sub = sched.subscribe(proc.id, 1)
        other = sched.subscribe(proc.id, 1)

        async def drain(s: object) -> int:
            n = 0
            async for _ in s:  # type: ignore[attr-defined]
                n += 1
            return n

        t1, t2 = asyncio.ensure_future(drain(sub)), asyncio.ensure_future(drain(other))
        await asyncio.sleep(0.02)
        sub.close()
        assert await t1 == 0
        sched.close()
        assert await t2 == 0
        assert sched.waiter_count() == 0

    run(go())


def test_subscribe_refusals(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())

    async def go() -> None:
        with pytest.raises(NotFound):
            sched.subscribe(b"\x05" * 32)
        a = await sched.schedule(process_message())
        with pytest.raises(InvalidArgument):
            sched.subscribe(a.process, -1)

    run(go())
