"""A process's definition, read from its Process message (slot 0 of its schedule): which device runs it,
with which module and within which limits.

- `Execution-Device` names the device (default `lua@5.3a`); `stack@1.0` reads its own `Execution-Stack`.
  A Process from an AO client names none (aoconnect legacy) or `genesis-wasm@1.0` (aoconnect mainnet,
  HyperBEAM's legacy-CU device): then the module's `Module-Format` decides (`device_of`): a `wasm…` format
  runs on `wasm64@1.0` (which runs wasm32 and wasm64 AOS builds), anything else on `lua@5.3a`.
- `Module` is the module message's ID, read through the schedule (`get_message`). The built-in AOS runtime
  (`aonode.devices.aos.runtime_module()`) is used by ID even when it is not in the store. A Module that
  cannot be found is a host fault (`DeviceError`): the request fails, nothing is computed.
- An inline module: a Process message with no `Module` tag whose `Content-Type` is `application/lua` or
  `text/x-lua` (HyperBEAM's dev_lua takes a `module` that is a message with one of these content types
  as the literal Lua module, its code in the body/data) is its own module: its data is the Lua source and
  the module message handed to the device is the Process message itself. A `Module` tag always wins. A
  Process with neither has no module (`None`; a device that needs one refuses it).
- `Compute-Limit` (instructions per slot, an integer) and `Memory-Limit` (bytes: an integer, or AO's
  `1-gb` / `512-mb` forms, binary multiples) are read from the Module message first (where ao's CU reads
  them: a published AOS module carries e.g. `9000000000000` and `1-gb`), then from the Process, whose
  tags override the module's. Each must lie within the node's caps. A module or process declaring more is
  refused with FAILED_PRECONDITION (as ao's CU refuses a module over its maxima), never clamped: clamping
  would let two nodes with different caps compute different results for the same schedule. What neither
  declares comes from the node's default limits (cut to the caps; processes that need the same limits
  everywhere declare them), except that a `wasm64@1.0` process gets at least `WASM_DEFAULT_INSTRUCTIONS`
  (booting AOS at slot 0 takes 0.6-1.3e8 fuel, more than the node's 1e8 default); the wall-clock
  backstop is always the node's.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from aonode.compute.config import ComputeConfig, ScheduleSource
from aonode.compute.errors import DefinitionError, MissingMessageError, ScheduleBrokenError
from aonode.devices.base import DeviceError, Limits, ProcessContext
from aonode.errors import DataLoss, NotFound
from aonode.ids import InvalidIdError, ProcessId, decode_id, encode_id, next_hash_chain
from aonode.model import Assignment, Message

DEFAULT_DEVICE = "lua@5.3a"
WASM_DEVICE = "wasm64@1.0"
WASM_DEFAULT_INSTRUCTIONS = 1_000_000_000
"""Fuel per slot of a wasm process that declares no Compute-Limit (nor does its module): about 8 AOS boots."""
AO_DEVICE_ALIASES = frozenset({"genesis-wasm@1.0"})
"""Execution devices AO clients name that mean "whatever runs the module" (see `device_of`)."""
INLINE_LUA_TYPES = frozenset({"application/lua", "text/x-lua"})
"""Content-Types that make a Process without a `Module` tag its own (inline) Lua module (as dev_lua's)."""

_UNITS = {"": 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_SIZE = re.compile(r"\s*(\d+)\s*-?\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from `"1073741824"`, `"1-gb"`, `"512-mb"`, `"64kb"` (binary multiples). ValueError otherwise."""
    m = _SIZE.fullmatch(text)
    if m is None or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text[:64]!r} (expected bytes, or N-kb|mb|gb|tb)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


@dataclass(frozen=True)
class ProcessDefinition:
    process_id: ProcessId
    process: Message
    assignment: Assignment
    """Slot 0's assignment."""
    device: str
    module: Message | None
    limits: Limits
    read_data: Callable[[str], bytes | None] | None = None
    read_message: Callable[[str], Message | None] | None = None

    def context(self, config: ComputeConfig) -> ProcessContext:
        return ProcessContext(
            process_id=self.process_id,
            process=self.process,
            process_assignment=self.assignment,
            module=self.module,
            limits=self.limits,
            settings=config.device_settings.get(self.device, {}),
            read_data=self.read_data,
            read_message=self.read_message,
        )


def load_definition(schedule: ScheduleSource, process: ProcessId, config: ComputeConfig) -> ProcessDefinition:
    """Read and check the definition of `process` (its slot 0)."""
    pid = encode_id(process)
    try:
        (first,) = schedule.read_assignments(process, 0, 1)
    except DataLoss as exc:
        raise ScheduleBrokenError(f"process {pid}: slot 0: {exc}") from exc
    if first.message != process or first.hash_chain != next_hash_chain(process, process):
        raise ScheduleBrokenError(f"process {pid}: slot 0 does not hold the Process message itself")
    try:
        message = schedule.get_message(process)
    except NotFound as exc:
        raise MissingMessageError(f"process {pid}: slot 0: the Process message is not in the store") from exc
    if bytes(message.id) != bytes(process):
        raise ScheduleBrokenError(f"process {pid}: slot 0: the stored Process message has another ID")
    module = _module(schedule, message, pid)
    device = device_of(message, module)
    return ProcessDefinition(
        process_id=process,
        process=message,
        assignment=first,
        device=device,
        module=module,
        limits=limits_of(message, config, module if module is not message else None, device),
        read_data=_data_reader(schedule),
        read_message=_message_reader(schedule),
    )


def device_of(process: Message, module: Message | None) -> str:
    """The device that runs `process`: its `Execution-Device`, unless absent or an AO alias
    (`AO_DEVICE_ALIASES`); then `wasm64@1.0` for a module whose `Module-Format` is a wasm one, else
    `lua@5.3a`."""
    named = process.tag("Execution-Device")
    if named is not None and named not in AO_DEVICE_ALIASES:
        return named
    fmt = module.tag("Module-Format") if module is not None and module is not process else None
    if fmt is not None and fmt.strip().lower().startswith("wasm"):
        return WASM_DEVICE
    return DEFAULT_DEVICE


def _data_reader(schedule: ScheduleSource) -> Callable[[str], bytes | None]:
    """WeaveDrive's view of the store: a message's data by its text ID, None when it is not stored."""

    def read(text: str) -> bytes | None:
        try:
            return schedule.get_message(decode_id(text, "ID")).data
        except (InvalidIdError, NotFound):
            return None

    return read


def _message_reader(schedule: ScheduleSource) -> Callable[[str], Message | None]:
    """WeaveDrive's `/tx/<ID>`: a stored message by its text ID, None when it is not stored."""

    def read(text: str) -> Message | None:
        try:
            return schedule.get_message(decode_id(text, "ID"))
        except (InvalidIdError, NotFound):
            return None

    return read


def limits_of(
    message: Message, config: ComputeConfig, module: Message | None = None, device: str | None = None
) -> Limits:
    """The process's limits: what its module declares, overridden by what the process declares
    (DefinitionError beyond the node's caps), else the node's defaults (themselves cut to the caps; for
    a wasm process at least WASM_DEFAULT_INSTRUCTIONS)."""
    d = config.default_limits
    instructions = d.instructions
    if device == WASM_DEVICE:
        instructions = max(instructions, WASM_DEFAULT_INSTRUCTIONS)
    limits = Limits(
        instructions=min(instructions, config.max_instructions),
        memory_bytes=min(d.memory_bytes, config.max_memory_bytes),
        wall_seconds=config.max_wall_seconds,
    )
    if module is not None:
        try:
            limits = _declared(module, config, limits)
        except DefinitionError as exc:
            raise DefinitionError(f"the module's {exc}") from None
    return _declared(message, config, limits)


def _declared(message: Message, config: ComputeConfig, limits: Limits) -> Limits:
    """`limits` with the `Compute-Limit` and `Memory-Limit` that `message` declares."""
    text = message.tag("Compute-Limit")
    if text is not None:
        if not text.strip().isdigit():
            raise DefinitionError(f"Compute-Limit {text[:64]!r} is not a whole number of instructions")
        instructions = int(text)
        if instructions > config.max_instructions:
            raise DefinitionError(
                f"Compute-Limit {instructions} exceeds this node's cap of {config.max_instructions}"
            )
        limits = replace(limits, instructions=instructions)
    text = message.tag("Memory-Limit")
    if text is not None:
        try:
            memory = parse_size(text)
        except ValueError as exc:
            raise DefinitionError(f"Memory-Limit: {exc}") from None
        if memory > config.max_memory_bytes:
            raise DefinitionError(
                f"Memory-Limit {memory} bytes exceeds this node's cap of {config.max_memory_bytes}"
            )
        limits = replace(limits, memory_bytes=memory)
    return limits


def is_inline_module(process: Message) -> bool:
    """Whether `process` carries its own Lua module: no `Module` tag, a Lua Content-Type (media type only,
    any case; parameters such as `; charset=utf-8` are ignored)."""
    if process.tag("Module") is not None:
        return False
    content_type = process.tag("Content-Type")
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() in INLINE_LUA_TYPES


def _module(schedule: ScheduleSource, process: Message, pid: str) -> Message | None:
    text = process.tag("Module")
    if text is None:
        return process if is_inline_module(process) else None
    try:
        module_id = decode_id(text.strip(), "Module")
    except InvalidIdError as exc:
        raise DefinitionError(f"process {pid}: {exc}") from None
    runtime = builtin_runtime_module()
    if runtime is not None and runtime.id == module_id:
        return runtime
    try:
        return schedule.get_message(module_id)
    except NotFound:
        raise DeviceError(f"process {pid}: module {encode_id(module_id)} is not in the store") from None


@functools.cache
def builtin_runtime_module() -> Message | None:
    """The built-in AOS runtime's module message, when this node has it."""
    try:
        aos = importlib.import_module("aonode.devices.aos")
    except ModuleNotFoundError as exc:
        if exc.name != "aonode.devices.aos":
            raise
        return None
    module = aos.runtime_module()
    if not isinstance(module, Message):
        raise TypeError("aonode.devices.aos.runtime_module() did not return a Message")
    return module
