"""Execution devices: the code that runs a process's slots (DESIGN §5).

`base` holds the interface (`Device`, `ProcessContext`, `Limits`, `DeviceRegistry`); each device lives in
its own subpackage (`lua` for lua@5.3a, `aos` for the built-in AOS runtime written in Lua, `stack` and
`patch`, later `wasm`). `default_registry()` returns a registry with every device this node has.
"""

from aonode.devices.base import (
    Device,
    DeviceError,
    DeviceFactory,
    DeviceRegistry,
    Limits,
    ProcessContext,
    UnknownDeviceError,
)

__all__ = [
    "Device",
    "DeviceError",
    "DeviceFactory",
    "DeviceRegistry",
    "Limits",
    "ProcessContext",
    "UnknownDeviceError",
]
