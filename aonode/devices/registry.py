"""`default_registry()`: every execution device this node has, by name.

lua@5.3a is imported on first use (lupa loads a Lua runtime; nodes and tests that never run Lua do not pay
for it). stack@1.0 creates its devices from the same registry; `device_settings` (node settings per device
name, as in `ComputeConfig.device_settings`) reach the devices of a stack through it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from aonode.devices.base import Device, DeviceError, DeviceRegistry
from aonode.devices.patch import PatchDevice
from aonode.devices.stack import StackDevice

LUA = "lua@5.3a"


def _lua() -> Device:
    try:
        lua = importlib.import_module("aonode.devices.lua")
    except ModuleNotFoundError as exc:
        if exc.name not in ("aonode.devices.lua", "lupa"):
            raise
        raise DeviceError(f"{LUA} is not available on this node ({exc})") from exc
    device = lua.LuaDevice()
    if not isinstance(device, Device):
        raise TypeError("aonode.devices.lua.LuaDevice is not a Device")
    return device


def default_registry(device_settings: Mapping[str, Mapping[str, Any]] | None = None) -> DeviceRegistry:
    registry = DeviceRegistry()
    registry.register(LUA, _lua)
    registry.register(StackDevice.name, lambda: StackDevice(registry, device_settings))
    registry.register(PatchDevice.name, PatchDevice)
    return registry
