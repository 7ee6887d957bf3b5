"""The store's contract: errors, key helpers, WriteBatch, ReadView and the ObjectStore ABC.

A store holds two kinds of data, both opaque bytes:

- objects, content-addressed: `digest(data) -> data` in the reserved table "objects", verified on every
  read (`CorruptObjectError` if the bytes no longer hash to their key);
- ordered tables: any number of named `key -> value` maps whose keys sort bytewise, so big-endian
  integers (`u64`) sort numerically and a range over `prefix ‖ u64(slot)` is a slot range.

Writes are expressed as a `WriteBatch` (puts, deletes, objects, and preconditions) that a backend applies
atomically and in submission order; reads go through a `ReadView`, a consistent snapshot. The backends
(`LmdbStore`, `MemoryStore`) share everything here, including write()/submit() on top of a backend's
`submit`, so that one contract test suite can hold both to the same semantics.
"""

from __future__ import annotations

import struct
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from types import TracebackType
from typing import Final, Self

import blake3

OBJECTS: Final = "objects"
"""The reserved table that holds content-addressed objects; written only through `put_object`."""

MAX_KEY_SIZE: Final = 511
"""LMDB's compiled-in key limit (`mdb_env_get_maxkeysize`); both backends enforce it so they agree."""

MAX_TABLE_NAME: Final = 255

DIGEST_SIZE: Final = 32


class StoreError(Exception):
    """Base of every error the store raises. A bare StoreError is an I/O or internal failure."""


class CorruptObjectError(StoreError):
    """An object's bytes do not hash to its key (gRPC DATA_LOSS)."""


class StoreFullError(StoreError):
    """The store cannot make room for a batch (map at its maximum, table limit, disk full); nothing of
    that batch was written (gRPC RESOURCE_EXHAUSTED)."""


class ConflictError(StoreError):
    """A `require` precondition of the batch failed; nothing of that batch was written (gRPC ABORTED)."""


class StoreClosedError(StoreError):
    """The store (or the read view) is closed."""


_blake3 = blake3.blake3


def digest(data: bytes) -> bytes:
    """The 32-byte blake3 digest under which `data` is stored as an object."""
    return _blake3(data).digest()


_U64: Final = struct.Struct(">Q")


def u64(n: int) -> bytes:
    """`n` as 8 big-endian bytes, so that byte order of keys equals numeric order."""
    try:
        return _U64.pack(n)
    except struct.error as e:
        raise ValueError(f"u64 out of range: {n!r}") from e


def read_u64(b: bytes) -> int:
    """The inverse of `u64`; `b` must be exactly 8 bytes."""
    if len(b) != 8:
        raise ValueError(f"u64 needs 8 bytes, got {len(b)}")
    n: int = _U64.unpack(b)[0]
    return n


def prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key that starts with `prefix` (None: no such key)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _as_bytes(value: bytes, what: str) -> bytes:
    # Batches are applied later on another thread: copy mutable buffers so later changes can't leak in.
    if type(value) is bytes:
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


# Table names that passed check_table. Callers use a handful of constant names, so after the first check a
# name costs one set lookup. Only exact `str` instances are remembered (a subclass could hash or compare
# unlike the name it stands for), and the set is bounded so that a caller inventing names cannot grow it.
_valid_tables: set[str] = set()
_MAX_REMEMBERED_TABLES: Final = 1024


def check_table(table: str) -> None:
    if type(table) is str and table in _valid_tables:
        return
    if not isinstance(table, str) or not table:
        raise ValueError(f"table name must be a non-empty str, got {table!r}")
    if len(table.encode()) > MAX_TABLE_NAME:
        raise ValueError(f"table name longer than {MAX_TABLE_NAME} bytes: {table[:40]!r}...")
    if type(table) is str and len(_valid_tables) < _MAX_REMEMBERED_TABLES:
        _valid_tables.add(table)


def _check_key(key: bytes) -> bytes:
    key = _as_bytes(key, "key")
    if not 0 < len(key) <= MAX_KEY_SIZE:
        raise ValueError(f"key must be 1..{MAX_KEY_SIZE} bytes, got {len(key)}")
    return key


def key_is_storable(key: bytes) -> bool:
    """Whether `key` could have been written; lookups of other keys answer 'absent' without asking LMDB
    (which rejects them with an error)."""
    return 0 < len(key) <= MAX_KEY_SIZE


PUT: Final = 0
DELETE: Final = 1
OBJECT: Final = 2

Op = tuple[int, str, bytes, bytes]
"""(kind, table, key, value); value is b"" for DELETE."""

