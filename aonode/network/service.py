"""`Network`: this node's peers, its trusted relays, the gossip of location records and the process
directory, with the operator actions that change them.

Theory of operation:

- **Own record.** At start the node signs a location record for itself (`{address, url, nonce = now,
  ttl}`; url = `public_url`, else the bound listen address unless that is a wildcard) and re-signs it
  once half its TTL has passed, so its record never expires while it runs.
- **Gossip.** On start, right after `AddPeer`, and every `gossip_interval_ms`, the node calls
  `ExchangeLocations` on each gossip target (its peers, then up to `max_gossip_targets` nodes known from
  valid location records): it sends the valid records it knows and learns the ones it gets back, each
  checked (signed by the address it names; `LocationRegistry.learn`: unexpired, newer nonce wins). The
  receiving side learns the caller's records the same way, so one `peer add` of a seed is enough for
  every node to learn every other within two rounds. At most `max_locations` addresses are kept.
- **Directory** (`directory.py`): finds the scheduler of an unknown process among the same targets, with
  a verifiable answer; `lookup_local` is the answering side.
- **Relays.** `trusted_relays` (config) and the relays added by `TrustRelay` are handed to the scheduler,
  which checks `From-Process` / `Cron-From` against them.

The tables, and who may change peers and relays: `peers.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from aonode.crypto import Signer, sign_location
from aonode.errors import AonodeError, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from aonode.ids import address_of
from aonode.model import Location, Message
from aonode.network import peers as p
from aonode.network.directory import DirectoryConfig, ProcessDirectory
from aonode.network.peers import Peer, TrustedRelay
from aonode.network.port import PeerPort, ProcessProof
from aonode.scheduler import Scheduler
from aonode.scheduler.errors import from_store_error
from aonode.scheduler.locations import LocationRegistry
from store import ObjectStore, StoreError, WriteBatch

log = logging.getLogger("aonode.network")

MAX_EXCHANGE = 1000
"""Most records one exchange carries either way."""


@dataclass(frozen=True)
class NetworkConfig:
    self_url: str = ""
    """Where other nodes reach this one (its own location record's url); empty: no own record."""

    location_ttl_ms: int = 3600_000
    """TTL of this node's own location record; it is re-signed when half of it has passed."""

    gossip_interval_ms: int = 30_000
    """Between two gossip rounds."""

    gossip_timeout: float = 5.0
    """Seconds one exchange may take."""

    max_gossip_targets: int = 16
    """Nodes known only from location records that one round also gossips with (peers always)."""

    max_peers: int = 256
    """Most peers (added ones and configured ones)."""

    max_relays: int = 256
    """Most relays added at run time."""

    max_locations: int = 10_000
    """Most addresses whose records gossip stores; beyond, records of new addresses are not learned."""

    operators: tuple[str, ...] = ()
    """Addresses besides the node wallet that may change peers and relays."""

    directory: DirectoryConfig = field(default_factory=DirectoryConfig)


class Network:
    def __init__(
        self,
        store: ObjectStore,
        scheduler: Scheduler,
        signer: Signer,
        port: PeerPort | None,
        config: NetworkConfig | None = None,
        *,
        configured_peers: tuple[tuple[str, str], ...] = (),
        accept_unsigned: bool = False,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._signer = signer
        self._port = port
        self.config = config or NetworkConfig()
        self.operators = frozenset({str(signer.address), *self.config.operators})
        self.peers: dict[str, Peer] = {}
        for url, origin in configured_peers:
            parsed = p.parse_peer(url)
            self.peers.setdefault(parsed, Peer(parsed, origin=origin))
        self.relays: dict[str, TrustedRelay] = {}
        self.directory = ProcessDirectory(
            scheduler, port, self.targets, self.config.directory, accept_unsigned=accept_unsigned
        )
        self._own: Location | None = None
        self._records: tuple[float, list[Location]] | None = None
        self._known_locations = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def address(self) -> str:
        return str(self._signer.address)

    @property
    def locations(self) -> LocationRegistry:
        return self._scheduler.locations

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self, self_url: str = "") -> None:
        if self_url and not self.config.self_url:
            self.config = replace(self.config, self_url=self_url)
        with self._store.read() as view:
            for _, raw in view.range(p.PEERS):
                peer = Peer.decode(bytes(raw))
                self.peers.setdefault(peer.url, peer)
            for _, raw in view.range(p.RELAYS):
                relay = TrustedRelay.decode(bytes(raw))
                self.relays[relay.address] = relay
        self._apply_relays()
        self._known_locations = await asyncio.to_thread(self._scheduler.locations.count)
        await self._refresh_own(force=True)
        if self._port is not None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def close_port(self) -> None:
        """Close the connections to other nodes (the port is shared with push and forwarding: call
        this once those are closed)."""
        close = getattr(self._port, "close", None)
        if close is not None:
            await close()

    # -- own record and gossip -----------------------------------------------------------------------------

    async def _refresh_own(self, *, force: bool = False) -> None:
        url = self.config.self_url
        if not url:
            return
        now = self._scheduler.locations.now()
        own = self._own
        if not force and own is not None and now - own.timestamp < self.config.location_ttl_ms // 2:
            return
        try:
            known = self._scheduler.locations.get(self.address).nonce
        except (NotFound, InvalidArgument):
            known = 0
        record = Location(self.address, url, max(now, known + 1), self.config.location_ttl_ms, now)
        self._own = await self._scheduler.locations.register(sign_location(record, self._signer))
        self._records = None

    def targets(self) -> list[str]:
        """Whom to gossip with and to ask about processes: the peers, then (shuffled) nodes known from valid
        location records, without this node."""
        own = {self.config.self_url}
        out = [u for u in self.peers if u not in own]
        known = [
            loc.url
            for loc in self._scheduler.locations.list(
                limit=4 * self.config.max_gossip_targets, valid_only=True
            )
            if loc.address != self.address and loc.url not in own and loc.url not in self.peers
        ]
        random.shuffle(known)
        seen = set(out)
        for url in known:
            if url not in seen and len(out) < len(self.peers) + self.config.max_gossip_targets:
                seen.add(url)
                out.append(url)
        return out

    async def _loop(self) -> None:
        while True:
            try:
                await self.gossip_round()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not end gossip
                log.exception("gossip round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.gossip_interval_ms / 1000)
            self._wake.clear()

    async def gossip_round(self) -> int:
        """One exchange with every gossip target; returns the records learned."""
        await self._refresh_own()
        await asyncio.to_thread(self.records)  # the table scan off the loop: the exchanges reuse it
        learned = await asyncio.gather(*(self.gossip_with(url) for url in self.targets()))
        return sum(learned)

    async def gossip_with(self, url: str) -> int:
        """Exchange records with `url`; record the outcome on its peer entry (if it is a peer)."""
        assert self._port is not None
        peer = self.peers.get(url)
        try:
            theirs = await asyncio.wait_for(
                self._port.exchange(url, self.records()), self.config.gossip_timeout
            )
        except (AonodeError, TimeoutError) as exc:
            if peer is not None:
                status = getattr(exc, "status", "UNAVAILABLE")
                peer.last_error = f"{status}: {exc or 'timed out'}"
                await self._save_peer(peer)
            return 0
        learned = await self.learn(theirs[:MAX_EXCHANGE])
        if peer is not None:
            peer.last_seen_ms, peer.last_error = int(time.time() * 1000), ""
            peer.address = next((r.address for r in theirs if r.url == url), peer.address)
            await self._save_peer(peer)
        return learned

    def records(self) -> list[Location]:
        """The valid records to send: this node's first, then the freshest others. Reading them is a scan
        of the table, so the list is reused for a second (exchanges come from every peer each round,
        and anyone may call ExchangeLocations)."""
        now = time.monotonic()
        if self._records is not None and now - self._records[0] < 1.0:
            return self._records[1]
        known = self._scheduler.locations.list(limit=10 * MAX_EXCHANGE, valid_only=True)
        known.sort(key=lambda r: (r.address != self.address, -r.timestamp))
        self._records = (now, known[:MAX_EXCHANGE])
        return self._records[1]

    async def learn(self, records: list[Location]) -> int:
        """Learn each checkable, newer record (others are skipped) in one durable batch; returns how many
        were stored. Records about this node are never taken from others; records of addresses not known
        yet stop at `max_locations`."""
        new_addresses: set[str] = set()

        def admit(record: Location, new: bool) -> bool:
            if record.address == self.address:
                return False
            if new and record.address not in new_addresses:
                if self._known_locations + len(new_addresses) >= self.config.max_locations:
                    return False
                new_addresses.add(record.address)
            return True

        stored = await self._scheduler.locations.learn_many(records[:MAX_EXCHANGE], admit)
        self._known_locations += len(new_addresses & {r.address for r in stored})
        if stored:
            self._records = None
        return len(stored)

    async def exchange(self, records: list[Location]) -> tuple[int, list[Location]]:
        """The answering side of gossip: learn the caller's records, answer with ours."""
        if len(records) > MAX_EXCHANGE:
            raise InvalidArgument(f"an exchange carries at most {MAX_EXCHANGE} location records")
        accepted = await self.learn(records)
        return accepted, await asyncio.to_thread(self.records)  # a table scan: off the event loop

    # -- routing (the push's Router port) ------------------------------------------------------------------

    async def route(self, process: bytes) -> tuple[str, str | None] | None:
        """(scheduler address, valid URL or None) of a process another node schedules, asking the
        directory when the Process is not known here; None when this node schedules it or nobody knows
        it. Unavailable when nodes that might know it could not be asked."""
        sched = self._scheduler
        try:
            sched.head(process)
            return None
        except NotFound:
            pass
        message = self._stored_process(process)
        if message is None:
            if not await self.directory.resolve(process):
                return None
            message = self._stored_process(process)
            if message is None:
                return None
        named = message.tag("Scheduler")
        if not named or named == self.address:
            return None
        url = sched.locations.url_of(named)
        if url is None and await self.directory.resolve(process):
            url = sched.locations.url_of(named)  # the record had expired: a fresh proof carries a new one
        return named, url

    def _stored_process(self, process: bytes) -> Message | None:
        try:
            message = self._scheduler.get_message(process)
        except NotFound:
            return None
        return message if message.is_process and message.id == process else None

    # -- directory (answering side) ------------------------------------------------------------------------

    def lookup_local(self, process: bytes) -> ProcessProof:
        """The proof of where `process` lives, from what this node holds (its schedule, its own or a
        replica's). NotFound when it holds no schedule of it or knows no location of its scheduler."""
        self._scheduler.head(process)  # NotFound for a process without a schedule here
        message = self._scheduler.get_message(process)
        (assignment,) = self._scheduler.read_assignments(process, 0, 1)
        assert assignment.signature is not None
        scheduler = str(address_of(assignment.signature.owner))
        try:
            location = self._scheduler.locations.get(scheduler)
        except InvalidArgument:
            raise NotFound(f"no location known for scheduler {scheduler}") from None
        return ProcessProof(message, assignment, location)

    # -- operator actions ----------------------------------------------------------------------------------

    async def add_peer(self, authorization: Message) -> tuple[Peer, int]:
        self._authorize(authorization, p.ADD_PEER)
        url = p.parse_peer(authorization.tag("Peer") or "")
        if url == self.config.self_url:
            raise InvalidArgument(f"peer {url} is this node")
        if url not in self.peers and len(self.peers) >= self.config.max_peers:
            raise ResourceExhausted(f"this node has {len(self.peers)} peers, the most it keeps")
        peer = self.peers.get(url) or Peer(url, "cli", added_ms=int(time.time() * 1000))
        self.peers[url] = peer
        if peer.origin == "cli":
            await self._commit(authorization, lambda b: b.put(p.PEERS, url.encode(), peer.encode()))
        else:
            await self._commit(authorization, lambda b: None)  # configured already; the request is spent
        learned = await self.gossip_with(url) if self._port is not None else 0
        self._wake.set()  # tell the others soon what this peer taught us
        return peer, learned

    async def remove_peer(self, authorization: Message) -> Peer:
        self._authorize(authorization, p.REMOVE_PEER)
        url = p.parse_peer(authorization.tag("Peer") or "")
        peer = self.peers.get(url)
        if peer is None:
            raise NotFound(f"{url} is not a peer of this node")
        if peer.origin != "cli":
            raise FailedPrecondition(
                f"peer {url} comes from the node's configuration ({peer.origin}); edit it there"
            )
        await self._commit(authorization, lambda b: b.delete(p.PEERS, url.encode()))
        del self.peers[url]
        return peer

    async def trust(self, authorization: Message) -> TrustedRelay:
        self._authorize(authorization, p.TRUST_RELAY)
        address = p.parse_address(authorization.tag("Relay") or "")
        if address in self._scheduler.trusted_relays:
            existing = self.relays.get(address)
            await self._commit(authorization, lambda b: None)
            return existing or TrustedRelay(address, "config")
        if len(self.relays) >= self.config.max_relays:
            raise ResourceExhausted(f"this node trusts {len(self.relays)} added relays, the most it keeps")
        relay = TrustedRelay(address, "cli", int(time.time() * 1000))
        await self._commit(authorization, lambda b: b.put(p.RELAYS, address.encode(), relay.encode()))
        self.relays[address] = relay
        self._apply_relays()
        return relay

    async def untrust(self, authorization: Message) -> TrustedRelay:
        self._authorize(authorization, p.UNTRUST_RELAY)
        address = p.parse_address(authorization.tag("Relay") or "")
        relay = self.relays.get(address)
        if relay is None:
            if address in self._scheduler.trusted_relays:
                raise FailedPrecondition(
                    f"relay {address} is this node or configured (trusted_relays); edit the configuration"
                )
            raise NotFound(f"{address} is not a trusted relay of this node")
        await self._commit(authorization, lambda b: b.delete(p.RELAYS, address.encode()))
        del self.relays[address]
        self._apply_relays()
        return relay

    def list_relays(self) -> list[TrustedRelay]:
        configured = [
            TrustedRelay(a, "node" if a == self.address else "config")
            for a in [self.address, *sorted(self._scheduler.config.trusted_relays)]
        ]
        return configured + sorted(self.relays.values(), key=lambda r: r.added_ms)

    def _apply_relays(self) -> None:
        self._scheduler.trust_relays(tuple(self.relays))

    def _authorize(self, authorization: Message, action: str) -> None:
        with self._store.read() as view:
            p.authorize(authorization, action, self.operators, view)

    async def _commit(self, authorization: Message, change: Callable[[WriteBatch], object]) -> None:
        """Apply `change` and spend the request in one durable batch."""
        batch = WriteBatch()
        change(batch)
        with self._store.read() as view:
            p.spend(batch, authorization, view)
        try:
            await asyncio.wrap_future(self._store.submit(batch))
        except StoreError as exc:
            raise from_store_error(exc) from exc

    async def _save_peer(self, peer: Peer) -> None:
        if peer.origin != "cli" or self.peers.get(peer.url) is not peer:
            return
        batch = WriteBatch()
        batch.put(p.PEERS, peer.url.encode(), peer.encode())
        with contextlib.suppress(StoreError):
            await asyncio.wrap_future(self._store.submit(batch))
