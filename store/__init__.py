"""aonode's storage layer: content-addressed objects and ordered tables of opaque bytes, on LMDB.

Theory of operation:
- objects live under their blake3 digest and are verified on every read (CorruptObjectError otherwise);
- tables are named, bytewise-ordered key -> value maps (use `u64` for numeric key parts), scanned by
  range/prefix/first/last through a ReadView, which is one consistent snapshot;
- writes are WriteBatches (puts, deletes, objects, `require` preconditions), applied atomically and in
  FIFO order by a single writer thread that packs every queued batch into one transaction (group
  commit); a caller is answered only after the transaction holding its batch is durable;
- LmdbStore is the real thing (sync + metasync on, map grows on demand); MemoryStore has the same
  semantics for tests. The store knows nothing of AO. See docs/store.md.
"""

from __future__ import annotations

import os
from typing import Any

from store.base import (
    ConflictError,
    CorruptObjectError,
    ObjectStore,
    ReadView,
    StoreClosedError,
    StoreError,
    StoreFullError,
    WriteBatch,
    digest,
    read_u64,
    u64,
)
from store.lmdb_store import LmdbStore
from store.memory_store import MemoryStore

__all__ = [
    "ConflictError",
    "CorruptObjectError",
    "LmdbStore",
    "MemoryStore",
    "ObjectStore",
    "ReadView",
    "StoreClosedError",
    "StoreError",
    "StoreFullError",
    "WriteBatch",
    "digest",
    "open_store",
    "read_u64",
    "u64",
]


def open_store(path: str | os.PathLike[str] | None, **kw: Any) -> ObjectStore:
    """An LmdbStore in directory `path` (keyword arguments go to it), or a MemoryStore if `path` is
    None (only max_group_ops/max_group_bytes apply to it)."""
    if path is None:
        return MemoryStore(**kw)
    return LmdbStore(path, **kw)
