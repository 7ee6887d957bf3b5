"""Dense slots under concurrency, restart continuity, and store failures in the middle of a pipeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aonode.errors import AonodeError, NotFound
from aonode.ids import next_hash_chain
from aonode.model import Assignment, Message
from aonode.scheduler import Scheduler, StoreCapacityError, verify_schedule
from store import LmdbStore, MemoryStore, ObjectStore
from tests.scheduler.conftest import StoreFactory
from tests.scheduler.helpers import FailingStore, make_scheduler, message_to, process_message, run


def _check_schedule(store: ObjectStore, pid: bytes, acked: list[Assignment]) -> None:
    """I1-I3: every acknowledged assignment is stored unchanged; slots dense 0..N; the chain verifies."""
    sched = make_scheduler(store)
    page = sched.get_schedule(pid, 0, limit=1000)
    stored = {a.slot: a for a in page.assignments}
    assert sorted(stored) == list(range(len(stored)))
    for a in acked:
        assert stored[a.slot] == a
    assert len({a.message for a in stored.values()}) == len(stored)
    verify_schedule(store, pid).raise_for_problems()


@settings(max_examples=20, deadline=None)
@given(
    callers=st.integers(1, 12),
    per_caller=st.integers(1, 8),
    dup_every=st.integers(2, 6),
    bulk=st.booleans(),
)
def test_concurrent_callers_get_dense_unique_slots(
    callers: int, per_caller: int, dup_every: int, bulk: bool
) -> None:
    with MemoryStore() as store:
        sched = make_scheduler(store)
        proc = process_message()
        msgs = [[message_to(proc.id) for _ in range(per_caller)] for _ in range(callers)]

        async def caller(mine: list[Message]) -> list[Assignment]:
            out = []
            for i, m in enumerate(mine):
                out.append(await sched.schedule(m))
                if i % dup_every == 0:
                    out.append(await sched.schedule(m))  # a duplicate
            return out

        async def go() -> list[Assignment]:
            done = [await sched.schedule(proc)]
            tasks = [asyncio.ensure_future(caller(m)) for m in msgs]
            if bulk:
                extra = [message_to(proc.id) for _ in range(callers)]
                many = await sched.schedule_many(extra + extra[:2])
                assert all(isinstance(a, Assignment) for a in many)
                done += [a for a in many if isinstance(a, Assignment)]
            for t in tasks:
                done += await t
            return done

        acked = run(go())
        distinct = {m.id for per in msgs for m in per}
        slots = {a.message: a.slot for a in acked}
        assert distinct <= set(slots)
        assert sorted(slots.values()) == list(range(len(slots)))
        _check_schedule(store, proc.id, acked)


def test_restart_continues_slot_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "db"
    proc = process_message()
    acked: list[Assignment] = []
    for round_ in range(3):
        with LmdbStore(path) as store:
            sched = make_scheduler(store)

            async def go(sched: Scheduler = sched, first: bool = round_ == 0) -> None:
                if first:
                    acked.append(await sched.schedule(proc))
                acked.extend(await asyncio.gather(*(sched.schedule(message_to(proc.id)) for _ in range(5))))
                many = await sched.schedule_many([message_to(proc.id) for _ in range(5)])
                acked.extend(a for a in many if isinstance(a, Assignment))

            run(go())
            head = sched.head(proc.id)
            assert head.slot == len(acked) - 1
            sched.close()
    with LmdbStore(path) as store:
        # The chain runs unbroken across the restarts.
        chain: bytes = proc.id
        for a in sorted(acked, key=lambda a: a.slot):
            chain = next_hash_chain(chain, a.message)
            assert a.hash_chain == chain
        assert make_scheduler(store).head(proc.id).hash_chain == chain
        _check_schedule(store, proc.id, acked)


@pytest.mark.parametrize("bulk", [False, True])
def test_failed_write_mid_pipeline_keeps_slots_dense(make_store: StoreFactory, bulk: bool) -> None:
    inner = make_store()
    proc = process_message()
    # Submit #0 is the genesis; #3 fails while more writes of the process are queued behind it.
    store = FailingStore(inner, fail_at={3})
    sched = make_scheduler(store)

    async def go() -> list[Assignment | AonodeError]:
        await sched.schedule(proc)
        msgs = [message_to(proc.id) for _ in range(40)]
        if not bulk:
            return list(await asyncio.gather(*(sched.schedule(m) for m in msgs), return_exceptions=True))  # type: ignore[arg-type]
        unary = asyncio.gather(*(sched.schedule(m) for m in msgs[:20]), return_exceptions=True)
        many = await sched.schedule_many(msgs[20:])
        return [*(await unary), *many]  # type: ignore[list-item]

    results = run(go())
    failed = [r for r in results if not isinstance(r, Assignment)]
    assert all(isinstance(f, StoreCapacityError) and f.status == "RESOURCE_EXHAUSTED" for f in failed), failed
    if bulk:
        # A failed shared batch is retried one message per batch (which then fit), a single one is not.
        assert len(failed) <= 1
    else:
        assert len(failed) == 1
    acked = [r for r in results if isinstance(r, Assignment)]
    assert sorted(a.slot for a in acked) == list(range(1, 1 + len(acked)))
    _check_schedule(inner, proc.id, acked)
    assert sched.in_flight == 0
    # The cascade re-assigned the later writes rather than failing them.
    assert len(acked) == 40 - len(failed)


def test_failed_genesis_leaves_no_process(make_store: StoreFactory) -> None:
    inner = make_store()
    store = FailingStore(inner, fail_at={0})
    sched = make_scheduler(store)
    proc = process_message()

    async def go() -> list[Assignment | BaseException]:
        return list(
            await asyncio.gather(
                sched.schedule(proc), sched.schedule(message_to(proc.id)), return_exceptions=True
            )
        )

    genesis, follower = run(go())
    assert isinstance(genesis, StoreCapacityError)
    assert isinstance(follower, NotFound)
    assert sched.processes() == []
    # The retry succeeds and starts the schedule at slot 0.
    assert run(sched.schedule(proc)).slot == 0
    verify_schedule(inner, proc.id).raise_for_problems()


def test_lmdb_map_full_mid_pipeline(tmp_path: Path) -> None:
    # A map that cannot grow past ~1 MiB: a burst of 64 KiB messages overflows it part way.
    store = LmdbStore(tmp_path / "db", map_size=1 << 20, max_map_size=1 << 20)
    with store:
        sched = make_scheduler(store)
        proc = process_message()

        async def go() -> list[Assignment | AonodeError]:
            await sched.schedule(proc)
            return await sched.schedule_many(
                [message_to(proc.id, data=bytes([i]) * 60_000) for i in range(40)]
            )

        results = run(go())
        acked = [r for r in results if isinstance(r, Assignment)]
        failed = [r for r in results if not isinstance(r, Assignment)]
        assert failed and all(isinstance(f, StoreCapacityError) for f in failed), failed
        assert acked, "some writes should fit"
        _check_schedule(store, proc.id, acked)
        # The process keeps working with small messages once the big ones are refused.
        small = run(sched.schedule(message_to(proc.id)))
        assert small.slot == len(acked) + 1
        verify_schedule(store, proc.id).raise_for_problems()


def test_two_schedulers_on_one_store_stay_dense() -> None:
    # Not a supported deployment, but the preconditions must still keep the schedule consistent.
    with MemoryStore() as store:
        a, b = make_scheduler(store, conflict_retries=50), make_scheduler(store, conflict_retries=50)
        proc = process_message()

        async def go() -> list[Assignment]:
            await a.schedule(proc)
            out = await asyncio.gather(
                *(s.schedule(message_to(proc.id)) for _ in range(15) for s in (a, b)), return_exceptions=True
            )
            return [r for r in out if isinstance(r, Assignment)]

        acked = run(go(), timeout=60)
        assert len(acked) >= 15
        _check_schedule(store, proc.id, acked)
