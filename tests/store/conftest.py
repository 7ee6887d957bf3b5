"""Fixtures shared by the store tests: a store of each backend, and a way to corrupt an object."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from store import LmdbStore, MemoryStore, ObjectStore, WriteBatch
from store.base import OBJECTS

BACKENDS = ["memory", "lmdb"]

Corrupt = Callable[[ObjectStore, bytes, bytes], None]
MakeStore = Callable[[], ObjectStore]
HoldWriter = Callable[[ObjectStore], contextlib.AbstractContextManager[None]]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory for stores of the parametrized backend (LMDB ones in their own tmp dir); every store it
    made is closed at teardown."""
    made: list[ObjectStore] = []

    def make() -> ObjectStore:
        s: ObjectStore
        if request.param == "memory":
            s = MemoryStore()
        else:
            s = LmdbStore(tmp_path / f"db{len(made)}", map_size=1 << 20)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def store(make_store: MakeStore) -> ObjectStore:
    return make_store()


SMALL = 512 << 10


@pytest.fixture(params=BACKENDS)
def small_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    """A store of the parametrized backend that cannot hold more than about SMALL bytes (LMDB: its map
    ceiling; memory: max_bytes)."""
    s: ObjectStore
    if request.param == "memory":
        s = MemoryStore(max_bytes=SMALL)
    else:
        s = LmdbStore(tmp_path / "small", map_size=128 << 10, max_map_size=SMALL)
    yield s
    s.close()


def _corrupt(store: ObjectStore, d: bytes, bad: bytes) -> None:
    """Overwrite the stored bytes of object `d`, behind the store's back."""
    if isinstance(store, MemoryStore):
        store._tables[OBJECTS].data[d] = bad
    elif isinstance(store, LmdbStore):
        with store._env.begin(write=True) as txn:
            txn.put(d, bad, db=store._dbs[OBJECTS])
    else:
        raise TypeError(type(store))


@pytest.fixture
def corrupt() -> Corrupt:
    return _corrupt


@contextlib.contextmanager
def _hold_writer(store: ObjectStore) -> Iterator[None]:
    """Keep the writer thread busy (inside a future's done-callback) for the duration of the block, so
    that every batch submitted inside it is queued, then committed as ONE group when the block ends."""
    release, entered = threading.Event(), threading.Event()

    def hold(_: Future[None]) -> None:
        entered.set()
        release.wait(30)

    b = WriteBatch()
    b.put("hold-writer", b"k", b"")
    store.submit(b).add_done_callback(hold)
    assert entered.wait(30)
    try:
        yield
    finally:
        release.set()


@pytest.fixture
def hold_writer() -> HoldWriter:
    return _hold_writer