Require = tuple[str, bytes, bytes | None]


class WriteBatch:
    """Ops applied atomically, in order, by ObjectStore.write/submit.

    `require` preconditions are all checked before any op of the batch is applied, inside the commit,
    against everything committed before the batch (including earlier batches of the same group commit).
    A batch is frozen once submitted; build a new one to write more.
    """

    __slots__ = ("_frozen", "_nbytes", "_ops", "_put_tables", "_requires")

    def __init__(self) -> None:
        self._ops: list[Op] = []
        self._requires: list[Require] = []
        self._put_tables: set[str] = set()
        self._nbytes = 0
        self._frozen = False

    def _mutable(self) -> None:
        if self._frozen:
            raise ValueError("this WriteBatch was already submitted; build a new one")

    def put_object(self, data: bytes) -> bytes:
        """Store `data` under its digest (idempotent: an object already present is left as it is);
        returns the digest."""
        if self._frozen:
            self._mutable()
        if type(data) is not bytes:
            data = _as_bytes(data, "object data")
        d = _blake3(data).digest()
        self._ops.append((OBJECT, OBJECTS, d, data))
        self._put_tables.add(OBJECTS)
        self._nbytes += DIGEST_SIZE + len(data)
        return d

    # put, delete and require run several times per scheduled message on the event loop, so their common
    # case (a remembered table name, `bytes` keys and values) is a few type and length checks inline; the
    # helpers above handle, and explain, everything else.

    def put(self, table: str, key: bytes, value: bytes) -> None:
        if self._frozen:
            self._mutable()
        if type(table) is not str or table not in _valid_tables:
            check_table(table)
        if table == OBJECTS:
            raise ValueError("the 'objects' table is written only through put_object")
        if type(key) is not bytes or not 0 < len(key) <= MAX_KEY_SIZE:
            key = _check_key(key)
        if type(value) is not bytes:
            value = _as_bytes(value, "value")
        self._ops.append((PUT, table, key, value))
        self._put_tables.add(table)
        self._nbytes += len(key) + len(value)

    def delete(self, table: str, key: bytes) -> None:
        """Remove `key` (a no-op if absent). Deleting from "objects" is allowed (garbage collection)."""
        if self._frozen:
            self._mutable()
        if type(table) is not str or table not in _valid_tables:
            check_table(table)
        if type(key) is not bytes or not 0 < len(key) <= MAX_KEY_SIZE:
            key = _check_key(key)
        self._ops.append((DELETE, table, key, b""))
        self._nbytes += len(key)

    def require(self, table: str, key: bytes, expected: bytes | None) -> None:
        """Precondition: `table[key] == expected` (None: the key must be absent) when the batch commits.
        If any precondition fails, no op of the batch is applied and its caller gets ConflictError."""
        if self._frozen:
            self._mutable()
        if type(table) is not str or table not in _valid_tables:
            check_table(table)
        if type(key) is not bytes or not 0 < len(key) <= MAX_KEY_SIZE:
            key = _check_key(key)
        if expected is None:
            self._nbytes += len(key)
        else:
            if type(expected) is not bytes:
                expected = _as_bytes(expected, "expected")
            self._nbytes += len(key) + len(expected)
        self._requires.append((table, key, expected))

    def __len__(self) -> int:
        """The number of ops (put_object, put, delete); preconditions are not counted."""
        return len(self._ops)

    @property
    def nbytes(self) -> int:
        """Approximate payload size: keys, values, objects and precondition values."""
        return self._nbytes

    def __repr__(self) -> str:
        return f"<WriteBatch ops={len(self._ops)} requires={len(self._requires)} nbytes={self._nbytes}>"


def check_requires(batch: WriteBatch, lookup: Callable[[str, bytes], bytes | None]) -> ConflictError | None:
    """The first failed precondition of `batch` as a ConflictError, or None if all hold."""
    for table, key, expected in batch._requires:
        found = lookup(table, key)
        if found != expected:
            if expected is None:
                what = "expected absent, found a value"
            elif found is None:
                what = "expected a value, found it absent"
            else:
                what = "value differs from the expected one"
            return ConflictError(f"precondition failed on {table}[{key[:48].hex()}]: {what}")
    return None


