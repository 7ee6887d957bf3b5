"""The same schedule semantics whichever way signatures are checked: inline, threads, worker processes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from aonode.errors import AonodeError, InvalidArgument
from aonode.model import Assignment, Message
from aonode.scheduler import UnsignedMessageError, verify_schedule
from store import MemoryStore
from tests.scheduler.helpers import make_scheduler, message_to, process_message, run

MODES: dict[str, dict[str, Any]] = {
    "inline": {},
    "threads": {"verify_threads": 2},
    "processes": {"verify_processes": 1, "verify_chunk": 8},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_modes_schedule_alike(mode: str) -> None:
    with MemoryStore() as store:
        sched = make_scheduler(store, **MODES[mode])
        proc = process_message()
        good = [message_to(proc.id) for _ in range(30)]
        assert good[0].signature is not None
        tampered = replace(good[0], data=b"changed")
        unsigned = message_to(proc.id, signed=False)

        async def go() -> None:
            assert (await sched.schedule(proc)).slot == 0
            with pytest.raises(InvalidArgument, match="signature"):
                await sched.schedule(tampered)
            with pytest.raises(UnsignedMessageError):
                await sched.schedule(unsigned)
            batch: list[Message] = [*good[:10], tampered, unsigned, *good[10:], good[3]]
            results = await sched.schedule_many(batch)
            assert isinstance(results[10], InvalidArgument) and isinstance(results[11], UnsignedMessageError)
            ok = [r for r in results if isinstance(r, Assignment)]
            assert [a.slot for a in ok[:-1]] == list(range(1, 31))
            assert ok[-1] == ok[3]  # the duplicate at the end
            unary = await asyncio.gather(*(sched.schedule(message_to(proc.id)) for _ in range(20)))
            assert sorted(a.slot for a in unary) == list(range(31, 51))

        try:
            run(go(), timeout=60)
        finally:
            sched.close()
        verify_schedule(store, proc.id).raise_for_problems()


def test_store_refuses_a_duplicate_that_slipped_past_memory() -> None:
    # Two schedulers on one store do not share their pending maps: only the store's `require` on the
    # `assigned` row can stop the second from giving the same message a second slot.
    with MemoryStore() as store:
        a, b = make_scheduler(store), make_scheduler(store)
        proc = process_message()
        msgs = [message_to(proc.id) for _ in range(20)]

        async def go() -> tuple[list[Assignment | AonodeError], list[Assignment | AonodeError]]:
            await a.schedule(proc)
            return await asyncio.gather(a.schedule_many(msgs), b.schedule_many(msgs))

        from_a, from_b = run(go())
        assert from_a == from_b
        assert all(isinstance(r, Assignment) for r in from_a)
        assert a.head(proc.id).slot == 20
        verify_schedule(store, proc.id).raise_for_problems()
