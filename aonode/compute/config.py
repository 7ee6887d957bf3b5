"""Compute configuration, the record a computed slot is returned as, and the schedule port the engine reads.

`ScheduleSource` is a `Protocol`: the scheduler's `Scheduler`/`ScheduleReader` satisfy it, and so can a
replica's reader or a test double, without the engine importing the scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aonode.devices.base import Limits
from aonode.ids import ProcessId
from aonode.model import Assignment, Message, Result

GiB = 1024**3


@dataclass(frozen=True)
class ComputeConfig:
    max_workers: int = 256
    """Live workers (initialised devices holding a process's state between requests) kept in the LRU.
    0 keeps none: every computation starts from a snapshot or from slot 0. The byte bound below is the one
    that matters; this one bounds the bookkeeping of many tiny workers."""

    max_worker_memory: int = 1 * GiB
    """Bound on the sum of the live workers' costs (`Worker.cost`: the device's `memory_bytes()`, the data of
    the Process and module messages, a fixed overhead); least recently used workers are dropped beyond it
    (a single worker above the bound is not kept). With it the node's RSS stays under about 0.3 GiB + this,
    however many processes are idle (docs/compute.md, "Live workers and memory"). TOML:
    `[compute] max_worker_memory_mib`."""

    threads: int = 2
    """Fast lanes: how many computations may start at once (device work runs on threads, off the event
    loop; lupa and wasmtime release the GIL while they run). A computation that has run `slow_after`
    seconds leaves its fast lane (it goes on, on its thread), so slow processes cannot hold every lane:
    see docs/compute.md, Fairness."""

    max_threads: int = 16
    """Compute threads in all: fast lanes plus computations that went slow. A new computation waits only
    when `threads` computations started less than `slow_after` seconds ago, or when this many run."""

    slow_after: float = 0.25
    """Seconds after which a running computation stops counting against the fast lanes."""

    max_result_bytes: int = 8 * 1024 * 1024
    """Largest result of a slot, measured on its canonical encoding (`codec.encode_result`, identical on
    every node). A slot whose result is larger gets an error result saying so instead (it is stored and
    served like any result), so nothing is stored that could not be sent (the default gRPC send limit is
    16 MiB). Part of the determinism contract: nodes computing the same process need the same value."""

    max_instructions: int = 9_000_000_000_000
    """Node cap on a process's `Compute-Limit` (instructions per slot; AOS spawns with 9e12). A process
    declaring more is refused (FAILED_PRECONDITION), never clamped: see docs/compute.md."""

    max_memory_bytes: int = 16 * GiB
    """Node cap on a process's `Memory-Limit` (AOS spawns with "1-gb" to "16-gb")."""

    max_wall_seconds: float = 10.0
    """Wall-clock backstop per slot handed to devices (not from the process definition: it is not
    deterministic, so only the node decides it)."""

    default_limits: Limits = field(default_factory=Limits)
    """Limits of a process that declares none (each field used where the definition is silent)."""

    snapshot_every: int = 1000
    """For devices that can snapshot: store the state after every slot that is a multiple of this (0: never).
    A computation starts from the nearest snapshot when no live worker is nearer."""

    snapshot_seconds: float = 0.0
    """For devices that can snapshot: also store the state after a computed slot when at least this many
    seconds passed since the worker's last snapshot (or since it started), so a slow process is
    snapshotted even between multiples of `snapshot_every` (0: off). Snapshots are a cache of state that
    replay would rebuild identically, so a cadence that depends on the clock changes no result."""

    write_every: int = 256
    """Slots per result batch: results are submitted to the store's group commit every this many slots
    (or `write_bytes`), without waiting; a reply waits for the batch holding its result to be durable."""

    write_bytes: int = 4 * 1024 * 1024
    """Submit the result batch early when its payload reaches this size."""

    read_chunk: int = 256
    """Assignments read from the schedule per read while computing."""

    fail_on_divergence: bool = True
    """When a recomputation (replay after a restart, eviction or dryrun) gives a slot a result that differs
    from the stored one, stop with DATA_LOSS naming the slot. False: log it, keep the stored result (it was
    served already) and go on with the recomputed state."""

    device_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Node-level settings per device name, handed to devices as `ProcessContext.settings`."""

    operators: tuple[str, ...] = ()
    """Addresses allowed to lift a stalled process (`ComputeEngine.resume`); the node adds its own."""

    def __post_init__(self) -> None:
        names = ("max_workers", "max_worker_memory", "snapshot_every", "snapshot_seconds", "max_instructions")
        for name in names:
            if getattr(self, name) < 0:
                raise ValueError(f"ComputeConfig.{name} must be >= 0")
        for name in ("threads", "write_every", "read_chunk", "write_bytes", "max_result_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"ComputeConfig.{name} must be >= 1")
        if self.max_threads < self.threads:
            raise ValueError("ComputeConfig.max_threads must be >= threads")
        if self.slow_after <= 0:
            raise ValueError("ComputeConfig.slow_after must be > 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None, **base: Any) -> ComputeConfig:
        """The node's `[compute]` TOML table over `base`: `threads`, `max_threads`, `slow_after`,
        `max_result_bytes`, `max_wall_seconds`, `max_workers`, `max_worker_memory_mib`, `operators`
        (addresses). ValueError for anything else."""
        given = {str(k).replace("-", "_"): v for k, v in (values or {}).items()}
        worker_mib = given.pop("max_worker_memory_mib", None)
        types: dict[str, Any] = {
            "max_workers": int,
            "threads": int,
            "max_threads": int,
            "slow_after": float,
            "max_result_bytes": int,
            "max_wall_seconds": float,
        }
        unknown = sorted(set(given) - set(types) - {"operators"})
        if unknown:
            raise ValueError(f"compute config: unknown setting(s) {', '.join(unknown)}")
        settings = dict(base)
        for name, value in given.items():
            if name == "operators":
                if isinstance(value, str):
                    value = [a.strip() for a in value.split(",") if a.strip()]
                settings["operators"] = (*settings.get("operators", ()), *map(str, value))
            else:
                settings[name] = types[name](value)
        if worker_mib is not None:
            settings["max_worker_memory"] = int(worker_mib) * 1024 * 1024
        if settings.get("max_wall_seconds", 1.0) <= 0:
            raise ValueError("compute config: max_wall_seconds must be > 0")
        return cls(**settings)


@dataclass(frozen=True)
class SlotResult:
    """A computed slot: its Result, the hashpath naming the state after it, and the Result's digest
    (blake3 of `aonode.codec.encode_result`, also its object key in the store)."""

    process: ProcessId
    slot: int
    result: Result
    hashpath: bytes
    result_digest: bytes


class ProcessHeadLike(Protocol):
    """What the engine needs of a schedule's head (`aonode.scheduler.ProcessHead` has it)."""

    @property
    def slot(self) -> int: ...


class SchedulePageLike(Protocol):
    """What the engine needs of a schedule page (`aonode.scheduler.SchedulePage` has it)."""

    @property
    def assignments(self) -> Sequence[Assignment]: ...

    @property
    def messages(self) -> Sequence[Message]: ...


class ScheduleSource(Protocol):
    """The schedule reads the engine uses (satisfied by `aonode.scheduler.Scheduler`)."""

    def head(self, process: bytes) -> ProcessHeadLike:
        """The committed tip; raises NotFound for an unknown process."""
        ...

    def read_assignments(self, process: bytes, from_slot: int, count: int) -> list[Assignment]:
        """Exactly `count` committed assignments from `from_slot` (DataLoss on a hole)."""
        ...

    def get_message(self, message_id: bytes) -> Message:
        """A stored message by ID; raises NotFound."""
        ...

    def get_schedule(
        self,
        process: bytes,
        from_slot: int = 0,
        to_slot: int | None = None,
        limit: int | None = None,
        include_messages: bool = False,
    ) -> SchedulePageLike:
        """Assignments `from_slot..to_slot` (inclusive) with their messages, read together (the fast path;
        DataLoss when anything is missing, which the engine then pins down slot by slot)."""
        ...
