"""Fixtures for the scheduler tests: a factory of stores of each backend (memory, LMDB)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from store import LmdbStore, MemoryStore, ObjectStore

StoreFactory = Callable[[], ObjectStore]


@pytest.fixture(params=["memory", "lmdb"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of stores of one backend; every store it made is closed afterwards."""
    made: list[ObjectStore] = []
    counter = itertools.count()

    def factory() -> ObjectStore:
        path = tmp_path / f"db{next(counter)}"
        store: ObjectStore = MemoryStore() if request.param == "memory" else LmdbStore(path)
        made.append(store)
        return store

    yield factory
    for s in made:
        s.close()


@pytest.fixture
def lmdb_path(tmp_path: Path) -> Path:
    return tmp_path / "lmdb"
