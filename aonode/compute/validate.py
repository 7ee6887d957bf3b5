"""`SpawnValidator`: the scheduler's `ProcessValidator` port, implemented with this node's devices.

A new Process is refused before its slot 0 is written when this node could never compute it:
- its `Execution-Device` (default `lua@5.3a`, as in `definition.py`) is not in the registry: INVALID_ARGUMENT;
- for `wasm64@1.0`: it names no module in the store (FAILED_PRECONDITION: publish the module first), the
  module does not compile (FAILED_PRECONDITION, the device's own error), or it cannot ever compute:
  INVALID_ARGUMENT for an import the device does not provide (naming every such import), an unknown
  `Module-Format` (the Module's tag), a memory of the other width than the format's, or a missing
  `memory`/`handle`/`malloc` export (wasm/formats.py). The check is the device's own
  (`wasm.device.check_module`: the same compile and import resolution as `init`), and the compiled module
  stays in the device's cache, so the first compute does not compile it again.
Other devices (lua@5.3a, stack@1.0, patch@1.0) are checked for their name only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aonode.compute.definition import DEFAULT_DEVICE
from aonode.devices.base import DeviceRegistry
from aonode.devices.registry import WASM
from aonode.errors import FailedPrecondition, InvalidArgument
from aonode.model import Message


class SpawnValidator:
    def __init__(
        self, devices: DeviceRegistry, device_settings: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self._devices = devices
        self._settings = device_settings or {}

    def validate(self, process: Message, module: Message | None) -> None:
        device = process.tag("Execution-Device") or DEFAULT_DEVICE
        self._devices.require(device)
        if device == WASM:
            self._check_wasm(process, module)

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
