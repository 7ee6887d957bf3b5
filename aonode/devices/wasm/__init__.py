"""wasm64@1.0: AOS json-iface modules on wasmtime (DESIGN §5, docs/wasm.md).

`device.py` is the Device (per-slot JSON in/out, limits, trap recovery, snapshots), `runtime.py` the shared
engine, the compiled-module cache and the raw C-API call path, `imports.py` the WASI/emscripten host
functions, `iface.py` the message/env JSON and the mapping of the module's answer to a Result.
"""

from aonode.devices.wasm.device import WasmDevice

__all__ = ["WasmDevice"]
