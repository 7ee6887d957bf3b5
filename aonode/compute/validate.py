"""`SpawnValidator`: the scheduler's `ProcessValidator` port, implemented with this node's devices.

A new Process is refused before its slot 0 is written when this node could never compute it:
- its device (`definition.device_of`: `Execution-Device`, or from the module's `Module-Format` when it
  names none or `genesis-wasm@1.0`) is not in the registry: INVALID_ARGUMENT;
- for `wasm64@1.0`: it names no module in the store (FAILED_PRECONDITION: publish the module first), the
  module does not compile (FAILED_PRECONDITION, the device's own error), or it cannot ever compute:
  INVALID_ARGUMENT for an import the device does not provide (naming every such import), an unknown
  `Module-Format` (the Module's tag), a memory of the other width than the format's, or a missing
  `memory`/`handle`/`malloc` export (wasm/formats.py). The check is the device's own
  (`wasm.device.check_module`: the same compile and import resolution as `init`), and the compiled module
  stays in the device's cache, so the first compute does not compile it again.
- for `lua@5.3a`: a Process with no usable module would be accepted and then fail every compute ("needs a
  module"), so it is refused: no `Module` tag and not an inline module (`definition.is_inline_module`:
  a Lua Content-Type, the Process's data is the source): INVALID_ARGUMENT; a `Module` that names neither a
  stored message nor the built-in AOS runtime: FAILED_PRECONDITION (publish the module first, as for
  WASM); a module that is not Lua code (empty, or a WASM binary): INVALID_ARGUMENT. Whether the Lua
  parses is left to the first compute (its error is the process's own result).
Other devices (stack@1.0, patch@1.0) are checked for their name only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aonode.compute.definition import builtin_runtime_module, device_of, is_inline_module
from aonode.devices.base import DeviceRegistry
from aonode.devices.registry import LUA, WASM
from aonode.errors import FailedPrecondition, InvalidArgument
from aonode.ids import encode_id
from aonode.model import Message


class SpawnValidator:
    def __init__(
        self, devices: DeviceRegistry, device_settings: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self._devices = devices
        self._settings = device_settings or {}

    def validate(self, process: Message, module: Message | None) -> None:
        device = device_of(process, module if module is not None else builtin_runtime(process))
        self._devices.require(device)
        if device == WASM:
            self._check_wasm(process, module)
        elif device == LUA:
            self._check_lua(process, module)

    def _check_lua(self, process: Message, module: Message | None) -> None:
        named = process.tag("Module")
        if named is None:
            if is_inline_module(process):
                module = process
            else:
                raise InvalidArgument(
                    f"{LUA} needs a module: the Process has no Module tag and is not an inline Lua module "
                    "(Content-Type application/lua or text/x-lua, the source as data)"
                )
        elif module is None:
            if builtin_runtime(process) is not None:  # used by ID, not stored (definition.py)
                return
            raise FailedPrecondition(f"{LUA}: module {named.strip()[:64]} is not in this node's store")
        if not module.data or module.data.startswith(b"\0asm"):
            what = "empty" if not module.data else "a WASM binary"
            raise InvalidArgument(f"{LUA}: the module is {what}, not Lua source")

    def _check_wasm(self, process: Message, module: Message | None) -> None:
        if module is None:
            named = process.tag("Module")
            if named is None:
                raise InvalidArgument(f"{WASM} needs a module: the Process has no Module tag")
            raise FailedPrecondition(f"{WASM}: module {named.strip()[:64]} is not in this node's store")
        from aonode.devices.wasm.device import check_module  # wasmtime loads on first use
        from aonode.devices.wasm.formats import FormatError
        from aonode.devices.wasm.imports import MissingExportsError, MissingImportsError

        try:
            check_module(module.data, self._settings.get(WASM, {}), module.tag("Module-Format"))
        except (MissingImportsError, MissingExportsError, FormatError) as exc:
            raise InvalidArgument(str(exc)) from None


def builtin_runtime(process: Message) -> Message | None:
    """The built-in runtime when `process` names it as its Module (it is used by ID, not stored)."""
    runtime = builtin_runtime_module()
    named = process.tag("Module")
    if runtime is not None and named is not None and named.strip() == encode_id(runtime.id):
        return runtime
    return None
