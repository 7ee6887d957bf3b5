"""Fixtures for the compute tests: stores (memory or LMDB) and a clean slate for the fake devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import LmdbStore, MemoryStore, ObjectStore
from tests.compute import fakes


@pytest.fixture(autouse=True)
def _reset_fakes() -> Iterator[None]:
    fakes.reset()
    yield
    fakes.FakeDevice.salt = b""
    fakes.FakeDevice.memory = 1000


@pytest.fixture
def mem() -> Iterator[ObjectStore]:
    s = MemoryStore()
    yield s
    s.close()


@pytest.fixture
def lmdb_dir(tmp_path: Path) -> Path:
    return tmp_path / "lmdb"


@pytest.fixture
def lmdb(lmdb_dir: Path) -> Iterator[ObjectStore]:
    s = LmdbStore(lmdb_dir)
    yield s
    s.close()
