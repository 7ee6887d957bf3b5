"""Node configuration: one frozen dataclass, filled from defaults ← a TOML file ← `AONODE_*` environment
variables ← command-line flags (later sources win).

Each field's docstring is its documentation; `aonode serve --help` and docs/config.md point here. A TOML
file uses the field names as keys (`listen = "127.0.0.1:7400"`); an environment variable is the field
name upper-cased with the `AONODE_` prefix (`AONODE_LISTEN`). Unknown keys and badly typed values are
refused with a message naming the key and its source, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aonode.errors import InvalidArgument

MiB = 1024 * 1024


class ConfigError(InvalidArgument):
    """A configuration value that cannot be used."""


@dataclass(frozen=True)
class NodeConfig:
    data: Path = Path("./data")
    """Directory holding the LMDB store and the node's wallet."""

    listen: str = "127.0.0.1:7400"
    """host:port the gRPC server binds (port 0 picks a free port)."""

    http: str = ""
    """host:port of the HTTP gateway (HyperPATHs and aoconnect's routes, docs/http.md); empty: no HTTP
    server. Port 0 picks a free port."""

    node_wallet: Path | None = None
    """The node's signing key (JWK). Default: `<data>/node-wallet.json`, created on first start."""

    wallet_type: str = "ed25519"
    """Key type created on first start when no node wallet exists: `ed25519` or `rsa`."""

    public_url: str = ""
    """The URL other nodes use to reach this one (published in this node's location record)."""

    accept_unsigned: bool = False
    """Schedule unsigned messages (their ID is their content digest). Off: they are refused."""

    follow_redirects: bool = False
    """Forward a message whose process is scheduled by another node to that node, instead of answering
    FAILED_PRECONDITION with its location."""

    verify_threads: int = 0
    """Threads that verify message signatures off the event loop (libsodium releases the GIL). 0 verifies
    inline on the event loop."""

    gil_switch_ms: float = 1.0
    """Python's thread switch interval (sys.setswitchinterval) in the node process, in milliseconds. py-lmdb,
    libsodium, lupa and grpc release the GIL around every call; with Python's default 5 ms a thread
    coming back from such a call can wait a whole interval for the GIL. 1 ms measured better for
    scheduling throughput on 2 cores."""

    trusted_relays: str = ""
    """Comma-separated addresses of other nodes whose pushed messages (carrying `From-Process`) or cron
    ticks (`Cron-From`) this node schedules. Its own address is always trusted; messages from anyone else
    that carry either tag are refused (PERMISSION_DENIED)."""

    relay_limit: int = 1200
    """Push: most messages this node relays to one process (deliveries it schedules on behalf of
    processes, carrying `From-Process`) per `relay_window_seconds`, over all pushes and cron `push`
    tasks; 0: no limit. Over it a delivery is refused (its push tree node says `relay-limit:
    RESOURCE_EXHAUSTED ...`), which ends ping-pong loops that every new push would extend forever. A
    token bucket per target: bursts up to the limit, then the limit per window (docs/push.md)."""

    relay_window_seconds: float = 60.0
    """Push: the window of `relay_limit`."""

    max_message_bytes: int = 16 * MiB
    """Largest request or response the gRPC server accepts or sends (RESOURCE_EXHAUSTED above it)."""

    read_budget_mib: int = 64
    """Node-wide MiB of message bodies held for readers at once (GetSchedule and SubscribeSchedule with
    messages, GetMessage), from loading until sent; a read that finds no room waits (`read_wait_seconds`),
    then gets RESOURCE_EXHAUSTED. One message larger than this still goes out, alone. The node's memory
    for readers stays within about twice this plus three of the largest messages (docs/scheduler.md)."""

    read_wait_seconds: float = 10.0
    """How long a read of message bodies waits for room in `read_budget_mib` before RESOURCE_EXHAUSTED."""

    max_concurrent_rpcs: int = 2048
    """RPCs in flight at once (streams included); more are refused with RESOURCE_EXHAUSTED. Unary
    Schedule calls stay in flight until their commit, so a disk stall of T seconds holds about
    T x the request rate of them: 2048 covers a 4 s stall at 500 requests/s."""

    max_pending_rpcs: int = 16384
    """Calls received but not yet picked up by the node (a burst arrives faster than the node's loop takes
    calls in). Up to this many wait to be answered, each then served or refused with RESOURCE_EXHAUSTED
    by `max_concurrent_rpcs`; beyond it gRPC core cancels the excess (CANCELLED, not retried). gRPC's own
    default (1,000, random drops up to 3,000) cancelled a third of a 4,000-call burst."""

    max_concurrent_streams: int = 4096
    """HTTP/2 streams per client connection. Keep it above `max_concurrent_rpcs`: a connection over this
    limit has its new calls reset (RST_STREAM REFUSED_STREAM, which clients see as a bare UNAVAILABLE)
    instead of answered RESOURCE_EXHAUSTED with a reason; at 256 a disk stall of half a second at
    500 requests/s from one client reset dozens of calls."""

    map_size_mib: int = 256
    """Initial LMDB map size; it grows by doubling when full."""

    max_map_size_mib: int = 1024 * 1024
    """Ceiling for LMDB map growth; beyond it writes fail with RESOURCE_EXHAUSTED."""

    snapshot_every: int = 1000
    """Compute: store the state of a process whose device can snapshot (wasm64@1.0) after every slot that
    is a multiple of this (64 KiB pages by digest, so unchanged pages are shared); 0: never. A computation
    far from any live worker restores the nearest snapshot and replays the rest."""

    snapshot_seconds: float = 0.0
    """Compute: also store such a state after a computed slot when this many seconds passed since the
    process's last snapshot (0: off), so slow processes get snapshots between multiples of
    `snapshot_every`."""

    grace_seconds: float = 5.0
    """On SIGTERM/Ctrl-C, how long in-flight RPCs may finish before they are cancelled."""

    log_level: str = "info"
    """debug, info, warning or error."""

    log_format: str = "json"
    """`json` (one object per line, for machines) or `text` (for people)."""

    replicate_from: str = ""
    """Comma-separated HOST:PORT of nodes to replicate every process of (docs/replication.md); more
    replicas in `[[replica]]` tables (`from`, `processes` or `all`, `recompute`)."""

    peers: str = ""
    """Comma-separated HOST:PORT of nodes to gossip location records with and ask about processes
    (`--peer`, repeatable; more in `[[peer]]` tables with `url`; at run time `aonode peer add`, an
    operator action: the node wallet or an address in `[network] operators`). docs/network.md."""

    gossip_interval_seconds: float = 30.0
    """Between two rounds of location gossip with the peers (and nodes known from their records)."""

    location_ttl_seconds: float = 3600.0
    """TTL of this node's own location record (re-signed when half of it has passed). Other nodes stop
    using the record (no redirect names it) once it expires."""

    push_retry_max_seconds: float = 60.0
    """Push: the longest wait between two retries of a push left incomplete because a node was
    unreachable (the first retry comes after 1 s, each wait doubles)."""

    push_retry_deadline_seconds: float = 86400.0
    """Push: how long after it started an incomplete push is retried; then it is `failed`."""
    metrics: str = ""
    """HOST:PORT of an HTTP server answering GET /metrics in the Prometheus text format (docs/metrics.md),
    in the node's process, beside gRPC; empty: none (the HTTP gateway, when on, serves /metrics too)."""

    extra: Mapping[str, Any] = field(default_factory=dict)
    """Settings of devices and later subsystems that the node passes through ([section] tables)."""

    @property
    def node_wallet_path(self) -> Path:
        return self.node_wallet if self.node_wallet is not None else self.data / "node-wallet.json"

    @property
    def store_path(self) -> Path:
        return self.data / "store"


