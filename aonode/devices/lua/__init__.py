"""lua@5.3a: AO processes written in Lua, run on lupa's Lua 5.3 with HyperBEAM's Lua device ABI.

A process's module defines a global `compute(base, req, opts)`; each slot, the device calls it
with the process state `base` and the assignment `req` (the message under `req.body`), keeps the
table it returns as the new state, and reads the slot's result from `base.results`.

- `device.py`: `LuaDevice`, the `Device` the engine drives (init, compute, read_state, apply_patch);
- `sandbox.py`: one sandboxed VM (`LuaVM`), the whitelist of what process code may use, the limits;
- `convert.py`: messages into flat Lua arguments and flat results back into `Result`s;
- `sandbox.lua`, `stdlib.lua`, `codec.lua`, `patterns.lua`: the host code inside the VM: the
  environment, its limits and the order of keys; the deterministic, metered library functions; the
  per-slot driver and conversions; Lua's string patterns written in Lua.
"""

from aonode.devices.lua.device import NAME, LuaDevice

__all__ = ["NAME", "LuaDevice"]
