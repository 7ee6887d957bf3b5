"""`StoreArtifacts`: what devices derive from modules, kept in the node's store by kind and module digest;
a cache, so a store that cannot answer is a miss, never an error."""

from __future__ import annotations

from pathlib import Path

from aonode.compute.artifacts import ARTIFACTS, StoreArtifacts
from store import LmdbStore, MemoryStore

KEY = b"\x01" * 32


def test_round_trip_survives_a_reopen_and_is_an_object(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "store")
    try:
        artifacts = StoreArtifacts(store)
        assert artifacts.get_artifact("exnref", KEY) is None
        artifacts.put_artifact("exnref", KEY, b"translated")
        assert artifacts.get_artifact("other", KEY) is None  # kinds do not mix
        artifacts.put_artifact("exnref", b"k" * 400, b"x")  # dropped: over MAX_KEY, though LMDB would take it
        assert artifacts.get_artifact("exnref", b"k" * 400) is None  # a key the table cannot hold
    finally:
        store.close()
    store = LmdbStore(tmp_path / "store")
    try:
        assert StoreArtifacts(store).get_artifact("exnref", KEY) == b"translated"
        row = store.get(ARTIFACTS, b"exnref\0" + KEY)
        assert row is not None and store.get_object(row) == b"translated"  # content-addressed, verified
    finally:
        store.close()


def test_a_closed_store_is_a_miss_and_a_dropped_write() -> None:
    store = MemoryStore()
    artifacts = StoreArtifacts(store)
    store.close()
    artifacts.put_artifact("exnref", KEY, b"x")  # no exception: the device translates again next time
    assert artifacts.get_artifact("exnref", KEY) is None
