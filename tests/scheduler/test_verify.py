"""The independent verifier: honest schedules pass; tampering of every kind is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import lmdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aonode.codec import decode_assignment, encode_assignment
from aonode.crypto import sign_assignment
from aonode.errors import DataLoss
from aonode.model import Assignment
from aonode.scheduler import ScheduleVerificationError, StoredDataError, layout, verify_schedule
from aonode.scheduler.layout import HeadRecord
from store import LmdbStore, MemoryStore, ObjectStore, WriteBatch, read_u64
from tests.scheduler.helpers import (
    NODE_KEY,
    OTHER_NODE_KEY,
    make_scheduler,
    message_to,
    process_message,
    run,
)

SLOTS = 8


def _build(store: ObjectStore) -> bytes:
    """A schedule of slots 0..SLOTS-1 on `store`; returns the process ID."""
    sched = make_scheduler(store)
    proc = process_message()

    async def go() -> None:
        await sched.schedule(proc)
        await sched.schedule_many([message_to(proc.id) for _ in range(SLOTS - 1)])

    run(go())
    return proc.id


def _digest_at(store: ObjectStore, pid: bytes, slot: int) -> bytes:
    d = store.get(layout.ASSIGNMENTS, layout.slot_key(pid, slot))
    assert d is not None
    return d


def _assignment_at(store: ObjectStore, pid: bytes, slot: int) -> Assignment:
    data = store.get_object(_digest_at(store, pid, slot))
    assert data is not None
    return decode_assignment(data)


def _replace_assignment(store: ObjectStore, pid: bytes, a: Assignment, *, move_head: bool = False) -> None:
    """Point the slot's index row at a different assignment object (a legitimate store write)."""
    batch = WriteBatch()
    d = batch.put_object(encode_assignment(a))
    batch.put(layout.ASSIGNMENTS, layout.slot_key(pid, a.slot), d)
    if move_head:
        batch.put(layout.HEADS, pid, HeadRecord(a.slot, a.hash_chain, a.timestamp, d).encode())
    store.write(batch)


def test_honest_schedules_verify(tmp_path: Path) -> None:
    for store in (MemoryStore(), LmdbStore(tmp_path / "db")):
        with store:
            pid = _build(store)
            report = verify_schedule(store, pid, scheduler=NODE_KEY.address).raise_for_problems()
            assert (report.slots_checked, report.head_slot, report.ok) == (SLOTS, SLOTS - 1, True)
            assert "8 slots verified" in report.summary()


def test_flipped_byte_in_stored_assignment_is_detected_lmdb(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LmdbStore(path) as store:
        pid = _build(store)
        target = _digest_at(store, pid, 3)
    env = lmdb.open(str(path), max_dbs=8, subdir=True)
    objects = env.open_db(b"objects")
    with env.begin(write=True, db=objects) as txn:
        raw = bytearray(txn.get(target) or b"")
        raw[len(raw) // 2] ^= 0x01
        txn.put(target, bytes(raw))
    env.close()
    with LmdbStore(path) as store:
        report = verify_schedule(store, pid)
        assert not report.ok
        assert "slot 3: assignment object is corrupt" in report.problems[0]
        with pytest.raises(ScheduleVerificationError) as err:
            report.raise_for_problems()
        assert isinstance(err.value, DataLoss)
        # The scheduler's own reads refuse the corrupt object too (DATA_LOSS, never served).
        sched = make_scheduler(store)
        with pytest.raises(StoredDataError):
            sched.get_schedule(pid)


def test_flipped_byte_in_stored_assignment_is_detected_memory() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        target = _digest_at(store, pid, 5)
        table = store._tables["objects"]  # test-only reach into the backend
        table.data[target] = table.data[target][:-1] + bytes([table.data[target][-1] ^ 0x80])
        assert "slot 5: assignment object is corrupt" in verify_schedule(store, pid).problems[0]


def test_assignment_resigned_by_another_key_is_detected() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        a = _assignment_at(store, pid, 4)
        _replace_assignment(store, pid, sign_assignment(a.with_signature(None), OTHER_NODE_KEY))
        problems = verify_schedule(store, pid, scheduler=NODE_KEY.address).problems
        assert any("slot 4: assignment signed by" in p for p in problems)
        # Without naming the scheduler, slot 0's signer is the reference.
        assert any("slot 4: assignment signed by" in p for p in verify_schedule(store, pid).problems)


def test_changed_field_under_old_signature_is_detected() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        a = _assignment_at(store, pid, 2)
        _replace_assignment(store, pid, replace(a, timestamp=a.timestamp + 1))
        assert any("slot 2: assignment signature invalid" in p for p in verify_schedule(store, pid).problems)


def test_changed_chain_link_is_detected() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        a = _assignment_at(store, pid, 6)
        forged = sign_assignment(replace(a, hash_chain=bytes(32), signature=None), NODE_KEY)
        _replace_assignment(store, pid, forged)
        problems = verify_schedule(store, pid).problems
        # The forged link fails, and so does the next one, which was chained from the original.
        assert any("slot 6: hash chain does not follow" in p for p in problems)
        assert any("slot 7: hash chain does not follow" in p for p in problems)


def test_gap_and_head_mismatch_are_detected() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        batch = WriteBatch()
        batch.delete(layout.ASSIGNMENTS, layout.slot_key(pid, 3))
        store.write(batch)
        assert any("slot 3 is missing" in p for p in verify_schedule(store, pid).problems)
    with MemoryStore() as store:
        pid = _build(store)
        last = _assignment_at(store, pid, SLOTS - 2)
        batch = WriteBatch()
        batch.put(
            layout.HEADS, pid, HeadRecord(last.slot, last.hash_chain, last.timestamp, bytes(32)).encode()
        )
        store.write(batch)
        assert any("head says slot 6" in p for p in verify_schedule(store, pid).problems)


def test_message_swapped_or_missing_is_detected() -> None:
    with MemoryStore() as store:
        pid = _build(store)
        a = _assignment_at(store, pid, 1)
        b = _assignment_at(store, pid, 2)
        batch = WriteBatch()
        batch.put(layout.MESSAGES, a.message, store.get(layout.MESSAGES, b.message) or b"")
        batch.delete(layout.MESSAGES, b.message)
        store.write(batch)
        problems = verify_schedule(store, pid).problems
        assert any("slot 1: stored message has ID" in p for p in problems)
        assert any("slot 2: message" in p and "not stored" in p for p in problems)
        raw = store.get(layout.ASSIGNED, a.message + pid)
        assert raw is not None and read_u64(raw) == 1


def test_unknown_process_is_reported() -> None:
    with MemoryStore() as store:
        assert verify_schedule(store, b"\x03" * 32).problems == ["no head record"]


@settings(max_examples=25, deadline=None)
@given(slot=st.integers(0, SLOTS - 1), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_single_bit_flip_in_an_assignment_is_rejected(slot: int, position: int, bit: int) -> None:
    with MemoryStore() as store:
        pid = _build(store)
        a = _assignment_at(store, pid, slot)
        raw = bytearray(encode_assignment(a))
        raw[position % len(raw)] ^= 1 << bit
        # Store the mutated bytes as a proper object (so the store's digest check passes) and point the
        # slot at it: only the verifier's own checks can catch this.
        batch = WriteBatch()
        batch.put(layout.ASSIGNMENTS, layout.slot_key(pid, slot), batch.put_object(bytes(raw)))
        store.write(batch)
        assert not verify_schedule(store, pid).ok
