"""The execution-device interface every device implements (DESIGN §5), and the registry of devices.

A device instance holds one process's state. The engine creates it (`registry.create(name)`), calls
`init(context)` once, then `compute(assignment, message)` for each slot in order. A fault of the
*process* (an error in its code, a limit exceeded) is never an exception: it is the slot's Result with
`error` set, and the device stays usable for the next slot (restoring its last good state if it must).
Exceptions are for faults of the *host*: `DeviceError` (e.g. a module that cannot be loaded), which the
engine reports as a failed computation. Devices run on worker threads, one slot at a time per instance;
they must not touch the event loop.

Devices that can serialize their state (`can_snapshot`) implement `snapshot`/`restore`; the others are
rebuilt by replaying the schedule. `dryrun` support is the engine's job: it snapshots and restores a
device that can, and otherwise discards the instance after a dryrun.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from aonode.errors import FailedPrecondition, InvalidArgument
from aonode.ids import ProcessId
from aonode.model import Assignment, Message, Result


class DeviceError(FailedPrecondition):
    """A host-side fault: the device cannot run this process (missing/invalid module, bad definition)."""


class UnknownDeviceError(InvalidArgument):
    """The process names an execution device this node does not have."""


@dataclass(frozen=True)
class Limits:
    """Per-slot resource limits, from the process definition within the node's caps."""

    instructions: int = 100_000_000
    """Lua VM instructions (count-hook units) or WASM fuel per slot."""

    memory_bytes: int = 256 * 1024 * 1024
    """Most memory the process's state may use."""

    wall_seconds: float = 10.0
    """Wall-clock backstop per slot (a non-deterministic safety net; the instruction budget is primary)."""


class ArtifactStore(Protocol):
    """Where a device keeps what it derives from a module and does not want to derive again (the wasm
    device: a legacy-EH module's translation), keyed by `kind` and the module's digest. A cache: `get`
    may answer None for anything, `put` may drop what it is given. The node's implementation keeps them
    in its store (`compute/artifacts.py`); devices reach it through the `artifacts` device setting."""

    def get_artifact(self, kind: str, key: bytes) -> bytes | None: ...

    def put_artifact(self, kind: str, key: bytes, data: bytes) -> None: ...


ARTIFACTS_SETTING = "artifacts"
"""The device setting that holds the node's `ArtifactStore` (set by the node, not by its configuration)."""


@dataclass(frozen=True)
class ProcessContext:
    """What a device is initialised with."""

    process_id: ProcessId
    process: Message
    """The Process message (slot 0 of the schedule)."""

    process_assignment: Assignment
    """Slot 0's assignment (gives the process's start timestamp and block)."""

    module: Message | None
    """The module message (its data is the code), or None for a device that takes no module."""

    limits: Limits = field(default_factory=Limits)
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Node-level settings of this device (from the node's configuration)."""
    read_data: Callable[[str], bytes | None] | None = None
    """The data of a stored message by its text ID, or None when it is not stored (WeaveDrive)."""
    read_message: Callable[[str], Message | None] | None = None
    """A stored message by its text ID, or None when it is not stored (WeaveDrive's `/tx/<ID>`)."""


class Device(ABC):
    """One process's execution state."""

    name: ClassVar[str]
    can_snapshot: ClassVar[bool] = False
    last_slot_nondeterministic: bool = False
    """Set by `compute` when the slot was cut short by something not deterministic (the wall-clock
    backstop): that result must not be stored or compared, and the instance must not be reused."""

    @abstractmethod
    def init(self, context: ProcessContext) -> None:
        """Load the module and prepare the initial state. Raises DeviceError if that is impossible."""

    @abstractmethod
    def compute(self, assignment: Assignment, message: Message) -> Result:
        """Run one slot. Process faults become `Result.error`; the state then is that of the last good slot
        or the slot's effects (device-defined, deterministic either way)."""

    def snapshot(self) -> bytes | None:
        """The state as bytes, or None when the device cannot serialize it."""
        return None

    def restore(self, data: bytes) -> None:
        """Replace the state with a snapshot taken by the same device kind."""
        raise DeviceError(f"{self.name} cannot restore snapshots")

    def restore_chunks(self, chunks: Sequence[bytes]) -> None:
        """`restore` from a snapshot given as consecutive pieces (the store keeps snapshots as pages). By
        default the pieces are joined; a device with a large state restores from them in place."""
        self.restore(b"".join(chunks))

    def memory_bytes(self) -> int:
        """Approximate memory held (for the engine's LRU of live workers)."""
        return 0

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release resources."""

    def interrupt(self) -> None:  # noqa: B027 (optional hook)
        """Stop the running slot (and any later one) soon; called from another thread when the node
        stops. The slot then ends as a wall-clock stop does (`last_slot_nondeterministic`), and the
        instance is not used again. Must be thread-safe and must not block."""


DeviceFactory = Callable[[], Device]


class DeviceRegistry:
    """Device factories by name (e.g. `lua@5.3a`, `wasm64@1.0`, `stack@1.0`, `patch@1.0`)."""

    def __init__(self) -> None:
        self._factories: dict[str, DeviceFactory] = {}

    def register(self, name: str, factory: DeviceFactory) -> None:
        self._factories[name] = factory

    def create(self, name: str) -> Device:
        self.require(name)
        return self._factories[name]()

    def require(self, name: str) -> None:
        """UnknownDeviceError unless this registry has a device `name`."""
        if name not in self._factories:
            known = ", ".join(sorted(self._factories)) or "none"
            raise UnknownDeviceError(f"unknown execution device {name!r} (this node has: {known})")

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories
