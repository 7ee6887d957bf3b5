"""Snapshot manifests and pages; results head records."""

from __future__ import annotations

import os

import pytest

from aonode.compute import StoredResultCorrupt
from aonode.compute.layout import (
    SNAPSHOT_PAGE,
    ResultsHead,
    load_snapshot,
    nearest_snapshot,
    put_snapshot,
)
from store import ObjectStore, WriteBatch
from store.base import OBJECTS

PID = bytes(range(32))


def _put(store: ObjectStore, slot: int, data: bytes) -> None:
    b = WriteBatch()
    with store.read() as view:
        put_snapshot(b, view, PID, slot, "dev@1", data)
    store.write(b)


def _objects(store: ObjectStore) -> int:
    with store.read() as view:
        return sum(1 for _ in view.range(OBJECTS))


def test_snapshots_round_trip_and_share_unchanged_pages(mem: ObjectStore) -> None:
    data = os.urandom(3 * SNAPSHOT_PAGE + 100)
    _put(mem, 10, data)
    assert _objects(mem) == 4 + 1  # four pages and the manifest
    flipped = bytes([data[SNAPSHOT_PAGE] ^ 0xFF])  # always a change (a fixed b"x" was 1 in 256 no change)
    changed = data[:SNAPSHOT_PAGE] + flipped + data[SNAPSHOT_PAGE + 1 :]
    _put(mem, 20, changed)
    assert _objects(mem) == 5 + 2  # one new page and a new manifest
    _put(mem, 30, b"")
    with mem.read() as view:
        assert nearest_snapshot(view, PID, 9) is None
        ref = nearest_snapshot(view, PID, 25)
        assert ref is not None and ref.slot == 20
        assert load_snapshot(view, ref.manifest) == ("dev@1", changed)
        ref10 = nearest_snapshot(view, PID, 19)
        assert ref10 is not None and load_snapshot(view, ref10.manifest) == ("dev@1", data)
        ref30 = nearest_snapshot(view, PID, 10**9)
        assert ref30 is not None and load_snapshot(view, ref30.manifest) == ("dev@1", b"")


def test_a_missing_page_is_reported(mem: ObjectStore) -> None:
    data = os.urandom(2 * SNAPSHOT_PAGE)
    _put(mem, 1, data)
    with mem.read() as view:
        first_page = next(k for k, v in view.range(OBJECTS) if v == data[:SNAPSHOT_PAGE])
        ref = nearest_snapshot(view, PID, 1)
    b = WriteBatch()
    b.delete(OBJECTS, first_page)
    mem.write(b)
    with mem.read() as view, pytest.raises(StoredResultCorrupt, match="page 0 is missing"):
        assert ref is not None
        load_snapshot(view, ref.manifest)


def test_head_record_round_trip() -> None:
    head = ResultsHead(7, bytes(32), b"\x01" * 32)
    assert ResultsHead.decode(head.encode()) == head
    with pytest.raises(StoredResultCorrupt):
        ResultsHead.decode(b"\x02" + head.encode()[1:])
