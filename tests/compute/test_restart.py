"""Results survive a restart unchanged (LMDB), a new engine recomputes from slot 0 or the nearest snapshot,
and every recomputed slot is compared with its stored result."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aonode.compute import ReplayDivergenceError, SlotResult
from aonode.compute.layout import SNAPSHOTS, slot_key
from aonode.model import Message
from store import LmdbStore, WriteBatch
from tests.compute import fakes
from tests.compute.fakes import SnapDevice
from tests.compute.helpers import engine, process_message, run, scheduler, send, spawn, twin

DATAS = [f"m{i}" for i in range(12)] + ["error", "patch", "send:hi", "x"]


def _first_life(path: Path, proc: Message, **config: object) -> tuple[bytes, list[SlotResult]]:
    store = LmdbStore(path)
    sched = scheduler(store)
    eng = engine(store, sched, **config)  # type: ignore[arg-type]
    try:
        pid = run(spawn(sched, proc, DATAS))
        last = run(eng.now(pid)).slot
        results = [eng.stored_result(pid, s) for s in range(last + 1)]
        return pid, [r for r in results if r is not None]
    finally:
        eng.close()
        sched.close()
        store.close()


def test_results_and_hashpaths_are_identical_after_a_restart(lmdb_dir: Path) -> None:
    proc = process_message()
    pid, before = _first_life(lmdb_dir, proc, write_every=5)
    assert len(before) == len(DATAS) + 1
    store = LmdbStore(lmdb_dir)
    sched = scheduler(store)
    eng = engine(store, sched)
    try:
        after = [eng.stored_result(pid, s) for s in range(len(before))]
        assert after == before
        assert eng.stored_head(pid) == len(DATAS)
        run(send(sched, pid, ["more", "and more"], 100))
        r = run(eng.now(pid))
        assert r.slot == len(DATAS) + 2
        assert eng.stats()["verified"] == len(DATAS) + 1 and eng.stats()["fresh_workers"] == 1
        mine = [eng.stored_result(pid, s) for s in range(r.slot + 1)]
    finally:
        eng.close()
        sched.close()
        store.close()
    assert [(m.result_digest, m.hashpath) for m in mine if m] == twin(
        proc, [DATAS, ["more", "and more"]], [1, 100]
    )


def test_a_snapshot_device_resumes_from_the_nearest_snapshot(lmdb_dir: Path) -> None:
    proc = process_message(SnapDevice.name)
    pid, before = _first_life(lmdb_dir, proc, snapshot_every=5)
    store = LmdbStore(lmdb_dir)
    try:
        with store.read() as view:
            snaps = [k[-8:] for k, _ in view.prefix(SNAPSHOTS, pid)]
        assert [int.from_bytes(k, "big") for k in snaps] == [5, 10, 15]
        sched = scheduler(store)
        eng = engine(store, sched, snapshot_every=5)
        run(send(sched, pid, ["later"], 100))
        r = run(eng.now(pid))
        assert r.slot == len(DATAS) + 1
        stats = eng.stats()
        assert (stats["restored_workers"], stats["fresh_workers"], stats["verified"]) == (1, 0, 1)
        assert SnapDevice.restores == [15]
        # A request for a slot below the live worker is served from the store, never recomputed.
        assert run(eng.compute(pid, 7)) == before[7]
        mine = [eng.stored_result(pid, s) for s in range(r.slot + 1)]
        eng.close()
        sched.close()
    finally:
        store.close()
    assert [(m.result_digest, m.hashpath) for m in mine if m] == twin(proc, [DATAS, ["later"]], [1, 100])


def test_an_unusable_snapshot_falls_back_to_replay(lmdb_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    proc = process_message(SnapDevice.name)
    pid, _ = _first_life(lmdb_dir, proc, snapshot_every=5)
    store = LmdbStore(lmdb_dir)
    try:
        b = WriteBatch()
        b.put(SNAPSHOTS, slot_key(pid, 15), bytes(32))  # a manifest that does not exist
        store.write(b)
        sched = scheduler(store)
        eng = engine(store, sched, snapshot_every=5)
        run(send(sched, pid, ["later"], 100))
        with caplog.at_level(logging.WARNING, logger="aonode.compute"):
            run(eng.now(pid))
        assert "snapshot at slot 15 not usable" in caplog.text
        assert eng.stats()["fresh_workers"] == 1
        eng.close()
        sched.close()
    finally:
        store.close()


def test_a_recomputation_that_differs_from_the_stored_result_stops(
    lmdb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proc = process_message()
    pid, before = _first_life(lmdb_dir, proc)
    fakes.FakeDevice.salt = b"a different device version"
    store = LmdbStore(lmdb_dir)
    sched = scheduler(store)
    try:
        run(send(sched, pid, ["later"], 100))
        eng = engine(store, sched)
        with pytest.raises(ReplayDivergenceError, match="slot 0 recomputed with a different result"):
            run(eng.now(pid))
        eng.close()
        lenient = engine(store, sched, fail_on_divergence=False)
        with caplog.at_level(logging.WARNING, logger="aonode.compute"):
            r = run(lenient.now(pid))
        assert r.slot == len(DATAS) + 1
        assert "keeping the stored result" in caplog.text
        assert lenient.stored_result(pid, 3) == before[3]
        lenient.close()
    finally:
        sched.close()
        store.close()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"snapshot_every": 0, "snapshot_seconds": 1e-9}, list(range(1, len(DATAS) + 1))),
        ({"snapshot_every": 0, "snapshot_seconds": 3600.0}, []),
        ({"snapshot_every": 5, "snapshot_seconds": 3600.0}, [5, 10, 15]),
    ],
)
def test_snapshots_by_time_as_well_as_by_slot(
    lmdb_dir: Path, config: dict[str, object], expected: list[int]
) -> None:
    proc = process_message(SnapDevice.name)
    pid, _ = _first_life(lmdb_dir, proc, **config)
    store = LmdbStore(lmdb_dir)
    try:
        with store.read() as view:
            assert [int.from_bytes(k[-8:], "big") for k, _ in view.prefix(SNAPSHOTS, pid)] == expected
        if expected:  # a new engine resumes from the last of them, whichever cadence stored it
            sched = scheduler(store)
            eng = engine(store, sched, **config)  # type: ignore[arg-type]
            run(send(sched, pid, ["later"], 100))
            run(eng.now(pid))
            assert SnapDevice.restores == [expected[-1]]
            eng.close()
            sched.close()
    finally:
        store.close()
