"""Scheduler location records: who schedules where, signed by the scheduler itself.

A record `{address, url, nonce, ttl_ms, timestamp}` is accepted when it validates, its signature verifies,
and the signer's address is the record's `address` (a node can only say where *it* is; another signer is
PERMISSION_DENIED). A record replaces the stored one for its address only with a strictly higher nonce; an
equal or lower nonce is refused with `StaleLocationError` (FAILED_PRECONDITION: the request is valid, the
registry is past it; re-sending the very record already stored is answered the same way, so a client
learns its nonce is not new). The compare-and-set is a store precondition on the previous value, so two
concurrent registrations cannot both win.

Records are kept (table `locations`, address → encoded signed record) and served by `get` after their
TTL too (`Location.expires_at` lets a reader judge), but an expired record is never *used*: `url_of`, which
redirects and forwards read, answers None for it, as if no record were known. A node refreshes its own
record well before its TTL passes and gossip carries the new one (aonode/network), so an expired record
means a node that stopped refreshing: sending clients there would send them to a dead or moved address.
`learn` is gossip's entry: it stores a record only when it is valid, unexpired and newer, and answers
whether it did instead of raising for stale ones (gossip repeats records all the time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from aonode.codec import decode_location, encode_location
from aonode.crypto import verify_location
from aonode.errors import InvalidArgument, NotFound, PermissionDenied
from aonode.ids import address_of
from aonode.model import Location
from aonode.scheduler import layout
from aonode.scheduler.errors import StaleLocationError, from_store_error
from store import ConflictError, ObjectStore, StoreError, WriteBatch

# Registrations through one registry are serialised by a lock, so a lost race means another writer on
# the same store; each loss means that writer's record committed, so a few re-reads settle it.
_ATTEMPTS = 10


class LocationRegistry:
    """Signed scheduler locations, persisted in the store."""

    def __init__(self, store: ObjectStore, clock: Callable[[], int] | None = None) -> None:
        self._store = store
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)

    def now(self) -> int:
        """The registry's clock (ms since the epoch): what expiry is judged by."""
        return self._clock()

    async def register(self, location: Location) -> Location:
        """Verify and store `location`; returns it. InvalidArgument (bad record or signature),
        PermissionDenied (signed by another address), StaleLocationError (nonce not above the stored)."""
        location.validate()
        if location.signature is None:
            raise InvalidArgument("location record is unsigned")
        signer = address_of(location.signature.owner)
        if signer != location.address:
            raise PermissionDenied(f"location for {location.address} is signed by {signer}")
        verify_location(location)
        async with self._locked():
            return await self._store_if_newer(location)

    def _locked(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:  # an asyncio.Lock belongs to one loop
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _store_if_newer(self, location: Location) -> Location:
        key = location.address.encode()
        value = encode_location(location)
        for _ in range(_ATTEMPTS):
            try:
                previous = self._store.get(layout.LOCATIONS, key)
            except StoreError as exc:
                raise from_store_error(exc) from exc
            if previous is not None:
                known = decode_location(bytes(previous))
                if location.nonce <= known.nonce:
                    raise StaleLocationError(
                        f"location nonce {location.nonce} is not above the registered {known.nonce}"
                    )
            batch = WriteBatch()
            batch.require(layout.LOCATIONS, key, None if previous is None else bytes(previous))
            batch.put(layout.LOCATIONS, key, value)
            try:
                await asyncio.wrap_future(self._store.submit(batch))
            except ConflictError:
                continue
            except StoreError as exc:
                raise from_store_error(exc) from exc
            return location
        raise StaleLocationError(f"location for {location.address} changed concurrently; re-read and retry")

    def get(self, address: str) -> Location:
        """The registered record of `address`. NotFound when none is known."""
        try:
            raw = self._store.get(layout.LOCATIONS, address.encode())
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if raw is None:
            raise NotFound(f"no location known for scheduler {address}")
        return decode_location(bytes(raw))

    def url_of(self, address: str) -> str | None:
        """The registered URL of `address` while its record is valid (TTL not passed), else None."""
        location = self.valid(address)
        return None if location is None else location.url

    def valid(self, address: str) -> Location | None:
        """The record of `address` if one is known and its TTL has not passed."""
        try:
            location = self.get(address)
        except (NotFound, InvalidArgument):
            return None
        return location if location.expires_at > self.now() else None

    async def learn(self, location: Location) -> bool:
        """Store a gossiped record if it is valid, unexpired and newer than the known one; True when it
        was stored. A stale or expired record is ignored (False); a bad or forged one raises as
        `register` does."""
        if location.expires_at <= self.now():
            location.validate()
            return False
        try:
            known = self.get(location.address)
        except (NotFound, InvalidArgument):
            known = None
        if known is not None and location.nonce <= known.nonce:
            location.validate()
            return False
        try:
            await self.register(location)
        except StaleLocationError:
            return False
        return True

    async def learn_many(
        self, records: Sequence[Location], admit: Callable[[Location, bool], bool] | None = None
    ) -> list[Location]:
        """Gossip's bulk entry: of `records`, store those that are unexpired, validly signed by the address
        they name and newer than the known record (the newest per address), in one durable batch; a bad
        record is skipped, never raised. `admit(record, is_new_address)` may refuse more (a bound).
        Signatures are checked on a worker thread (a thousand Ed25519 checks would hold the event loop).
        Returns the records stored."""
        now = self.now()
        fresh = [r for r in records if r.expires_at > now]

        def verified() -> list[Location]:
            out = []
            for record in fresh:
                try:
                    record.validate()
                    verify_location(record)  # also: signed, and by the address it names
                except Exception:  # hostile input: whatever fails is skipped
                    continue
                out.append(record)
            return out

        best: dict[str, Location] = {}
        for record in await asyncio.to_thread(verified) if fresh else []:
            if record.address not in best or record.nonce > best[record.address].nonce:
                best[record.address] = record
        if not best:
            return []
        async with self._locked():
            for _ in range(_ATTEMPTS):
                batch = WriteBatch()
                stored = []
                try:
                    with self._store.read() as view:
                        for record in best.values():
                            key = record.address.encode()
                            previous = view.get(layout.LOCATIONS, key)
                            if (
                                previous is not None
                                and decode_location(bytes(previous)).nonce >= record.nonce
                            ):
                                continue
                            if admit is not None and not admit(record, previous is None):
                                continue
                            batch.require(
                                layout.LOCATIONS, key, None if previous is None else bytes(previous)
                            )
                            batch.put(layout.LOCATIONS, key, encode_location(record))
                            stored.append(record)
                    if not stored:
                        return []
                    await asyncio.wrap_future(self._store.submit(batch))
                except ConflictError:
                    continue  # another writer on this store: read again
                except StoreError as exc:
                    raise from_store_error(exc) from exc
                return stored
        return []

    def list(self, after: str = "", limit: int = 100, *, valid_only: bool = False) -> list[Location]:
        """Records in address order, after `after`, at most `limit` (expired ones left out when
        `valid_only`)."""
        out: list[Location] = []
        now = self.now()
        start = after.encode() + b"\x00" if after else b""
        try:
            with self._store.read() as view:
                for _, raw in view.range(layout.LOCATIONS, start):
                    location = decode_location(bytes(raw))
                    if valid_only and location.expires_at <= now:
                        continue
                    out.append(location)
                    if len(out) >= limit:
                        break
        except StoreError as exc:
            raise from_store_error(exc) from exc
        return out

    def count(self) -> int:
        """How many records the table holds (a scan of keys: called rarely, at start)."""
        try:
            with self._store.read() as view:
                return sum(1 for _ in view.range(layout.LOCATIONS))
        except StoreError as exc:
            raise from_store_error(exc) from exc
