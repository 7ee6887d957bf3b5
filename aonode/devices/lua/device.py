"""`LuaDevice`: the lua@5.3a execution device (DESIGN §5), HyperBEAM's Lua ABI on lupa's Lua 5.3.

`init` creates a sandboxed VM (sandbox.py), runs the module once, checks that it defines a global
`compute`, installs `ao.event/resolve/set` (merged into the module's `ao`), and builds the initial
state `base` from the Process message: its tags as lower-case keys, `process` (the message as a
table), `at-slot` = -1, `results` = {}. `ao.resolve` here only reads paths in tables
(`ao.resolve(t, "a/b")` → "ok", value); other forms answer "error", "not supported", since this node
has no HyperBEAM resolver; `ao.event` does nothing.

`compute` makes one call into Lua per slot (codec.lua's run_slot) and turns the flat answer into a
`Result`. A Lua error, an exceeded limit or a result that cannot be converted is an
error Result; the VM stays usable and `base` stays the table it was before the slot. Globals the
slot changed before failing stay changed: the VM is kept, not rolled back. (HyperBEAM's luerl
state is an immutable value, so there a failed slot leaves no trace at all; rolling a lupa VM
back would need a deep copy per slot.) Memory errors while the host itself runs are error Results
too; any other error of the host code is a `DeviceError`.

A message whose data and tags together are larger than the process's memory limit is not handed to
the VM at all: its slot's result is the error "the message (N bytes) is larger than the process's
memory limit (M bytes)" (a function of the message and the limit only). A smaller message that does
not fit in what the state leaves free gives "memory limit exceeded" (sandbox.py: the cap is lifted
while lupa pushes arguments, then set back before any Lua runs, so the node itself never aborts).

Limits come from `ProcessContext.limits`: the instruction budget per slot (and for the module load),
`max_memory` for the VM, and a wall-clock deadline per slot. The wall clock is a backstop and not
deterministic: a slot stopped by it has the error "wall-clock limit exceeded" and
`last_slot_nondeterministic` is True, so the engine can decline to store that result.

`Result.gas_used` (ao's `GasUsed`) is 0 for every Lua slot. The budget is counted by a `debug.sethook`
count hook that fires every N instructions, so an "instruction count" would be a multiple of N, a tuning
constant of this device, and putting it in the result digest would tie replicas to that constant; ao's
own `GasUsed` is the WASM glue's meter, which no Lua runtime (HyperBEAM's luerl device included) reports.

The state cannot be serialized (`can_snapshot` is False): a worker is rebuilt by replaying the
schedule. For the stack and patch devices there are `apply_patch` (deep-merge a mapping into
`base`) and `read_state` (a value of `base` at a path, as JSON-like Python data).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from aonode.devices.base import Device, DeviceError, Limits, ProcessContext
from aonode.devices.lua import convert
from aonode.devices.lua.sandbox import LuaError, LuaMemoryError, LuaVM
from aonode.model import Assignment, Message, Result

NAME = "lua@5.3a"
WALL_CLOCK_ERROR = "wall-clock limit exceeded"


def too_large_error(size: int, limit: int) -> str:
    return f"the message ({size} bytes) is larger than the process's memory limit ({limit} bytes)"


class _Deadline:
    """The wall-clock deadline of the running slot. The VM holds `passed` (Lua's count hook, which runs every
    1,000 instructions, calls it once a second, and costly library calls before they run); it is a separate
    object so that the VM holds no reference to the device, and dropping the device frees the VM at once
    instead of at the next cyclic garbage collection."""

    __slots__ = ("at", "stopped")

    def __init__(self) -> None:
        self.at = 0.0
        self.stopped = False
        """Set by `LuaDevice.interrupt` (node stopping): every check answers "passed" from then on."""

    def start(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def passed(self) -> bool:
        return self.stopped or time.monotonic() > self.at


class LuaDevice(Device):
    """One process on a Lua 5.3 VM."""

    name: ClassVar[str] = NAME
    can_snapshot: ClassVar[bool] = False

    def __init__(self) -> None:
        self._vm: LuaVM | None = None
        self._limits = Limits()
        self._deadline = _Deadline()
        self._process_text = b""
        self.last_slot_nondeterministic = False
        """True when the last slot was stopped by the wall clock (its result depends on timing)."""

    # -- lifecycle ------------------------------------------------------------------------------

    def init(self, context: ProcessContext) -> None:
        module = context.module
        if module is None:
            raise DeviceError(f"{NAME} needs a module (the Lua source of the process)")
        self._limits = context.limits
        pid = bytes(context.process_id)
        self._process_text = convert.id_text(pid)
        seed = (
            int.from_bytes(pid[0:8], "little", signed=True),
            int.from_bytes(pid[8:16], "little", signed=True),
        )
        try:
            vm = LuaVM(memory_bytes=context.limits.memory_bytes, seed=seed, timed_out=self._deadline.passed)
        except LuaMemoryError:
            raise DeviceError(f"{NAME}: the memory limit is too small for the sandbox itself") from None
        except LuaError as exc:
            raise DeviceError(f"{NAME}: the sandbox failed to start: {exc}") from None
        try:
            process_args = convert.message_args(context.process)
        except UnicodeEncodeError as exc:
            raise DeviceError(f"{NAME}: the Process message cannot be converted: {exc}") from None
        size = convert.message_size(process_args)
        if size > context.limits.memory_bytes:
            raise DeviceError(f"{NAME}: {too_large_error(size, context.limits.memory_bytes)}")
        started = context.process_assignment.timestamp // 1000
        self._deadline.start(context.limits.wall_seconds)
        try:
            reply = vm.run_init(context.limits.instructions, started, module.data, *process_args)
        except LuaMemoryError:
            vm.clear_hook()
            raise DeviceError(f"{NAME}: the module failed to load: {convert.MEMORY_ERROR}") from None
        except LuaError as exc:
            vm.clear_hook()
            raise DeviceError(f"{NAME}: the host failed loading the module: {exc}") from None
        ok, message = reply if isinstance(reply, tuple) else (reply, None)
        if ok is not True:
            raise DeviceError(f"{NAME}: {convert.error_text(message)}")
        self._vm = vm

    def close(self) -> None:
        self._vm = None

    def interrupt(self) -> None:
        # The count hook polls the deadline once a second: the running slot stops as at the wall clock
        # within ~1 s (the engine knows it is stopping and stores nothing of that slot).
        self._deadline.stopped = True

    # -- slots ----------------------------------------------------------------------------------

    def compute(self, assignment: Assignment, message: Message) -> Result:
        vm = self._require_vm()
        self.last_slot_nondeterministic = False
        try:
            margs = convert.message_args(message)
        except UnicodeEncodeError as exc:
            return Result(error=f"the message cannot be converted for Lua: {exc}")
        size = convert.message_size(margs)
        if size > self._limits.memory_bytes:
            return Result(error=too_large_error(size, self._limits.memory_bytes))
        ts = assignment.timestamp
        self._deadline.start(self._limits.wall_seconds)
        try:
            reply = vm.run_slot(
                self._limits.instructions, assignment.slot, ts, assignment.block_height, ts // 1000,
                convert.id_text(assignment.hash_chain),
                convert.id_text(assignment.process) or self._process_text,
                assignment.epoch, *margs,
            )  # fmt: skip
        except LuaMemoryError:
            vm.clear_hook()
            return Result(error=convert.MEMORY_ERROR)
        except LuaError as exc:
            vm.clear_hook()
            raise DeviceError(f"{NAME}: host error while computing slot {assignment.slot}: {exc}") from None
        if reply[0] is True:
            return convert.parse_result(reply)
        error = convert.error_text(reply[1])
        if error == WALL_CLOCK_ERROR:
            self.last_slot_nondeterministic = True
        return Result(error=error)

    # -- state ----------------------------------------------------------------------------------

    def memory_bytes(self) -> int:
        return 0 if self._vm is None else self._vm.memory_used()

    def apply_patch(self, patch: Mapping[str, Any]) -> None:
        """Deep-merge `patch` into the state: nested mappings merge into tables, other values (lists
        included) replace; None values are skipped."""
        vm = self._require_vm()
        plain = convert.to_lua_plain(dict(patch))
        try:
            table = vm.table_from(plain, convert.plain_size(plain))
            vm.patch(table)
        except LuaMemoryError:
            raise DeviceError(f"{NAME}: {convert.MEMORY_ERROR} while applying a patch") from None

    def read_state(self, path: str) -> Any:
        """The state at a `/`-separated path (`""` for all of it) as JSON-like Python data, or None.
        Lists are tables with keys 1..n; other tables are dicts with text keys; functions and
        cycles read as None."""
        vm = self._require_vm()
        segments = [s.encode() for s in path.split("/") if s]
        try:
            encoded = vm.export(*segments)
        except LuaMemoryError:
            raise DeviceError(f"{NAME}: {convert.MEMORY_ERROR} while reading the state") from None
        if encoded is None:
            return None
        return json.loads(convert.text(encoded))

    def _require_vm(self) -> LuaVM:
        if self._vm is None:
            raise DeviceError(f"{NAME}: the device is not initialised (or was closed)")
        return self._vm
