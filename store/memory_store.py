"""MemoryStore: the store's semantics in memory, for tests. Simple over fast.

Each table is a dict plus a sorted key list (bisect gives ordered ranges). Snapshots are copy-on-write
per table: opening a view captures the current table objects and marks them shared; the next write to a
shared table copies it first, so the view keeps seeing the old one. Writes go through the same
GroupCommitter as LMDB (one writer thread, FIFO, futures resolved after the group is applied), so
ordering, preconditions and close() behave the same; only durability has no equivalent. `max_bytes`
stands in for LMDB's map ceiling: the keys and values held may not exceed it, a batch that would is
refused alone with StoreFullError, and deletes make room again (the full-store contract of both stores).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

from store.base import (
    DELETE,
    OBJECTS,
    ObjectStore,
    ReadView,
    StoreClosedError,
    StoreFullError,
    WriteBatch,
    check_requires,
)
from store.group_commit import GroupCommitter


class _Table:
    __slots__ = ("data", "keys", "shared")

    def __init__(self, keys: list[bytes] | None = None, data: dict[bytes, bytes] | None = None) -> None:
        self.keys: list[bytes] = keys if keys is not None else []
        self.data: dict[bytes, bytes] = data if data is not None else {}
        self.shared = False

    def copy(self) -> _Table:
        return _Table(list(self.keys), dict(self.data))

    def put(self, key: bytes, value: bytes) -> None:
        if key not in self.data:
            bisect.insort(self.keys, key)
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        if self.data.pop(key, None) is not None:
            del self.keys[bisect.bisect_left(self.keys, key)]


class MemoryStore(ObjectStore):
    def __init__(
        self, *, max_group_ops: int = 20_000, max_group_bytes: int = 64 << 20, max_bytes: int | None = None
    ) -> None:
        super().__init__()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._tables: dict[str, _Table] = {}
        self._closed = False
        self._commits = 0
        self._committer = GroupCommitter(
            self._commit_group,
            max_group_ops=max_group_ops,
            max_group_bytes=max_group_bytes,
            name="store-memory-writer",
        )

    def read(self) -> ReadView:
        with self._lock:
            if self._closed:
                raise StoreClosedError("store is closed")
            snapshot = dict(self._tables)
            for table in snapshot.values():
                table.shared = True
        return _MemoryReadView(self, snapshot)

    def submit(self, batch: WriteBatch) -> Future[None]:
        if self._closed:
            raise StoreClosedError("store is closed")
        return self._committer.submit(batch)

    def _on_writer_thread(self) -> bool:
        return self._committer.on_writer_thread()

    def _writable(self, name: str) -> _Table:
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = _Table()
        elif table.shared:
            table = self._tables[name] = table.copy()
        return table

    def _lookup(self, table: str, key: bytes) -> bytes | None:
        t = self._tables.get(table)
        return None if t is None else t.data.get(key)

    def _commit_group(
        self, batches: Sequence[WriteBatch], flush: Callable[[], None]
    ) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        with self._lock:
            for batch in batches:
                conflict = check_requires(batch, self._lookup)
                outcomes.append(conflict)
                if conflict is not None:
                    continue
                if self._max_bytes is not None:
                    grown = self._bytes + self._growth(batch)
                    if grown > self._max_bytes:
                        outcomes[-1] = StoreFullError(f"store is full (max_bytes {self._max_bytes})")
                        continue
                    self._bytes = grown
                for kind, table, key, value in batch._ops:
                    if kind == DELETE:
                        if self._lookup(table, key) is not None:
                            self._writable(table).delete(key)
                    elif not (table == OBJECTS and self._lookup(table, key) is not None):
                        self._writable(table).put(key, value)
            self._commits += 1
        flush()
        return outcomes

    def _growth(self, batch: WriteBatch) -> int:
        """How many bytes applying `batch` adds to what is held (negative when it frees more)."""
        change = 0
        sizes: dict[tuple[str, bytes], int] = {}  # the batch's own earlier ops on a key count too

        def held(table: str, key: bytes) -> int:
            if (table, key) in sizes:
                return sizes[(table, key)]
            value = self._lookup(table, key)
            return 0 if value is None else len(key) + len(value)

        for kind, table, key, value in batch._ops:
            before = held(table, key)
            if kind == DELETE:
                after = 0
            elif table == OBJECTS and before:
                after = before
            else:
                after = len(key) + len(value)
            sizes[(table, key)] = after
            change += after - before
        return change

    def stats(self) -> dict[str, int]:
        c = self._committer
        with self._lock:
            objects = self._tables.get(OBJECTS)
            return {
                "commits": self._commits,
                **c.counters(),
                "tables": len(self._tables),
                "objects": 0 if objects is None else len(objects.keys),
                "map_size": 0,
                "map_grows": 0,
            }

    def close(self) -> None:
        if self._closed:
            return
        self._committer.close()
        with self._lock:
            self._closed = True


class _MemoryReadView(ReadView):
    def __init__(self, store: MemoryStore, tables: dict[str, _Table]) -> None:
        self._store = store
        self._tables: dict[str, _Table] | None = tables

    def _snapshot(self) -> dict[str, _Table]:
        if self._tables is None or self._store._closed:
            raise StoreClosedError("read view is closed")
        return self._tables

    def _check_open(self) -> None:
        self._snapshot()

    def _raw_object(self, d: bytes) -> bytes | None:
        return self.get(OBJECTS, d)

    def get(self, table: str, key: bytes) -> bytes | None:
        t = self._snapshot().get(table)
        return None if t is None else t.data.get(key)

    def _range(
        self, table: str, start: bytes, stop: bytes | None, reverse: bool, limit: int | None
    ) -> Iterator[tuple[bytes, bytes]]:
        t = self._snapshot().get(table)
        if t is None:
            return iter(())
        lo = bisect.bisect_left(t.keys, start)
        hi = len(t.keys) if stop is None else bisect.bisect_left(t.keys, stop)
        if limit is not None:
            if reverse:
                lo = max(lo, hi - limit)
            else:
                hi = min(hi, lo + limit)
        keys = t.keys[lo:hi]
        if reverse:
            keys.reverse()
        data = t.data
        # Eager: the slice is already a private copy, so the view stays valid even if closed mid-way.
        return iter([(k, data[k]) for k in keys])

    def close(self) -> None:
        self._tables = None
