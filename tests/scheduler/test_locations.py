"""Scheduler location records: signatures, the signer/address rule, nonce ordering, persistence."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from aonode.crypto import sign_location
from aonode.errors import InvalidArgument, NotFound, PermissionDenied
from aonode.model import Location, Signature
from aonode.scheduler import LocationRegistry, StaleLocationError
from store import LmdbStore
from tests.scheduler.conftest import StoreFactory
from tests.scheduler.helpers import NODE_KEY, OTHER_NODE_KEY, run


def _loc(nonce: int, url: str = "https://node.example", key: object = NODE_KEY) -> Location:
    return sign_location(Location(NODE_KEY.address, url, nonce, 60_000, 1_000), key)  # type: ignore[arg-type]


def test_register_get_and_nonce_rules(make_store: StoreFactory) -> None:
    reg = LocationRegistry(make_store(), clock=lambda: 2_000)  # the records (timestamp 1000) are valid then
    with pytest.raises(NotFound):
        reg.get(NODE_KEY.address)
    assert reg.url_of(NODE_KEY.address) is None

    async def go() -> None:
        await reg.register(_loc(1, "https://a"))
        assert reg.get(NODE_KEY.address).url == "https://a"
        await reg.register(_loc(5, "https://b"))  # higher nonce replaces
        assert reg.url_of(NODE_KEY.address) == "https://b"
        for stale in (5, 4, 0):
            with pytest.raises(StaleLocationError, match="not above the registered 5"):
                await reg.register(_loc(stale, "https://c"))
        assert reg.get(NODE_KEY.address) == _loc(5, "https://b")

    run(go())


def test_concurrent_registrations_keep_the_highest_nonce(make_store: StoreFactory) -> None:
    reg = LocationRegistry(make_store())

    async def go() -> list[object]:
        return list(
            await asyncio.gather(
                *(reg.register(_loc(n, f"https://{n}")) for n in range(10)), return_exceptions=True
            )
        )

    results = run(go())
    assert any(isinstance(r, Location) for r in results)
    assert all(isinstance(r, Location | StaleLocationError) for r in results)
    assert reg.get(NODE_KEY.address).nonce == 9


def test_bad_records_refused(make_store: StoreFactory) -> None:
    reg = LocationRegistry(make_store())
    good = _loc(1)
    assert good.signature is not None
    # Signed by another key while naming this address: that key cannot speak for it.
    other = replace(
        good,
        signature=sign_location(
            Location(OTHER_NODE_KEY.address, good.url, 1, 60_000, 1_000), OTHER_NODE_KEY
        ).signature,
    )
    bad_sig = good.with_signature(Signature(good.signature.scheme, good.signature.owner, bytes(64)))
    tampered = replace(good, url="https://evil.example")
    unsigned = good.with_signature(None)
    with pytest.raises(PermissionDenied):
        run(reg.register(other))
    for bad in (bad_sig, tampered, unsigned, replace(_loc(1), address="nope")):
        with pytest.raises(InvalidArgument):
            run(reg.register(bad))
    with pytest.raises(NotFound):
        reg.get(NODE_KEY.address)


def test_locations_persist(tmp_path: Path) -> None:
    with LmdbStore(tmp_path / "db") as store:
        run(LocationRegistry(store).register(_loc(3, "https://kept")))
    with LmdbStore(tmp_path / "db") as store:
        reg = LocationRegistry(store)
        assert reg.get(NODE_KEY.address).url == "https://kept"
        with pytest.raises(StaleLocationError):
            run(reg.register(_loc(3)))
