"""The store contract, run against every backend (the `store`/`make_store` fixtures are parametrized)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any

import pytest

from store import (
    ConflictError,
    CorruptObjectError,
    ObjectStore,
    StoreClosedError,
    StoreError,
    StoreFullError,
    WriteBatch,
    digest,
    u64,
)

Corrupt = Callable[[ObjectStore, bytes, bytes], None]
MakeStore = Callable[[], ObjectStore]
HoldWriter = Callable[[ObjectStore], AbstractContextManager[None]]


def put(store: ObjectStore, table: str, *pairs: tuple[bytes, bytes]) -> None:
    b = WriteBatch()
    for k, v in pairs:
        b.put(table, k, v)
    store.write(b)


def outcome(fut: Future[None]) -> type[BaseException] | None:
    e = fut.exception(timeout=10)
    return None if e is None else type(e)


# -- objects ----------------------------------------------------------------------------------------


def test_object_round_trip(store: ObjectStore) -> None:
    b = WriteBatch()
    d1 = b.put_object(b"hello")
    d2 = b.put_object(b"")
    d3 = b.put_object(bytes(range(256)) * 100)
    assert d1 == digest(b"hello") and len(d1) == 32
    store.write(b)
    assert store.get_object(d1) == b"hello"
    assert store.get_object(d2) == b""
    assert store.get_object(d3) == bytes(range(256)) * 100
    assert store.has_object(d1)
    missing = digest(b"never stored")
    assert store.get_object(missing) is None
    assert not store.has_object(missing)
    with store.read() as view:
        assert view.get_object(d1) == b"hello"
        assert view.has_object(d3)
        assert view.get_object(missing) is None


def test_put_object_is_idempotent(store: ObjectStore) -> None:
    for _ in range(3):
        b = WriteBatch()
        assert b.put_object(b"same") == b.put_object(b"same") == digest(b"same")
        store.write(b)
    assert store.get_object(digest(b"same")) == b"same"
    with store.read() as view:
        assert [k for k, _ in view.range("objects")] == [digest(b"same")]


def test_corrupt_object_is_detected(store: ObjectStore, corrupt: Corrupt) -> None:
    b = WriteBatch()
    d = b.put_object(b"precious bytes")
    ok = b.put_object(b"untouched")
    store.write(b)
    corrupt(store, d, b"precious bytez")
    with pytest.raises(CorruptObjectError):
        store.get_object(d)
    with store.read() as view, pytest.raises(CorruptObjectError):
        view.get_object(d)
    assert store.has_object(d)
    assert store.get_object(ok) == b"untouched"
    # Putting the right bytes again does not repair silently: put_object is a no-op on a present digest.
    b = WriteBatch()
    b.put_object(b"precious bytes")
    store.write(b)
    with pytest.raises(CorruptObjectError):
        store.get_object(d)


# -- tables -----------------------------------------------------------------------------------------


def test_put_get_overwrite_delete(store: ObjectStore) -> None:
    put(store, "t", (b"a", b"1"), (b"b", b"2"))
    assert store.get("t", b"a") == b"1"
    put(store, "t", (b"a", b"one"))
    assert store.get("t", b"a") == b"one"
    b = WriteBatch()
    b.delete("t", b"a")
    b.delete("t", b"absent")
    b.delete("never-written", b"x")
    store.write(b)
    assert store.get("t", b"a") is None
    assert store.get("t", b"b") == b"2"
    put(store, "t", (b"empty", b""))
    assert store.get("t", b"empty") == b""


def test_tables_are_separate_and_unknown_tables_are_empty(store: ObjectStore) -> None:
    put(store, "t1", (b"k", b"1"))
    put(store, "t2", (b"k", b"2"))
    assert store.get("t1", b"k") == b"1"
    assert store.get("t2", b"k") == b"2"
    assert store.get("nope", b"k") is None
    assert store.last("nope") is None
    assert store.first("nope", b"k") is None
    with store.read() as view:
        assert list(view.range("nope")) == []
        assert list(view.prefix("nope", b"k", reverse=True)) == []
        assert view.get("t1", b"x" * 600) is None  # longer than any storable key
        assert view.get("t1", b"") is None


def test_ops_apply_in_order_within_a_batch(store: ObjectStore) -> None:
    b = WriteBatch()
    b.put("t", b"x", b"1")
    b.delete("t", b"x")
    b.put("t", b"y", b"1")
    b.put("t", b"y", b"2")
    b.delete("t", b"z")
    b.put("t", b"z", b"3")
    assert len(b) == 6
    store.write(b)
    assert store.get("t", b"x") is None
    assert store.get("t", b"y") == b"2"
    assert store.get("t", b"z") == b"3"


def test_range_order_bounds_reverse_limit(store: ObjectStore) -> None:
    nums = [*range(0, 300, 3), 2**32, 2**63, 2**64 - 1]
    shuffled = nums[:]
    random.Random(1).shuffle(shuffled)
    put(store, "n", *[(u64(n), str(n).encode()) for n in shuffled])
    with store.read() as view:
        assert [int(v) for _, v in view.range("n")] == nums
        assert [int(v) for _, v in view.range("n", reverse=True)] == nums[::-1]
        assert [int(v) for _, v in view.range("n", u64(10), u64(22))] == [12, 15, 18, 21]
        assert [int(v) for _, v in view.range("n", u64(12), u64(21))] == [12, 15, 18]  # stop exclusive
        assert [int(v) for _, v in view.range("n", u64(10), u64(22), reverse=True)] == [21, 18, 15, 12]
        assert [int(v) for _, v in view.range("n", u64(12), u64(21), reverse=True)] == [18, 15, 12]
        assert [int(v) for _, v in view.range("n", u64(290))] == [291, 294, 297, 2**32, 2**63, 2**64 - 1]
        assert [int(v) for _, v in view.range("n", stop=u64(7))] == [0, 3, 6]
        assert [int(v) for _, v in view.range("n", stop=u64(7), reverse=True)] == [6, 3, 0]
        assert [int(v) for _, v in view.range("n", limit=2)] == [0, 3]
        assert [int(v) for _, v in view.range("n", reverse=True, limit=2)] == [2**64 - 1, 2**63]
        assert [int(v) for _, v in view.range("n", u64(100), reverse=True, limit=3)] == [
            2**64 - 1,
            2**63,
            2**32,
        ]
        assert list(view.range("n", limit=0)) == []
        assert list(view.range("n", u64(50), u64(50))) == []
        assert list(view.range("n", u64(50), u64(40))) == []
        assert list(view.range("n", u64(2**64 - 1) + b"\x00")) == []
        with pytest.raises(ValueError):
            view.range("n", limit=-1)
    assert store.first("n") == (u64(0), b"0")
    assert store.last("n") == (u64(2**64 - 1), str(2**64 - 1).encode())


def test_prefix_first_last(store: ObjectStore) -> None:
    p1, p2, p3 = b"\x01" * 32, b"\x02" * 32, b"\x02" * 31 + b"\x03"
    pairs = [(p + u64(slot), b"%d" % slot) for p in (p1, p2, p3) for slot in (0, 1, 2, 255, 256, 70000)]
    put(store, "slots", *pairs)
    with store.read() as view:
        got = [(k[:32], int(v)) for k, v in view.prefix("slots", p2)]
        assert got == [(p2, s) for s in (0, 1, 2, 255, 256, 70000)]
        assert [int(v) for _, v in view.prefix("slots", p2, reverse=True, limit=2)] == [70000, 256]
        assert view.last("slots", p2) == (p2 + u64(70000), b"70000")
        assert view.first("slots", p2) == (p2 + u64(0), b"0")
        assert view.last("slots", p1 + u64(0)[:7]) == (p1 + u64(255), b"255")
        assert view.last("slots", b"\x00") is None
        assert view.first("slots", b"\x04") is None
        assert view.last("slots") == (p3 + u64(70000), b"70000")
        assert view.first("slots") == (p1 + u64(0), b"0")
        assert len(list(view.prefix("slots", b""))) == len(pairs)


def test_prefix_of_ff_bytes(store: ObjectStore) -> None:
    put(store, "ff", (b"\xfe\xff", b"a"), (b"\xff", b"b"), (b"\xff\xff", b"c"), (b"\xff\xff\x00", b"d"))
    with store.read() as view:
        assert [v for _, v in view.prefix("ff", b"\xff")] == [b"b", b"c", b"d"]
        assert [v for _, v in view.prefix("ff", b"\xff\xff", reverse=True)] == [b"d", b"c"]
        assert view.last("ff", b"\xfe") == (b"\xfe\xff", b"a")
        assert view.last("ff", b"\xff") == (b"\xff\xff\x00", b"d")


# -- preconditions ----------------------------------------------------------------------------------


def test_require_present_absent_mismatch(store: ObjectStore) -> None:
    put(store, "t", (b"k", b"v1"))

    b = WriteBatch()
    b.require("t", b"k", b"v1")
    b.require("t", b"other", None)
    b.require("never-written", b"x", None)
    b.put("t", b"k", b"v2")
    store.write(b)
    assert store.get("t", b"k") == b"v2"

    for table, key, expected in [
        ("t", b"k", b"v1"),  # stale value
        ("t", b"k", None),  # present, required absent
        ("t", b"other", b"v"),  # absent, required present
        ("never-written", b"x", b""),
    ]:
        b = WriteBatch()
        b.put("t", b"side-effect", b"!")
        b.put_object(b"side-effect object")
        b.require(table, key, expected)
        with pytest.raises(ConflictError):
            store.write(b)
        assert store.get("t", b"side-effect") is None
        assert not store.has_object(digest(b"side-effect object"))
    assert store.get("t", b"k") == b"v2"
    assert store.stats()["conflicts"] == 4


def test_conflict_isolates_its_batch_within_a_group(store: ObjectStore, hold_writer: HoldWriter) -> None:
    with hold_writer(store):
        groups_before = store.stats()["groups"]
        futs = []
        b = WriteBatch()
        b.put("t", b"x", b"1")
        futs.append(store.submit(b))
        # Sees the batch above, committed earlier in the same transaction.
        b = WriteBatch()
        b.require("t", b"x", b"1")
        b.put("t", b"y", b"after-x")
        futs.append(store.submit(b))
        b = WriteBatch()
        b.require("t", b"x", None)
        b.put("t", b"lost", b"!")
        futs.append(store.submit(b))
        b = WriteBatch()
        b.put("t", b"z", b"3")
        futs.append(store.submit(b))
    assert [outcome(f) for f in futs] == [None, None, ConflictError, None]
    assert store.stats()["groups"] == groups_before + 1, "the four batches were one group"
    assert store.get("t", b"y") == b"after-x"
    assert store.get("t", b"lost") is None
    assert store.get("t", b"z") == b"3"


def test_fifo_order_within_and_across_groups(store: ObjectStore, hold_writer: HoldWriter) -> None:
    futs = []
    with hold_writer(store):
        for i in range(50):
            b = WriteBatch()
            b.put("t", b"k", u64(i))
            futs.append(store.submit(b))
    for i in range(50, 100):
        b = WriteBatch()
        b.put("t", b"k", u64(i))
        b.put("log", u64(i), b"")
        futs.append(store.submit(b))
    for f in futs:
        f.result(timeout=10)
    assert store.get("t", b"k") == u64(99)


# -- snapshots --------------------------------------------------------------------------------------


def test_read_view_is_a_snapshot(store: ObjectStore) -> None:
    put(store, "t", (b"a", b"1"), (b"b", b"2"))
    view = store.read()
    b = WriteBatch()
    b.put("t", b"a", b"changed")
    b.delete("t", b"b")
    b.put("t", b"c", b"new")
    b.put("created-later", b"k", b"v")
    d = b.put_object(b"new object")
    store.write(b)
    with view:
        assert view.get("t", b"a") == b"1"
        assert view.get("t", b"b") == b"2"
        assert view.get("t", b"c") is None
        assert list(view.range("t")) == [(b"a", b"1"), (b"b", b"2")]
        assert view.last("t") == (b"b", b"2")
        assert view.get("created-later", b"k") is None
        assert list(view.range("created-later")) == []
        assert view.get_object(d) is None
    with store.read() as fresh:
        assert list(fresh.range("t")) == [(b"a", b"changed"), (b"c", b"new")]
        assert fresh.get("created-later", b"k") == b"v"
        assert fresh.get_object(d) == b"new object"


def test_views_in_other_threads_and_many_at_once(store: ObjectStore) -> None:
    put(store, "t", (b"k", b"0"))
    views = [store.read() for _ in range(20)]
    put(store, "t", (b"k", b"1"))
    results: list[bytes | None] = []
    threads = [threading.Thread(target=lambda v=v: results.append(v.get("t", b"k"))) for v in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"0"] * 20
    for v in views:
        v.close()
    assert store.get("t", b"k") == b"1"


# -- concurrency ------------------------------------------------------------------------------------


def test_many_threads_writing(store: ObjectStore) -> None:
    n_threads, per_thread = 8, 40
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(per_thread):
                b = WriteBatch()
                d = b.put_object(b"thread %d item %d" % (t, i))
                b.put("kv", u64(t) + u64(i), d)
                b.put("by-thread", u64(t), u64(i))
                store.write(b)
                assert store.get("kv", u64(t) + u64(i)) == d  # answered only once committed
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read() as view:
        rows = list(view.range("kv"))
        assert len(rows) == n_threads * per_thread
        for key, d in rows:
            n, i = int.from_bytes(key[:8]), int.from_bytes(key[8:])
            assert view.get_object(d) == b"thread %d item %d" % (n, i)
        for n in range(n_threads):
            assert view.get("by-thread", u64(n)) == u64(per_thread - 1)
    s = store.stats()
    assert s["batches"] == n_threads * per_thread
    assert s["groups"] <= s["batches"]


def test_writer_errors_reach_callers(store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(batches: object, flush: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store._committer, "_commit", boom)  # type: ignore[attr-defined]
    b = WriteBatch()
    b.put("t", b"k", b"v")
    with pytest.raises(StoreError, match="disk on fire") as info:
        store.write(b)
    assert isinstance(info.value.__cause__, RuntimeError)
    monkeypatch.undo()
    b = WriteBatch()
    b.put("t", b"k", b"v")
    store.write(b)
    assert store.get("t", b"k") == b"v"


def test_write_from_a_writer_callback_is_refused(store: ObjectStore) -> None:
    seen: list[BaseException] = []
    done = threading.Event()

    def callback(_: Future[None]) -> None:
        b = WriteBatch()
        b.put("t", b"inner", b"v")
        try:
            store.write(b)
        except StoreError as e:
            seen.append(e)
        store.submit(b)  # the non-blocking form is fine
        done.set()

    b = WriteBatch()
    b.put("t", b"outer", b"v")
    store.submit(b).add_done_callback(callback)
    assert done.wait(10)
    assert len(seen) == 1 and "deadlock" in str(seen[0])
    put(store, "t", (b"sync", b""))  # after the inner submit in FIFO order
    assert store.get("t", b"inner") == b"v"


def test_callbacks_see_the_committed_write(store: ObjectStore) -> None:
    # Callbacks may run while the writer holds the next group's transaction; reads still work there.
    seen: list[bytes | None] = []
    futs = []

    def reader(i: int) -> Callable[[Future[None]], None]:
        return lambda _: seen.append(store.get("t", u64(i)))

    for i in range(30):
        b = WriteBatch()
        b.put("t", u64(i), b"v%d" % i)
        fut = store.submit(b)
        fut.add_done_callback(reader(i))
        futs.append(fut)
    for fut in futs:
        fut.result(timeout=10)
    store.close()  # joins the writer: every callback has run
    assert seen == [b"v%d" % i for i in range(30)]


def test_cancelled_future_withdraws_its_batch(store: ObjectStore, hold_writer: HoldWriter) -> None:
    with hold_writer(store):
        b = WriteBatch()
        b.put("t", b"cancelled", b"v")
        fut = store.submit(b)
        assert fut.cancel()
    put(store, "t", (b"after", b"v"))
    assert store.get("t", b"cancelled") is None
    assert store.stats()["cancelled"] == 1


# -- batches ----------------------------------------------------------------------------------------


def test_batch_validation() -> None:
    b = WriteBatch()
    with pytest.raises(ValueError):
        b.put("t", b"", b"v")
    with pytest.raises(ValueError):
        b.put("t", b"k" * 512, b"v")
    b.put("t", b"k" * 511, b"v")
    with pytest.raises(ValueError):
        b.put("objects", b"k", b"v")
    with pytest.raises(ValueError):
        b.put("", b"k", b"v")
    with pytest.raises(TypeError):
        b.put("t", "k", b"v")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        b.require("t", b"", None)
    assert len(b) == 1
    b.require("t", b"k", b"v")
    assert len(b) == 1
    assert b.nbytes == 511 + 1 + 1 + 1


def test_batch_validation_holds_for_remembered_table_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # Table names are validated once and then remembered; nothing that was refused may slip through later.
    from store import base

    monkeypatch.setattr(base, "_valid_tables", set())  # start empty; leave the real one as it was
    b = WriteBatch()
    b.delete("objects", b"k")  # a valid name for delete and require: remembered...
    b.require("objects", b"k", None)
    with pytest.raises(ValueError, match="put_object"):
        b.put("objects", b"k", b"v")  # ...yet still refused for put
    b.put("t", b"k", b"v")
    bad_tables: list[Any] = ["", "x" * 256, None, 5, ["t"]]
    for table in bad_tables:
        with pytest.raises(ValueError):
            b.put(table, b"k", b"v")
        with pytest.raises(ValueError):
            b.delete(table, b"k")
        with pytest.raises(ValueError):
            b.require(table, b"k", None)

    class Name(str):
        pass

    b.put(Name("t2"), b"k", b"v")  # a str subclass is checked, and not remembered
    assert "t2" not in base._valid_tables and "t" in base._valid_tables
    for key in (b"", b"k" * 512, bytearray(), bytearray(512), memoryview(b"k" * 512)):
        with pytest.raises(ValueError):
            b.put("t", key, b"v")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            b.delete("t", key)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            b.require("t", key, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        b.put("t", b"k", "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        b.require("t", b"k", "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        b.put_object("data")  # type: ignore[arg-type]
    assert len(b) == 3 and b.nbytes == 1 + 1 + 2 + 2  # delete, require, two puts
    for i in range(2 * base._MAX_REMEMBERED_TABLES):
        base.check_table(f"invented-{i}")
    assert len(base._valid_tables) <= base._MAX_REMEMBERED_TABLES


def test_batch_is_frozen_once_submitted_and_copies_buffers(store: ObjectStore) -> None:
    value = bytearray(b"before")
    key = bytearray(b"key")
    data = bytearray(b"object")
    b = WriteBatch()
    b.put("t", key, value)  # type: ignore[arg-type]
    d = b.put_object(data)  # type: ignore[arg-type]
    value[:] = b"after!"
    key[:] = b"KEY"
    data[:] = b"OBJECT"
    store.write(b)
    assert store.get("t", b"key") == b"before"
    assert store.get_object(d) == b"object"
    for op in (
        lambda: b.put("t", b"k2", b"v"),
        lambda: b.delete("t", b"k"),
        lambda: b.require("t", b"k", None),
        lambda: b.put_object(b"x"),
    ):
        with pytest.raises(ValueError, match="already submitted"):
            op()


# -- close ------------------------------------------------------------------------------------------


def test_close_drains_queued_writes_and_then_refuses(store: ObjectStore) -> None:
    futs = []
    for i in range(200):
        b = WriteBatch()
        b.put("t", u64(i), b"v")
        futs.append(store.submit(b))
    view = store.read()
    store.close()
    assert all(f.done() and f.exception() is None for f in futs)
    store.close()  # idempotent
    b = WriteBatch()
    b.put("t", b"k", b"v")
    with pytest.raises(StoreClosedError):
        store.write(b)
    with pytest.raises(StoreClosedError):
        store.submit(b)
    with pytest.raises(StoreClosedError):
        store.read()
    with pytest.raises(StoreClosedError):
        store.get("t", b"k")
    with pytest.raises(StoreClosedError):
        store.get_object(digest(b""))
    with pytest.raises(StoreClosedError):
        store.last("t")
    with pytest.raises(StoreClosedError):
        view.get("t", u64(0))
    with pytest.raises(StoreClosedError):
        view.range("t")
    view.close()
    assert issubclass(StoreClosedError, StoreError)


def test_closed_view_refuses(store: ObjectStore) -> None:
    put(store, "t", (b"k", b"v"))
    with store.read() as view:
        assert view.get("t", b"k") == b"v"
    view.close()  # idempotent
    with pytest.raises(StoreClosedError):
        view.get("t", b"k")
    with pytest.raises(StoreClosedError):
        view.get_object(digest(b""))
    with pytest.raises(StoreClosedError):
        view.last("t")
    assert store.get("t", b"k") == b"v"


def test_context_manager_closes(make_store: MakeStore) -> None:
    with make_store() as s:
        put(s, "t", (b"k", b"v"))
    with pytest.raises(StoreClosedError):
        s.get("t", b"k")


def test_range_bounds_longer_than_any_key(store: ObjectStore) -> None:
    a510, a511, c, d = b"a" * 510, b"a" * 511, b"a" * 510 + b"b", b"b"
    put(store, "long", *[(k, b"") for k in (a510, a511, c, d)])
    far = b"a" * 600  # sorts after a510 and a511 (its prefixes), before c and d
    with store.read() as view:
        assert [k for k, _ in view.range("long", far)] == [c, d]
        assert [k for k, _ in view.range("long", far, reverse=True)] == [d, c]
        assert [k for k, _ in view.range("long", stop=far)] == [a510, a511]
        assert [k for k, _ in view.range("long", stop=far, reverse=True)] == [a511, a510]
        assert [k for k, _ in view.prefix("long", far)] == []
        assert [k for k, _ in view.range("long", a511, far)] == [a511]


# -- a full store -----------------------------------------------------------------------------------


def test_a_full_store_refuses_the_batch_and_recovers_when_room_returns(small_store: ObjectStore) -> None:
    written: list[bytes] = []
    with pytest.raises(StoreFullError, match="store is full"):
        for i in range(200):
            put(small_store, "t", (u64(i), bytes([i % 251]) * 20_000))
            written.append(u64(i))
    assert len(written) >= 5  # some fitted before it was full
    # nothing acknowledged is touched, and the failed batch left nothing behind
    assert small_store.get("t", written[-1]) == bytes([(len(written) - 1) % 251]) * 20_000
    assert small_store.get("t", u64(len(written))) is None
    with pytest.raises(StoreFullError):  # still full: the same write is refused again
        put(small_store, "t", (b"more", bytes(20_000)))
    # Room returns. LMDB reuses the pages a commit freed only from the commit after the next one (it keeps
    # the last two snapshots), so the deletes come in two batches, as later writes would.
    for half in (written[: len(written) // 2], written[-1:]):
        b = WriteBatch()
        for key in half:
            b.delete("t", key)
        small_store.write(b)
    put(small_store, "t", (b"more", bytes(20_000)))
    assert small_store.get("t", b"more") == bytes(20_000)
