"""LmdbStore: the store on one LMDB environment, durable before acknowledgement.

Layout: one environment (a directory holding data.mdb and lock.mdb); every table is a named database,
"objects" among them; the main database holds only their descriptors. The env runs with sync and
metasync on and without writemap/map_async, so a commit returns only after its data and meta pages are
on disk.

Writes: a GroupCommitter thread owns every write transaction. For each group it first creates any table
the group puts into (each in its own small committed txn, because a table created in a txn that later
aborts vanishes with it), then applies the batches in order in ONE txn, checking each batch's
preconditions just before its ops, and commits once. A batch whose op fails unexpectedly aborts the txn;
it is failed alone and the group retried without it.

Map growth: on MapFullError the txn is aborted, the map doubled (capped at max_map_size) and the group
retried. py-lmdb's set_mapsize() invalidates every open transaction of the process, so read views pass
through a gate: growth closes the gate to new views, waits for the open ones to close, remaps, reopens.
A view held by a thread that is itself blocked in write() could never close, so growth gives up at once
in that case (and after grow_timeout otherwise). When the map cannot grow (at its maximum, or views stay
open), the group is retried one batch at a time, and exactly the batches that do not fit fail with
StoreFullError; nothing committed before is touched.

Reads: a ReadView is one LMDB read txn (a snapshot, MVCC: it never blocks the writer nor is blocked by
it); objects are verified against their digest on every read.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, Final, TypeVar

import lmdb

from store.base import (
    DELETE,
    MAX_KEY_SIZE,
    OBJECT,
    OBJECTS,
    ObjectStore,
    ReadView,
    StoreClosedError,
    StoreError,
    StoreFullError,
    WriteBatch,
    check_requires,
    key_is_storable,
)
from store.group_commit import GroupCommitter

MAX_TABLES: Final = 128
DEFAULT_MAP_SIZE: Final = 256 << 20
DEFAULT_MAX_MAP_SIZE: Final = (1 << 40) if sys.maxsize > 2**32 else (1 << 30)
_DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# LMDB reports a short write (what a full disk gives mid-commit) as EIO, like a failing device; the two
# are told apart by the space left where the store lives (below this much, the disk is full).
_DISK_LOW: Final = 16 << 20

_T = TypeVar("_T")
_Db = Any  # py-lmdb's database handle (lmdb._Database, not exported)


class _BatchFailed(Exception):
    def __init__(self, index: int, error: StoreError) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class _ReaderGate:
    """Counts open read views per thread so the writer can remap with none open.

    `open` runs LMDB's txn begin under the gate's lock; the writer publishes new table handles under the
    same lock, so a view's (txn, table handles) pair is always consistent: py-lmdb rejects a handle
    created after the txn began. A thread that already holds a view may open more while a remap is
    pending (it would otherwise wait for itself).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._holders: dict[int, int] = {}
        self._open = 0
        self._exclusive = False
        # Views released by garbage collection: appended without a lock (safe in __del__), counted
        # down by whoever takes the lock next.
        self._released: deque[int] = deque()

    @property
    def open_views(self) -> int:
        return self._open

    def open(self, begin: Callable[[], _T]) -> _T:
        me = threading.get_ident()
        with self._cond:
            self._drain()
            while self._exclusive and me not in self._holders:
                self._cond.wait()
            result = begin()
            self._holders[me] = self._holders.get(me, 0) + 1
            self._open += 1
            return result

    def close(self, ident: int) -> None:
        with self._cond:
            self._release(ident)
            self._drain()
            if not self._open:
                self._cond.notify_all()

    def close_later(self, ident: int) -> None:
        self._released.append(ident)

    def _drain(self) -> None:
        while self._released:
            self._release(self._released.popleft())

    def _release(self, ident: int) -> None:
        n = self._holders.get(ident, 0) - 1
        if n > 0:
            self._holders[ident] = n
        else:
            self._holders.pop(ident, None)
        self._open -= 1

    def exclusive(
        self, action: Callable[[], None], timeout: float, stuck: Callable[[Collection[int]], bool]
    ) -> bool:
        """Run `action` with no view open and none opening; False if views stayed open (`stuck` said
        they never will, or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._exclusive = True
            try:
                while True:
                    self._drain()
                    if not self._open:
                        break
                    left = deadline - time.monotonic()
                    if left <= 0 or stuck(self._holders.keys()):
                        return False
                    self._cond.wait(min(left, 0.05))
                action()
                return True
            finally:
                self._exclusive = False
                self._cond.notify_all()


class LmdbStore(ObjectStore):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        map_size: int = DEFAULT_MAP_SIZE,
        max_map_size: int = DEFAULT_MAX_MAP_SIZE,
        max_group_ops: int = 20_000,
        max_group_bytes: int = 64 << 20,
        max_readers: int = 512,
        grow_timeout: float = 10.0,
    ) -> None:
        """Open (creating if needed) the store in directory `path`. Open it once per process, and only
        after any fork. `map_size` is the initial map (an existing env keeps its larger size); the map
        doubles on demand up to `max_map_size`. `grow_timeout` bounds how long a growth waits for open
        read views."""
        super().__init__()
        page = mmap.PAGESIZE
        if map_size <= 0 or max_map_size < map_size:
            raise ValueError("need 0 < map_size <= max_map_size")
        map_size = -(-map_size // page) * page
        self._max_map_size = max(map_size, max_map_size // page * page)
        self._grow_timeout = grow_timeout
        self._path = os.fspath(path)
        os.makedirs(self._path, exist_ok=True)
        try:
            env = lmdb.open(
                self._path,
                map_size=map_size,
                subdir=True,
                max_dbs=MAX_TABLES,
                max_readers=max_readers,
                sync=True,
                metasync=True,
                writemap=False,
                map_async=False,
                lock=True,
            )
        except lmdb.Error as e:
            raise StoreError(f"cannot open LMDB store at {self._path}: {e}") from e
        self._env = env
        try:
            # Readers left in the lock table by dead processes pin old pages forever; clear them.
            self._stale_readers = env.reader_check()
            self._dbs: dict[str, _Db] = self._open_tables()
            self._map_size = self._initial_headroom(map_size)
        except BaseException:
            env.close()
            raise
        self._gate = _ReaderGate()
        self._close_lock = threading.Lock()
        self._closed = False
        self._commits = 0
        self._map_grows = 0
        self._grow_blocked = 0
        self._flush: Callable[[], None] = _nothing
        self._committer = GroupCommitter(
            self._commit_group,
            max_group_ops=max_group_ops,
            max_group_bytes=max_group_bytes,
            name=f"store-lmdb-writer:{os.path.basename(self._path)}",
            on_exit=env.close,
        )

    def _open_tables(self) -> dict[str, _Db]:
        env = self._env
        try:
            with env.begin(write=True) as txn:
                # The main database holds nothing but our tables' descriptors.
                names = [bytes(k) for k, _ in txn.cursor()]
                dbs = {n.decode(): env.open_db(n, txn=txn, create=False) for n in names}
                if OBJECTS not in dbs:
                    dbs[OBJECTS] = env.open_db(OBJECTS.encode(), txn=txn, create=True)
        except lmdb.MapFullError as e:
            raise StoreFullError(f"LMDB store at {self._path} is full: {e}") from e
        except lmdb.Error as e:
            raise StoreError(f"cannot open the tables of {self._path}: {e}") from e
        return dbs

    def _initial_headroom(self, map_size: int) -> int:
        # LMDB opens an existing env at max(map_size, space in use), not at the size it had grown to,
        # so a reopened full-ish store would have to grow on its first write; grow it now, while no
        # view can be open.
        info = self._env.info()
        used = (int(info["last_pgno"]) + 1) * int(self._env.stat()["psize"])
        target = min(max(map_size, 2 * used), self._max_map_size)
        if target > int(info["map_size"]):
            self._env.set_mapsize(target)
        return int(self._env.info()["map_size"])

    @property
    def path(self) -> str:
        return self._path

    # -- reads ----------------------------------------------------------------------------------------

    def read(self) -> ReadView:
        if self._closed:
            raise StoreClosedError("store is closed")
        return _LmdbReadView(self)

    def _read_error(self, e: lmdb.Error) -> StoreError:
        if self._closed:
            return StoreClosedError("store is closed")
        if isinstance(e, lmdb.ReadersFullError):
            return StoreFullError(f"too many open read views (max_readers={self._env.max_readers()})")
        return StoreError(f"LMDB read failed: {e}")

    # -- writes ---------------------------------------------------------------------------------------

    def submit(self, batch: WriteBatch) -> Future[None]:
        if self._closed:
            raise StoreClosedError("store is closed")
        return self._committer.submit(batch)

    def _on_writer_thread(self) -> bool:
        return self._committer.on_writer_thread()

    def _commit_group(
        self, batches: Sequence[WriteBatch], flush: Callable[[], None]
    ) -> list[BaseException | None]:
        # `flush` answers the previous group: called just before our commit, or before anything slow.
        self._flush = flush
        try:
            outcomes: list[BaseException | None] = [None] * len(batches)
            todo = self._create_tables(batches, list(range(len(batches))), outcomes)
            self._commit_indices(batches, todo, outcomes, may_grow=True)
            return outcomes
        finally:
            self._flush = _nothing

    def _create_tables(
        self, batches: Sequence[WriteBatch], todo: list[int], outcomes: list[BaseException | None]
    ) -> list[int]:
        missing = sorted({t for i in todo for t in batches[i]._put_tables if t not in self._dbs})
        if missing:
            self._flush()
        for name in missing:
            error = self._create_table(name)
            if error is not None:
                for i in todo:
                    if name in batches[i]._put_tables:
                        outcomes[i] = type(error)(*error.args)
                todo = [i for i in todo if outcomes[i] is None]
        return todo

    def _create_table(self, name: str) -> StoreError | None:
        env = self._env
        while True:
            try:
                with self._gate.lock:
                    txn = env.begin(write=True)
                    try:
                        db = env.open_db(name.encode(), txn=txn, create=True)
                        txn.commit()
                    except BaseException:
                        txn.abort()
                        raise
                    self._dbs = {**self._dbs, name: db}
                    self._commits += 1
                return None
            except lmdb.MapFullError:
                if not self._grow():
                    return StoreFullError(f"store is full: cannot create table {name!r}")
            except lmdb.DbsFullError:
                return StoreFullError(f"table limit ({MAX_TABLES}) reached: cannot create table {name!r}")
            except lmdb.Error as e:
                return self._write_error(e)

    def _commit_indices(
        self,
        batches: Sequence[WriteBatch],
        todo: list[int],
        outcomes: list[BaseException | None],
        *,
        may_grow: bool,
    ) -> None:
        while todo:
            try:
                conflicts = self._apply_and_commit(batches, todo)
            except lmdb.MapFullError:
                if may_grow and self._grow():
                    continue
                if len(todo) == 1:
                    outcomes[todo[0]] = StoreFullError(
                        f"store is full (map {self._map_size} bytes, max_map_size {self._max_map_size})"
                    )
                    return
                # Find exactly the batches that do not fit: FIFO, one txn each, no further growth.
                for i in todo:
                    self._commit_indices(batches, [i], outcomes, may_grow=False)
                return
            except _BatchFailed as failed:
                outcomes[failed.index] = failed.error
                todo = [i for i in todo if i != failed.index]
            except lmdb.Error as e:
                # The commit itself failed (I/O): the txn is gone and nothing of the group was written.
                for i in todo:
                    outcomes[i] = self._write_error(e)
                return
            else:
                for i, conflict in conflicts.items():
                    outcomes[i] = conflict
                return

    def _apply_and_commit(self, batches: Sequence[WriteBatch], todo: list[int]) -> dict[int, BaseException]:
        dbs = self._dbs
        txn = self._env.begin(write=True)
        try:

            def lookup(table: str, key: bytes) -> bytes | None:
                db = dbs.get(table)
                return None if db is None else txn.get(key, db=db)

            conflicts: dict[int, BaseException] = {}
            put, delete = txn.put, txn.delete
            for i in todo:
                batch = batches[i]
                if batch._requires:
                    conflict = check_requires(batch, lookup)
                    if conflict is not None:
                        conflicts[i] = conflict
                        continue
                try:
                    for kind, table, key, value in batch._ops:
                        db = dbs.get(table)
                        if kind == DELETE:
                            if db is not None:
                                delete(key, db=db)
                        elif db is None:
                            raise StoreError(f"table {table!r} was not created")
                        elif kind == OBJECT:
                            put(key, value, db=db, overwrite=False)
                        else:
                            put(key, value, db=db)
                except lmdb.MapFullError:
                    raise
                except (lmdb.Error, StoreError) as e:
                    raise _BatchFailed(i, self._write_error(e)) from e
            self._flush()
            txn.commit()
        except BaseException:
            txn.abort()
            raise
        self._commits += 1
        return conflicts

    def _write_error(self, e: Exception) -> StoreError:
        if isinstance(e, StoreError):
            return e
        code = getattr(e, "code", 0)
        if isinstance(e, lmdb.DiskError) or code in _DISK_FULL:
            return StoreFullError(f"store is full: no space left on the disk ({e})")
        if code == errno.EIO:
            free = self._free_bytes()
            if free is not None and free < _DISK_LOW:
                return StoreFullError(f"store is full: no space left on the disk ({free} bytes free)")
        return StoreError(f"LMDB write failed: {e}")

    def _free_bytes(self) -> int | None:
        """Bytes this process may still write where the store lives (root may use the reserved blocks)."""
        try:
            fs = os.statvfs(self._path)
        except OSError:
            return None
        blocks = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail
        return blocks * fs.f_frsize

    def _grow(self) -> bool:
        """Double the map (up to max_map_size) with no read view open; False if it cannot grow now."""
        current = int(self._env.info()["map_size"])
        if current >= self._max_map_size:
            return False
        self._flush()  # the previous group's callers may hold views; never make them wait for us
        new = min(current * 2, self._max_map_size)
        writer = threading.get_ident()

        def stuck(holders: Collection[int]) -> bool:
            # A view held by a thread blocked in write() (or by the writer itself) never closes.
            return any(h == writer or h in self._blocked_writers for h in holders)

        if not self._gate.exclusive(lambda: self._env.set_mapsize(new), self._grow_timeout, stuck):
            self._grow_blocked += 1
            return False
        self._map_size = new
        self._map_grows += 1
        return True

    # -- the rest -------------------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        c = self._committer
        out = {
            "commits": self._commits,
            **c.counters(),
            "tables": len(self._dbs),
            "map_size": self._map_size,
            "max_map_size": self._max_map_size,
            "map_grows": self._map_grows,
            "grow_blocked": self._grow_blocked,
            "readers_open": self._gate.open_views,
            "stale_readers_cleared": self._stale_readers,
        }
        if not self._closed:
            view = _LmdbReadView(self)
            try:
                info = self._env.info()
                out["objects"] = view._txn.stat(self._dbs[OBJECTS])["entries"]
                out["last_txnid"] = info["last_txnid"]
                out["pages_used"] = info["last_pgno"] + 1
                out["page_size"] = self._env.stat()["psize"]
            except lmdb.Error as e:
                raise self._read_error(e) from e
            finally:
                view.close()
        return out

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        # Drains the queue; the writer thread closes the env on its way out.
        self._committer.close()

    def __repr__(self) -> str:
        return f"<LmdbStore {self._path!r}{' closed' if self._closed else ''}>"


class _LmdbReadView(ReadView):
    def __init__(self, store: LmdbStore) -> None:
        self._closed = True  # until the txn exists: __del__ must not release a slot never taken
        self._store = store
        self._ident = threading.get_ident()
        try:
            self._txn, self._dbs = store._gate.open(lambda: (store._env.begin(), store._dbs))
        except lmdb.Error as e:
            raise store._read_error(e) from e
        self._closed = False

    def _check_open(self) -> None:
        if self._closed or self._store._closed:
            raise StoreClosedError("read view is closed")

    def _raw_object(self, d: bytes) -> bytes | None:
        return self.get(OBJECTS, d)

    def get(self, table: str, key: bytes) -> bytes | None:
        if self._closed or self._store._closed:
            raise StoreClosedError("read view is closed")
        db = self._dbs.get(table)
        if db is None or not key_is_storable(key):
            return None
        try:
            value: bytes | None = self._txn.get(key, db=db)
        except lmdb.Error as e:
            raise self._store._read_error(e) from e
        return value

    def _range(
        self, table: str, start: bytes, stop: bytes | None, reverse: bool, limit: int | None
    ) -> Iterator[tuple[bytes, bytes]]:
        db = self._dbs.get(table)
        if db is None:
            return iter(())
        return self._scan(db, start, stop, reverse, limit)

    def _scan(
        self, db: _Db, start: bytes, stop: bytes | None, reverse: bool, limit: int | None
    ) -> Iterator[tuple[bytes, bytes]]:
        n = 0
        try:
            cursor = self._txn.cursor(db)
            if reverse:
                if not (_seek_last(cursor) if stop is None else _seek_last_below(cursor, stop)):
                    return
                items = cursor.iterprev()
            else:
                if not _seek_first_at_least(cursor, start):
                    return
                items = cursor.iternext()
            for key, value in items:
                if (key < start) if reverse else (stop is not None and key >= stop):
                    return
                yield key, value
                n += 1
                if n == limit:
                    return
        except lmdb.Error as e:
            raise self._store._read_error(e) from e

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(lmdb.Error):  # already invalidated if the env was closed
            self._txn.abort()
        self._store._gate.close(self._ident)

    def __del__(self) -> None:
        # A view dropped without close(): give back its reader slot and its place in the gate, or map
        # growth would wait for it. No locks here (this may run inside any code, on any thread).
        if not getattr(self, "_closed", True):
            self._closed = True
            with contextlib.suppress(Exception):
                self._txn.abort()
            self._store._gate.close_later(self._ident)


def _nothing() -> None:
    pass


def _seek_last(cursor: lmdb.Cursor[bytes]) -> bool:
    return bool(cursor.last())


def _seek_first_at_least(cursor: lmdb.Cursor[bytes], start: bytes) -> bool:
    """Position on the first key >= start."""
    if not start:
        return bool(cursor.first())
    if len(start) <= MAX_KEY_SIZE:
        return bool(cursor.set_range(start))
    # LMDB cannot seek to a key longer than it can store; every stored key >= start is > its prefix.
    head = start[:MAX_KEY_SIZE]
    if not cursor.set_range(head):
        return False
    return bool(cursor.next()) if cursor.key() == head else True


def _seek_last_below(cursor: lmdb.Cursor[bytes], stop: bytes) -> bool:
    """Position on the last key < stop."""
    if len(stop) <= MAX_KEY_SIZE:
        return bool(cursor.prev()) if cursor.set_range(stop) else bool(cursor.last())
    head = stop[:MAX_KEY_SIZE]  # stored keys < stop are exactly those <= head
    if not cursor.set_range(head):
        return bool(cursor.last())
    return True if cursor.key() == head else bool(cursor.prev())