class ReadView(ABC):
    """A consistent snapshot of the whole store; writes committed after it was opened are invisible.

    Cheap to open, meant to be short-lived (LMDB keeps every page it can see alive, and growing the map
    waits for open views). Use it as a context manager. Not for concurrent use by several threads.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @abstractmethod
    def _raw_object(self, d: bytes) -> bytes | None: ...

    def get_object(self, d: bytes) -> bytes | None:
        """The object stored under digest `d`, verified; None if absent."""
        data = self._raw_object(d)
        if data is not None and digest(data) != d:
            raise CorruptObjectError(f"object {d.hex()} does not match its digest ({len(data)} bytes)")
        return data

    def has_object(self, d: bytes) -> bool:
        """Whether an object is stored under `d` (not verified)."""
        return self.get(OBJECTS, d) is not None

    @abstractmethod
    def get(self, table: str, key: bytes) -> bytes | None:
        """The value of `key` in `table`, or None (also for a table never written)."""

    @abstractmethod
    def _range(
        self, table: str, start: bytes, stop: bytes | None, reverse: bool, limit: int | None
    ) -> Iterator[tuple[bytes, bytes]]: ...

    @abstractmethod
    def _check_open(self) -> None: ...

    def range(
        self,
        table: str,
        start: bytes = b"",
        stop: bytes | None = None,
        *,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs with start <= key < stop in key order (descending if `reverse`), at most
        `limit` of them. Lazy: consume it before closing the view."""
        check_table(table)
        self._check_open()
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        if limit == 0 or (stop is not None and stop <= start):
            return iter(())
        return self._range(table, bytes(start), None if stop is None else bytes(stop), reverse, limit)

    def prefix(
        self, table: str, prefix: bytes, *, reverse: bool = False, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs whose key starts with `prefix`, in key order (descending if `reverse`)."""
        return self.range(table, prefix, prefix_successor(prefix), reverse=reverse, limit=limit)

    def last(self, table: str, prefix: bytes = b"") -> tuple[bytes, bytes] | None:
        """The pair with the greatest key that starts with `prefix` (O(log n)), or None."""
        return next(self.prefix(table, prefix, reverse=True, limit=1), None)

    def first(self, table: str, prefix: bytes = b"") -> tuple[bytes, bytes] | None:
        """The pair with the smallest key that starts with `prefix` (O(log n)), or None."""
        return next(self.prefix(table, prefix, limit=1), None)

    @abstractmethod
    def close(self) -> None:
        """Release the snapshot; idempotent. Later calls on the view raise StoreClosedError."""


class ObjectStore(ABC):
    """A content-addressed object store with ordered tables; see the module docstring.

    Backends implement `read`, `submit`, `stats` and `close`; `write` and the one-shot read helpers are
    built on those here.
    """

    def __init__(self) -> None:
        # Threads blocked in write(): a reader holding a view while it waits here can never release it,
        # which the LMDB backend needs to know before it waits for views to close (map growth).
        self._blocked_writers: set[int] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @abstractmethod
    def read(self) -> ReadView:
        """Open a snapshot view (close it, or use it as a context manager)."""

    @abstractmethod
    def submit(self, batch: WriteBatch) -> Future[None]:
        """Queue `batch`; the future resolves once it is durable, or fails with ConflictError,
        StoreFullError or StoreError. Callbacks added to the future run on the writer thread, possibly
        while it holds the write transaction: keep them short and non-blocking, and never call write()
        from them (submit() is fine). Cancelling the future before the writer picks the batch up
        withdraws it; after that it is written regardless."""

    def write(self, batch: WriteBatch) -> None:
        """Apply `batch` and return once it is durable; raises what `submit`'s future would."""
        if self._on_writer_thread():
            raise StoreError("write() on the store's writer thread would deadlock; use submit()")
        fut = self.submit(batch)
        me = threading.get_ident()
        self._blocked_writers.add(me)
        try:
            fut.result()
        finally:
            self._blocked_writers.discard(me)

    @abstractmethod
    def _on_writer_thread(self) -> bool: ...

    @abstractmethod
    def stats(self) -> dict[str, int]:
        """Counters: commits, batches, ops, conflicts, failed, map_size, ... (for benchmarks)."""

    @abstractmethod
    def close(self) -> None:
        """Write what is queued, then close; idempotent. Later operations raise StoreClosedError."""

    def get_object(self, d: bytes) -> bytes | None:
        with self.read() as view:
            return view.get_object(d)

    def has_object(self, d: bytes) -> bool:
        with self.read() as view:
            return view.has_object(d)

    def get(self, table: str, key: bytes) -> bytes | None:
        with self.read() as view:
            return view.get(table, key)

    def last(self, table: str, prefix: bytes = b"") -> tuple[bytes, bytes] | None:
        with self.read() as view:
            return view.last(table, prefix)

    def first(self, table: str, prefix: bytes = b"") -> tuple[bytes, bytes] | None:
        with self.read() as view:
            return view.first(table, prefix)
