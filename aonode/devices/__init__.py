"""Execution devices: the code that runs a process's slots (DESIGN §5).

`base` holds the interface (`Device`, `ProcessContext`, `Limits`, `DeviceRegistry`); each device lives in
its own module or subpackage (`lua` for lua@5.3a, `aos` for the built-in AOS runtime written in Lua,
`wasm` for wasm64@1.0, `stack` and `patch`). `registry.default_registry()` returns a registry with every
device this node has (lua and wasm imported on first use).
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
