"""LMDB-only behaviour: durability flags, map growth and its limits, reopen, table limit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from store import (
    LmdbStore,
    MemoryStore,
    ObjectStore,
    StoreError,
    StoreFullError,
    WriteBatch,
    open_store,
    u64,
)
from store.lmdb_store import MAX_TABLES

HoldWriter = Callable[[ObjectStore], AbstractContextManager[None]]
KiB = 1024


def blob_batch(key: bytes, size: int, table: str = "t") -> tuple[WriteBatch, bytes]:
    b = WriteBatch()
    d = b.put_object(os.urandom(size))
    b.put(table, key, d)
    return b, d


def fill_until_full(store: LmdbStore, size: int) -> dict[bytes, bytes]:
    acked: dict[bytes, bytes] = {}
    for i in range(100_000):
        b, d = blob_batch(u64(i), size)
        try:
            store.write(b)
        except StoreFullError:
            return acked
        acked[u64(i)] = d
    raise AssertionError("never got full")


def check_all(store: ObjectStore, acked: dict[bytes, bytes]) -> None:
    with store.read() as view:
        for key, d in acked.items():
            assert view.get("t", key) == d
            assert view.get_object(d) is not None  # verified against d


def test_env_is_opened_durable(tmp_path: Path) -> None:
    with LmdbStore(tmp_path) as s:
        flags = s._env.flags()
        assert flags["sync"] and flags["metasync"]
        assert not flags["writemap"] and not flags["map_async"]
        assert s.stats()["stale_readers_cleared"] == 0  # nobody else ever opened this store


def test_open_clears_readers_left_by_a_killed_process(tmp_path: Path) -> None:
    # A reader slot of a process killed mid-read pins old pages (the map grows forever) until cleared.
    # The first process to open an environment resets its reader table, so a second process (`holder`)
    # keeps it open while the reader dies.
    with LmdbStore(tmp_path):
        pass
    holder = _child(tmp_path, read=False)
    try:
        reader = _child(tmp_path, read=True)
        reader.kill()
        reader.wait()
        with LmdbStore(tmp_path) as s:
            assert s.stats()["stale_readers_cleared"] == 1
    finally:
        holder.kill()
        holder.wait()


def _child(path: Path, read: bool) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from store import LmdbStore\n"
        "s = LmdbStore(sys.argv[1])\n"
        f"view = s.read() if {read} else None\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    with open_store(None) as m:
        assert isinstance(m, MemoryStore)
    with open_store(tmp_path / "x", map_size=1 << 20) as s:
        assert isinstance(s, LmdbStore)
        assert s.stats()["map_size"] == 1 << 20


def test_open_twice_in_one_process_is_refused(tmp_path: Path) -> None:
    with LmdbStore(tmp_path), pytest.raises(StoreError, match="already open"):
        LmdbStore(tmp_path)
    with LmdbStore(tmp_path):  # and fine again once closed
        pass


def test_reopen_keeps_data_and_grown_map(tmp_path: Path) -> None:
    acked = {}
    with LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=64 << 20) as s:
        for i in range(100):
            b, d = blob_batch(u64(i), 2000)
            s.write(b)
            acked[u64(i)] = d
        grown = s.stats()["map_size"]
        assert grown > 64 * KiB
    with LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=64 << 20) as s:
        # LMDB reopens at max(map_size, used space); the store adds headroom so as not to grow at once.
        stats = s.stats()
        assert stats["map_size"] >= min(grown, 2 * stats["pages_used"] * stats["page_size"])
        check_all(s, acked)
        assert stats["tables"] == 2
        b, _ = blob_batch(b"one more", 2000)
        s.write(b)
        assert s.stats()["map_grows"] == 0


def test_map_grows_under_concurrent_writers_and_readers(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=256 << 20)
    acked: dict[bytes, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(60):
                b, d = blob_batch(u64(t) + u64(i), 3000)
                s.write(b)
                with lock:
                    acked[u64(t) + u64(i)] = d
        except BaseException as e:
            errors.append(e)

    def reader() -> None:
        # Short views all through the growth: each must stay a valid snapshot for its whole life.
        try:
            while not stop.is_set():
                with s.read() as view:
                    rows = list(view.range("t"))
                    for key, d in rows[-5:]:
                        assert view.get_object(d) is not None
                        assert view.get("t", key) == d
        except BaseException as e:
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert len(acked) == 240
    assert s.stats()["map_grows"] >= 3
    check_all(s, acked)
    s.close()


def test_map_that_cannot_grow_fails_only_what_does_not_fit(tmp_path: Path, hold_writer: HoldWriter) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=256 * KiB)
    acked = fill_until_full(s, 8000)
    assert len(acked) > 10
    assert s.stats()["map_size"] == 256 * KiB
    check_all(s, acked)

    # Still usable for small writes; in one group, only the batch that cannot fit fails.
    with hold_writer(s):
        small1 = WriteBatch()
        small1.put("t", b"small-1", b"x")
        huge, _ = blob_batch(b"huge", 200 * KiB)
        small2 = WriteBatch()
        small2.put("t", b"small-2", b"y")
        futs = [s.submit(b) for b in (small1, huge, small2)]
    assert futs[0].exception(10) is None
    assert isinstance(futs[1].exception(10), StoreFullError)
    assert futs[2].exception(10) is None
    assert s.get("t", b"small-1") == b"x"
    assert s.get("t", b"small-2") == b"y"
    assert s.get("t", b"huge") is None
    check_all(s, acked)
    s.close()

    with LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=1 << 20) as s:
        check_all(s, acked)
        b, _ = blob_batch(b"after-reopen", 200 * KiB)
        s.write(b)  # room again with a larger maximum


def test_growth_waits_for_a_view_held_by_another_thread(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=16 << 20, grow_timeout=30)
    b, d0 = blob_batch(b"first", 1000)
    s.write(b)
    opened, seen = threading.Event(), []

    def hold() -> None:
        with s.read() as view:
            opened.set()
            time.sleep(0.3)
            seen.append(view.get("t", b"first"))
            seen.append(view.get("t", b"big"))

    t = threading.Thread(target=hold)
    t.start()
    assert opened.wait(10)
    start = time.monotonic()
    b, d = blob_batch(b"big", 200 * KiB)
    s.write(b)
    waited = time.monotonic() - start
    t.join()
    assert seen == [d0, None]  # the view stayed valid, and a snapshot, until it closed
    assert waited >= 0.2
    assert s.get_object(d) is not None
    assert s.stats()["map_grows"] >= 1
    s.close()


def test_growth_is_refused_at_once_when_the_writing_thread_holds_a_view(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=16 << 20, grow_timeout=60)
    view = s.read()
    start = time.monotonic()
    b, _ = blob_batch(b"big", 200 * KiB)
    with pytest.raises(StoreFullError):
        s.write(b)  # waiting for our own view would deadlock
    assert time.monotonic() - start < 5
    assert s.stats()["grow_blocked"] >= 1
    view.close()
    b, d = blob_batch(b"big", 200 * KiB)
    s.write(b)
    assert s.get_object(d) is not None
    s.close()


def test_growth_gives_up_after_grow_timeout(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=16 << 20, grow_timeout=0.3)
    release, opened = threading.Event(), threading.Event()

    def hold() -> None:
        with s.read():
            opened.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    assert opened.wait(10)
    b, _ = blob_batch(b"big", 200 * KiB)
    with pytest.raises(StoreFullError):
        s.write(b)
    release.set()
    t.join()
    b, _ = blob_batch(b"big", 200 * KiB)
    s.write(b)
    s.close()


def test_leaked_view_is_released_by_garbage_collection(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path, map_size=64 * KiB, max_map_size=16 << 20, grow_timeout=20)
    view = s.read()
    assert s.stats()["readers_open"] == 2 - 1  # stats' own view is closed again
    del view
    gc.collect()
    start = time.monotonic()
    b, _ = blob_batch(b"big", 200 * KiB)
    s.write(b)
    assert time.monotonic() - start < 5
    assert s.stats()["readers_open"] == 0
    s.close()


def test_table_limit_fails_only_the_batch_that_needs_a_new_table(tmp_path: Path) -> None:
    s = LmdbStore(tmp_path)
    for i in range(MAX_TABLES - 1):  # "objects" is the first table
        b = WriteBatch()
        b.put(f"table-{i}", b"k", b"v")
        s.write(b)
    b = WriteBatch()
    b.put("one-too-many", b"k", b"v")
    with pytest.raises(StoreFullError, match="table limit"):
        s.write(b)
    b = WriteBatch()
    b.put("table-0", b"k2", b"v2")
    b.delete("one-too-many", b"k")
    s.write(b)
    assert s.get("table-0", b"k2") == b"v2"
    assert s.stats()["tables"] == MAX_TABLES
    s.close()


def test_a_failing_batch_is_isolated_from_its_group(
    tmp_path: Path, hold_writer: HoldWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = LmdbStore(tmp_path)
    b = WriteBatch()
    b.put("t", b"exists", b"")
    s.write(b)
    # Simulate an op that LMDB rejects mid-transaction: a put into a table that was never created.
    monkeypatch.setattr(s, "_create_tables", lambda batches, todo, outcomes: todo)
    with hold_writer(s):
        ok1 = WriteBatch()
        ok1.put("t", b"a", b"1")
        bad = WriteBatch()
        bad.put("t", b"partial", b"!")
        bad.put("not-created", b"k", b"v")
        ok2 = WriteBatch()
        ok2.put("t", b"b", b"2")
        futs = [s.submit(x) for x in (ok1, bad, ok2)]
    assert futs[0].exception(10) is None
    err = futs[1].exception(10)
    assert isinstance(err, StoreError) and "not-created" in str(err)
    assert futs[2].exception(10) is None
    assert s.get("t", b"a") == b"1" and s.get("t", b"b") == b"2"
    assert s.get("t", b"partial") is None
    s.close()


def test_a_full_disk_is_store_full_and_recovers_when_space_returns(tmp_path: Path) -> None:
    # LMDB reports a commit cut short by a full disk as EIO ("Input/output error"), which reads like a
    # failing device; the store tells them apart by the space left and says "store is full".
    from tests.store.smallfs import fill, small_filesystem

    with small_filesystem(tmp_path / "fs", 8) as fs:
        store = LmdbStore(fs / "db", map_size=1 << 20)
        try:
            filler = fill(fs / "filler", leave=1 << 20)
            acked: dict[bytes, bytes] = {}
            with pytest.raises(StoreFullError, match="store is full: no space left"):
                for i in range(64):
                    batch, d = blob_batch(u64(i), 100 * KiB)
                    store.write(batch)
                    acked[u64(i)] = d
            assert acked  # some fitted before the disk was full
            filler.unlink()  # space returns
            batch, acked[b"after"] = blob_batch(b"after", 100 * KiB)
            store.write(batch)
            for key, d in acked.items():
                assert store.get("t", key) == d
                assert store.get_object(d) is not None
        finally:
            store.close()