_FIELDS = {f.name: f for f in fields(NodeConfig) if f.name != "extra"}
ENV_PREFIX = "AONODE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a TOML/env/flag value into the field's type, or raise ConfigError naming name and source."""
    kind = _FIELDS[name].type
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError(f"not an integer: {value!r}")
            number = int(value)
            if number < 0:
                raise ValueError(f"must not be negative: {value!r}")
            return number
        if kind == "float":
            return float(value)
        if kind in ("Path", "Path | None"):
            return Path(str(value)).expanduser() if str(value) else None
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {type(value).__name__}")
    except ValueError as exc:
        raise ConfigError(f"{source}: {name}: {exc}") from None


def _validate(config: NodeConfig) -> NodeConfig:
    host, sep, port = config.listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"listen: expected HOST:PORT, got {config.listen!r}")
    if config.http:
        h_host, h_sep, h_port = config.http.rpartition(":")
        if not h_sep or not h_host or not h_port.isdigit() or int(h_port) > 65535:
            raise ConfigError(f"http: expected HOST:PORT, got {config.http!r}")
    if config.metrics:
        m_host, m_sep, m_port = config.metrics.rpartition(":")
        if not m_sep or not m_host or not m_port.isdigit() or int(m_port) > 65535:
            raise ConfigError(f"metrics: expected HOST:PORT, got {config.metrics!r}")
    if config.wallet_type not in ("ed25519", "rsa"):
        raise ConfigError(f"wallet_type: expected ed25519 or rsa, got {config.wallet_type!r}")
    if config.log_format not in ("json", "text"):
        raise ConfigError(f"log_format: expected json or text, got {config.log_format!r}")
    if config.log_level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"log_level: expected debug, info, warning or error, got {config.log_level!r}")
    if config.max_message_bytes < 64 * 1024:
        raise ConfigError("max_message_bytes: must be at least 65536")
    if min(config.max_concurrent_rpcs, config.max_concurrent_streams, config.max_pending_rpcs) < 1:
        raise ConfigError("max_concurrent_rpcs, max_concurrent_streams, max_pending_rpcs: must be at least 1")
    for name in ("gossip_interval_seconds", "location_ttl_seconds", "push_retry_max_seconds"):
        if not getattr(config, name) > 0:
            raise ConfigError(f"{name}: must be above 0")
    if not config.relay_window_seconds > 0:
        raise ConfigError("relay_window_seconds: must be above 0")
    if config.read_budget_mib < 1:
        raise ConfigError("read_budget_mib: must be at least 1")
    if config.map_size_mib < 1 or config.max_map_size_mib < config.map_size_mib:
        raise ConfigError("map_size_mib must be >= 1 and <= max_map_size_mib")
    return config


def load_config(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """Merge defaults, the TOML file, the environment and flags (None values in flags are ignored)."""
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if file is not None:
        try:
            document = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"config file {file}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file}: {exc}") from None
        for key, value in document.items():
            name = key.replace("-", "_")
            if isinstance(value, dict) or (
                isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            ):
                extra[key] = value  # [section] tables and [[array]] tables ([[replica]])
            elif name in _FIELDS:
                values[name] = _coerce(name, value, f"config file {file}")
            else:
                raise ConfigError(f"config file {file}: unknown setting {key!r}")
    environ = os.environ if env is None else env
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in _FIELDS:
            values[name] = _coerce(name, value, f"environment {key}")
        # Other AONODE_* variables (AONODE_NODE, AONODE_WALLET) belong to the client commands.
    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in _FIELDS:
            raise ConfigError(f"unknown flag setting {name!r}")
        values[name] = _coerce(name, value, "flag")
    return _validate(dataclasses.replace(NodeConfig(), **values, extra=extra))
