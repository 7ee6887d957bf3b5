"""A gap, a chain break, a missing message or a message under the wrong ID stops computation with a clear
error naming the slot; nothing is skipped and nothing past the break is stored."""

from __future__ import annotations

from dataclasses import replace

import pytest
from blake3 import blake3

from aonode.codec import encode_assignment, encode_message
from aonode.compute import ComputeEngine, MissingMessageError, ScheduleBrokenError
from aonode.crypto import sign_assignment
from aonode.scheduler import Scheduler, layout
from store import ObjectStore, WriteBatch
from tests.compute.helpers import engine, message, process_message, run, scheduler, spawn
from tests.scheduler.helpers import NODE_KEY


def _setup(store: ObjectStore) -> tuple[Scheduler, ComputeEngine, bytes]:
    # These tests damage the store after scheduling; the slots just committed would otherwise be read
    # from the scheduler's memory of them (recent.py), which holds what was committed, not the damage.
    sched = scheduler(store, recent_slots=0)
    pid = run(spawn(sched, process_message(), [f"m{i}" for i in range(6)]))
    return sched, engine(store, sched), pid


def _write(store: ObjectStore, fill: WriteBatch) -> None:
    store.write(fill)


def test_a_gap_stops_computation_naming_the_slot(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem)
    try:
        run(eng.compute(pid, 1))
        b = WriteBatch()
        b.delete(layout.ASSIGNMENTS, layout.slot_key(pid, 3))
        _write(mem, b)
        with pytest.raises(ScheduleBrokenError, match="slot 3 is missing") as info:
            run(eng.compute(pid, 5))
        assert info.value.status == "DATA_LOSS"
        assert eng.stored_head(pid) == 1
        assert eng.stored_result(pid, 4) is None
    finally:
        eng.close()


def test_a_hash_chain_break_stops_computation_naming_the_slot(mem: ObjectStore) -> None:
    sched, eng, pid = _setup(mem)
    try:
        (a3,) = sched.read_assignments(pid, 3, 1)
        forged = sign_assignment(replace(a3, hash_chain=blake3(b"elsewhere").digest()), NODE_KEY)
        b = WriteBatch()
        b.put(layout.ASSIGNMENTS, layout.slot_key(pid, 3), b.put_object(encode_assignment(forged)))
        _write(mem, b)
        with pytest.raises(ScheduleBrokenError, match="stopped at slot 3: its hash chain"):
            run(eng.compute(pid, 5))
        assert eng.stored_result(pid, 3) is None
        assert not eng.has_worker(pid)
        # Slot 2 and below are fine (computed on request), the break still stops anything beyond.
        assert run(eng.compute(pid, 2)).slot == 2
        with pytest.raises(ScheduleBrokenError, match="slot 3"):
            run(eng.compute(pid, 3))
    finally:
        eng.close()


def test_a_missing_message_stops_computation_naming_the_slot(mem: ObjectStore) -> None:
    sched, eng, pid = _setup(mem)
    try:
        (a4,) = sched.read_assignments(pid, 4, 1)
        b = WriteBatch()
        b.delete(layout.MESSAGES, a4.message)
        _write(mem, b)
        with pytest.raises(
            MissingMessageError, match=r"stopped at slot 4: its message .* is not in the store"
        ) as e:
            run(eng.compute(pid, 6))
        assert e.value.status == "FAILED_PRECONDITION"
        assert eng.stored_result(pid, 4) is None
    finally:
        eng.close()


def test_a_message_stored_under_another_id_stops_computation(mem: ObjectStore) -> None:
    sched, eng, pid = _setup(mem)
    try:
        (a2,) = sched.read_assignments(pid, 2, 1)
        impostor = message(pid, "not the scheduled one")
        b = WriteBatch()
        b.put(layout.MESSAGES, a2.message, b.put_object(encode_message(impostor)))
        _write(mem, b)
        with pytest.raises(ScheduleBrokenError, match="stopped at slot 2: the message stored as"):
            run(eng.compute(pid, 3))
    finally:
        eng.close()


def test_a_broken_slot_zero_is_reported(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem)
    try:
        b = WriteBatch()
        b.delete(layout.MESSAGES, pid)
        _write(mem, b)
        with pytest.raises(MissingMessageError, match="slot 0: the Process message is not in the store"):
            run(eng.compute(pid, 0))
    finally:
        eng.close()


def test_recently_committed_slots_are_read_from_memory_until_evicted(mem: ObjectStore) -> None:
    """Compute right after scheduling reads the committed pairs from the scheduler's memory; once they
    are evicted the store is read again, and damage there is found."""
    sched = scheduler(mem, recent_slots=4)
    pid = run(spawn(sched, process_message(), [f"m{i}" for i in range(6)]))
    eng = engine(mem, sched)
    try:
        assert [a.slot for a in sched.get_schedule(pid, 3, 6, include_messages=True).assignments] == [
            3,
            4,
            5,
            6,
        ]
        hits = sched.recent.hits
        b = WriteBatch()
        b.delete(layout.ASSIGNMENTS, layout.slot_key(pid, 2))
        _write(mem, b)
        with pytest.raises(ScheduleBrokenError, match="slot 2 is missing"):
            run(eng.compute(pid, 6))  # slots 0-2 are no longer held: read from the store
        b = WriteBatch()
        b.delete(layout.ASSIGNMENTS, layout.slot_key(pid, 5))
        _write(mem, b)
        page = sched.get_schedule(pid, 3, 6, include_messages=True)  # held: the committed pairs
        assert [a.slot for a in page.assignments] == [3, 4, 5, 6] and not page.has_next
        assert sched.recent.hits == hits + 1
        assert len(page.messages) == 4 and all(
            m.id == a.message for a, m in zip(page.assignments, page.messages, strict=True)
        )
    finally:
        eng.close()
        sched.close()
