"""The node's composition root: opens the store, loads (or creates) the node wallet, and builds the
domain services on them (scheduler, compute engine, pusher, cron). The wire layer serves a `Node` (and
hands it the ports it implements, such as the forwarder to other nodes); tests build one on a temp dir.
Each node has its own metrics registry (`aonode.metrics.NodeMetrics`): it reads the services' counts at
scrape time and receives their latencies through the hooks the node plugs in here (docs/metrics.md).

Owns the lifecycle: `Node.open(config)`, `await node.start(bound_url)` (inside the event loop: starts the
node network, which publishes this node's location record (its `public_url`, else the address it is bound
to) and gossips with its peers; resumes interrupted and incomplete pushes; starts the cron timers), then
`await node.close()`, which closes the domain services (cron first) and drains the store's
writer last, so every acknowledged write is durable before the process exits.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aonode import __version__
from aonode.compute import ComputeConfig, ComputeEngine
from aonode.compute.artifacts import StoreArtifacts
from aonode.compute.validate import SpawnValidator
from aonode.config import ConfigError, MiB, NodeConfig
from aonode.cron import Cron, CronConfig, EngineCalls
from aonode.crypto import Signer
from aonode.devices import DeviceRegistry
from aonode.devices.base import ARTIFACTS_SETTING
from aonode.devices.registry import WASM, default_registry
from aonode.errors import AonodeError
from aonode.ids import decode_id, encode_id
from aonode.metrics import NodeMetrics
from aonode.network import DirectoryConfig, Network, NetworkConfig, PeerPort, parse_peer
from aonode.push import PushConfig, Pusher, RemotePusher
from aonode.push.config import RemoteAssignments
from aonode.replication import LeaderFactory, ReplicaSpec, Replication
from aonode.scheduler import Forwarder, Scheduler, SchedulerConfig
from aonode.wallet import load_or_create_wallet
from store import LmdbStore, ObjectStore

log = logging.getLogger("aonode.node")


@dataclass
class Node:
    config: NodeConfig
    store: ObjectStore
    signer: Signer
    scheduler: Scheduler
    engine: ComputeEngine
    devices: DeviceRegistry
    pusher: Pusher
    cron: Cron
    replication: Replication
    network: Network
    version: str = __version__
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    """This node's own metrics registry (never prometheus_client's global one); served by `--metrics`."""

    def __post_init__(self) -> None:
        self.metrics.watch(self)
        self.scheduler.observe_latency = self.metrics.schedule_latency.observe
        self.engine.observe_latency = self.metrics.observe_compute

    @classmethod
    def open(
        cls,
        config: NodeConfig,
        *,
        forwarder: Forwarder | None = None,
        remote: RemotePusher | None = None,
        leader: LeaderFactory | None = None,
        peers: PeerPort | None = None,
        assignments: RemoteAssignments | None = None,
    ) -> Node:
        config.data.mkdir(parents=True, exist_ok=True)
        cron_config = CronConfig.from_mapping(config.extra.get("cron"))  # before anything is opened
        replica_specs, operators = replica_settings(config)
        configured_peers, network_operators = network_settings(config)
        signer = load_or_create_wallet(config.node_wallet_path, config.wallet_type)
        device_settings = node_device_settings(config)
        try:
            compute_config = ComputeConfig.from_mapping(
                config.extra.get("compute"),
                device_settings=device_settings,
                snapshot_every=config.snapshot_every,
                snapshot_seconds=config.snapshot_seconds,
                operators=(str(signer.address),),  # the node's own wallet may lift a stalled process
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"[compute]: {exc}") from None
        store = LmdbStore(
            config.store_path,
            map_size=config.map_size_mib * MiB,
            max_map_size=config.max_map_size_mib * MiB,
        )
        # Translations of modules (legacy exception handling) are kept in the store, by module digest; the
        # dict is the one compute_config and the spawn validator hold, so both see it.
        device_settings[WASM][ARTIFACTS_SETTING] = StoreArtifacts(store)
        devices = default_registry(device_settings)
        scheduler = Scheduler(
            store,
            signer,
            SchedulerConfig(
                accept_unsigned=config.accept_unsigned,
                follow_redirects=config.follow_redirects,
                verify_threads=config.verify_threads,
                trusted_relays=tuple(a.strip() for a in config.trusted_relays.split(",") if a.strip()),
                read_budget_bytes=config.read_budget_mib << 20,
                read_wait_seconds=config.read_wait_seconds,
            ),
            forwarder=forwarder,
            validator=SpawnValidator(devices, compute_config.device_settings),
        )
        engine = ComputeEngine(store, scheduler, devices, compute_config)
        network = Network(
            store,
            scheduler,
            signer,
            peers,
            NetworkConfig(
                self_url=config.public_url,
                location_ttl_ms=max(1, round(config.location_ttl_seconds * 1000)),
                gossip_interval_ms=max(1, round(config.gossip_interval_seconds * 1000)),
                operators=network_operators,
                directory=DirectoryConfig(),
            ),
            configured_peers=configured_peers,
            accept_unsigned=config.accept_unsigned,
        )
        scheduler.directory = network.directory
        relay = PushConfig(
            relay_limit=config.relay_limit,
            relay_window_ms=max(1, round(config.relay_window_seconds * 1000)),
            retry_max_ms=max(1, round(config.push_retry_max_seconds * 1000)),
            retry_deadline_ms=max(0, round(config.push_retry_deadline_seconds * 1000)),
        )
        pusher = Pusher(
            store,
            scheduler,
            engine,
            signer,
            relay,
            forwarder=forwarder,
            remote=remote,
            router=network,
            assignments=assignments,
            follow_redirects=config.follow_redirects,
        )
        cron = Cron(store, scheduler, signer, cron_config, calls=EngineCalls(engine, pusher))
        replication = Replication(
            store,
            scheduler,
            engine,
            signer,
            leader,
            operators=operators,
            configured=replica_specs,
            accept_unsigned=config.accept_unsigned,
        )
        return cls(
            replication=replication,
            config=config,
            store=store,
            signer=signer,
            scheduler=scheduler,
            engine=engine,
            devices=devices,
            pusher=pusher,
            cron=cron,
            network=network,
        )

    @property
    def address(self) -> str:
        return str(self.signer.address)

    async def start(self, bound_url: str = "") -> None:
        """`bound_url`: the HOST:PORT the server listens on; this node's own location record names it
        unless `public_url` is set, or it is a wildcard address (0.0.0.0, [::]), which nobody can dial."""
        host = bound_url.rpartition(":")[0]
        await self.network.start("" if host in ("", "0.0.0.0", "[::]", "::") else bound_url)
        await self.pusher.resume()  # asynchronous pushes a stop or crash interrupted
        await self.cron.start()
        await self.replication.start()

    def halt_compute(self) -> None:
        """Interrupt every running computation now (they answer UNAVAILABLE; nothing of the interrupted
        slots is stored): the first thing a stop does after its short grace, so SIGTERM ends the node
        within seconds whatever a process computes."""
        self.engine.halt()

    async def close(self) -> None:
        await self.network.close()  # no more gossip or lookups
        await self.replication.close()  # first: nothing more is stored from leaders
        await self.cron.close()  # no new ticks while the rest shuts down
        await self.pusher.close()
        await self.network.close_port()  # channels to other nodes: nothing uses them any more
        self.scheduler.close()
        # Both wait for threads (compute pool, store writer): off the event loop, so it keeps serving.
        await asyncio.to_thread(self.engine.close)
        await asyncio.to_thread(self.store.close)


def node_device_settings(config: NodeConfig) -> dict[str, dict[str, Any]]:
    """The `[devices]` table (settings per device name), with the wasm device's `cache_dir` defaulting to
    `<data>/wasm-cache`: compiled modules survive a restart there (an AOS binary takes about a second to
    compile; the node trusts its data directory, docs/security.md). `module_cache_bytes` bounds the
    in-memory compiled modules. Legacy-EH translations are kept in the store (`Node.open` adds the
    `artifacts` setting)."""
    given = config.extra.get("devices") or {}
    if not isinstance(given, Mapping):
        raise ConfigError("[devices] must be a table of device names")
    settings: dict[str, dict[str, Any]] = {}
    for name, values in given.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"[devices.{name!r}] must be a table")
        settings[str(name)] = dict(values)
    wasm = settings.setdefault(WASM, {})
    wasm.setdefault("cache_dir", str(config.data / "wasm-cache"))
    if ARTIFACTS_SETTING in wasm:
        raise ConfigError(
            f"[devices.{WASM!r}] {ARTIFACTS_SETTING}: set by the node, not by its configuration"
        )
    limit = wasm.get("module_cache_bytes")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ConfigError(f"[devices.{WASM!r}] module_cache_bytes: a positive integer (bytes), got {limit!r}")
    return settings


def replica_settings(config: NodeConfig) -> tuple[list[ReplicaSpec], tuple[str, ...]]:
    """The replicas the configuration declares (`replicate_from`, `[[replica]]`) and the
    `[replication] operators`. A config replica's ID is derived from what it follows, so restarting with
    the same configuration resumes the same replica."""
    specs: list[ReplicaSpec] = []
    for url in (u.strip() for u in config.replicate_from.split(",")):
        if url:
            specs.append(ReplicaSpec(_config_id(url, [], True), url, [], True, origin="serve"))
    entries = config.extra.get("replica") or []
    if not isinstance(entries, list):
        raise ConfigError("[[replica]]: expected an array of tables")
    for i, entry in enumerate(entries):
        try:
            url = str(entry["from"])
            processes = [decode_id(str(p), "process") for p in entry.get("processes", [])]
            everything = bool(entry.get("all", False))
            recompute = bool(entry.get("recompute", True))
        except (KeyError, TypeError, AonodeError) as exc:
            raise ConfigError(
                f"[[replica]] #{i + 1}: {exc} (keys: from, processes, all, recompute)"
            ) from None
        if not processes and not everything:
            raise ConfigError(f"[[replica]] #{i + 1}: name processes, or all = true")
        spec = ReplicaSpec(_config_id(url, processes, everything), url, processes, everything, "config")
        spec.recompute = recompute
        specs.append(spec)
    section = config.extra.get("replication") or {}
    operators = tuple(str(a) for a in section.get("operators", ())) if isinstance(section, dict) else ()
    return specs, operators


def network_settings(config: NodeConfig) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The peers the configuration declares (`peers` / `--peer`, `[[peer]]` tables with `url`) with their
    origin, and `[network] operators`."""
    peers = [(u.strip(), "serve") for u in config.peers.split(",") if u.strip()]
    entries = config.extra.get("peer") or []
    if not isinstance(entries, list):
        raise ConfigError("[[peer]]: expected an array of tables")
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            raise ConfigError(f'[[peer]] #{i + 1}: expected url = "HOST:PORT"')
        peers.append((entry["url"], "config"))
    for url, origin in peers:
        try:
            parse_peer(url)
        except AonodeError as exc:
            raise ConfigError(f"{'[[peer]]' if origin == 'config' else 'peers'}: {exc}") from None
    section = config.extra.get("network") or {}
    operators = tuple(str(a) for a in section.get("operators", ())) if isinstance(section, Mapping) else ()
    return tuple(peers), operators


def _config_id(url: str, processes: list[bytes], everything: bool) -> str:
    text = url + "|" + ",".join(encode_id(p) for p in processes) + ("|all" if everything else "")
    return "config-" + hashlib.sha256(text.encode()).hexdigest()[:16]
