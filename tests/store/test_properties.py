"""Property tests: round trips of arbitrary bytes, ordered reads against a sorted-list model, u64 order,
and both backends agreeing on random batch sequences (preconditions included)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import (
    ConflictError,
    LmdbStore,
    MemoryStore,
    ObjectStore,
    WriteBatch,
    digest,
    read_u64,
    u64,
)
from store.base import MAX_KEY_SIZE

SETTINGS = settings(
    max_examples=40,
    deadline=None,  # fsync latency varies on shared CI disks
    suppress_health_check=[HealthCheck.too_slow],
)

_tables = itertools.count()


def fresh_table() -> str:
    return f"prop-{next(_tables)}"


@pytest.fixture(scope="module")
def lmdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LmdbStore]:
    # One store for all examples (hypothesis reruns the body, not the fixture); examples use fresh tables.
    with LmdbStore(tmp_path_factory.mktemp("props"), map_size=16 << 20) as s:
        yield s


@pytest.fixture(scope="module")
def memory_store() -> Iterator[MemoryStore]:
    with MemoryStore() as s:
        yield s


@pytest.fixture(scope="module", params=["memory", "lmdb"])
def any_store(
    request: pytest.FixtureRequest, lmdb_store: LmdbStore, memory_store: MemoryStore
) -> ObjectStore:
    return memory_store if request.param == "memory" else lmdb_store


keys = st.binary(min_size=1, max_size=MAX_KEY_SIZE)
# Short keys over a tiny alphabet, so that prefixes, shared heads and 0xff carries actually occur.
short_keys = st.binary(min_size=1, max_size=4).map(lambda b: bytes(x % 3 * 127 for x in b))
bounds = st.none() | st.binary(max_size=5).map(lambda b: bytes(x % 3 * 127 for x in b))


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_object_round_trip(any_store: ObjectStore, data: bytes) -> None:
    b = WriteBatch()
    d = b.put_object(data)
    any_store.write(b)
    assert d == digest(data)
    assert any_store.get_object(d) == data


@SETTINGS
@given(key=keys, value=st.binary(max_size=2048))
def test_table_round_trip(any_store: ObjectStore, key: bytes, value: bytes) -> None:
    table = fresh_table()
    b = WriteBatch()
    b.put(table, key, value)
    any_store.write(b)
    assert any_store.get(table, key) == value
    assert any_store.last(table) == (key, value)


@SETTINGS
@given(
    keyset=st.sets(short_keys, max_size=40),
    start=bounds,
    stop=bounds,
    reverse=st.booleans(),
    limit=st.none() | st.integers(0, 10),
    prefix=st.binary(max_size=3).map(lambda b: bytes(x % 3 * 127 for x in b)),
)
def test_ordered_reads_match_a_sorted_model(
    any_store: ObjectStore,
    keyset: set[bytes],
    start: bytes | None,
    stop: bytes | None,
    reverse: bool,
    limit: int | None,
    prefix: bytes,
) -> None:
    table = fresh_table()
    model = sorted(keyset)
    b = WriteBatch()
    for k in keyset:
        b.put(table, k, k[::-1])
    if keyset:
        any_store.write(b)

    lo = start or b""
    expect = [k for k in model if k >= lo and (stop is None or k < stop)]
    if reverse:
        expect.reverse()
    if limit is not None:
        expect = expect[:limit]
    with_prefix = [k for k in model if k.startswith(prefix)]

    with any_store.read() as view:
        got = list(view.range(table, lo, stop, reverse=reverse, limit=limit))
        assert got == [(k, k[::-1]) for k in expect]
        assert [k for k, _ in view.prefix(table, prefix)] == with_prefix
        assert [k for k, _ in view.prefix(table, prefix, reverse=True, limit=limit)] == (
            with_prefix[::-1][:limit] if limit is not None else with_prefix[::-1]
        )
        assert view.last(table, prefix) == ((with_prefix[-1], with_prefix[-1][::-1]) if with_prefix else None)
        assert view.first(table, prefix) == ((with_prefix[0], with_prefix[0][::-1]) if with_prefix else None)
        # Bisect agrees too: the last key below `stop` is what a reverse range of one finds.
        if stop is not None:
            i = bisect.bisect_left(model, stop)
            below = next(view.range(table, stop=stop, reverse=True, limit=1), None)
            assert below == ((model[i - 1], model[i - 1][::-1]) if i else None)


@settings(max_examples=300)
@given(a=st.integers(0, 2**64 - 1), b=st.integers(0, 2**64 - 1))
def test_u64_order_is_numeric_order(a: int, b: int) -> None:
    assert (u64(a) < u64(b)) == (a < b)
    assert read_u64(u64(a)) == a
    assert len(u64(a)) == 8


@given(n=st.integers(max_value=-1) | st.integers(min_value=2**64))
def test_u64_rejects_out_of_range(n: int) -> None:
    with pytest.raises(ValueError):
        u64(n)


op = st.one_of(
    st.tuples(st.just("put"), short_keys, st.binary(max_size=3)),
    st.tuples(st.just("delete"), short_keys, st.just(b"")),
    st.tuples(st.just("require"), short_keys, st.none() | st.binary(max_size=3)),
    st.tuples(st.just("object"), st.just(b""), st.binary(max_size=3)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(op, max_size=6), max_size=8))
def test_backends_agree_on_random_batches(
    lmdb_store: LmdbStore, memory_store: MemoryStore, batches: list[list[tuple[str, bytes, bytes | None]]]
) -> None:
    table = fresh_table()
    for ops in batches:
        outcomes = []
        for s in (lmdb_store, memory_store):
            b = WriteBatch()
            for kind, key, value in ops:
                if kind == "put":
                    assert value is not None
                    b.put(table, key, value)
                elif kind == "delete":
                    b.delete(table, key)
                elif kind == "require":
                    b.require(table, key, value)
                else:
                    assert value is not None
                    b.put_object(table.encode() + value)  # objects are global: keep this example's own
            try:
                s.write(b)
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("conflict")
        assert outcomes[0] == outcomes[1]
    with lmdb_store.read() as a, memory_store.read() as m:
        assert list(a.range(table)) == list(m.range(table))
        for kind, _, value in itertools.chain.from_iterable(batches):
            if kind == "object" and value is not None:
                d = digest(table.encode() + value)
                assert a.get_object(d) == m.get_object(d)
