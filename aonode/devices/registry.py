"""`default_registry()`: every execution device this node has, by name.

lua@5.3a and wasm64@1.0 are imported on first use (lupa loads a Lua runtime, wasmtime a compiler; nodes
and tests that never run them do not pay for it). stack@1.0 creates its devices from the same registry;
`device_settings` (node settings per device name, as in `ComputeConfig.device_settings`) reach the
devices of a stack through it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from aonode.devices.base import Device, DeviceError, DeviceRegistry
from aonode.devices.patch import PatchDevice
from aonode.devices.stack import StackDevice

LUA = "lua@5.3a"
WASM = "wasm64@1.0"


def _lazy(name: str, module: str, cls: str, dependency: str) -> Device:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name not in (module, dependency):
            raise
        raise DeviceError(f"{name} is not available on this node ({exc})") from exc
    device = getattr(mod, cls)()
    if not isinstance(device, Device):
        raise TypeError(f"{module}.{cls} is not a Device")
    return device


def _lua() -> Device:
    return _lazy(LUA, "aonode.devices.lua", "LuaDevice", "lupa")


def _wasm() -> Device:
    return _lazy(WASM, "aonode.devices.wasm", "WasmDevice", "wasmtime")


def default_registry(device_settings: Mapping[str, Mapping[str, Any]] | None = None) -> DeviceRegistry:
    registry = DeviceRegistry()
    registry.register(LUA, _lua)
    registry.register(WASM, _wasm)
    registry.register(StackDevice.name, lambda: StackDevice(registry, device_settings))
    registry.register(PatchDevice.name, PatchDevice)
    return registry
