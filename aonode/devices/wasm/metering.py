"""`metering.usegas` inside wasm: a binary metered by `@permaweb/wasm-metering` calls `usegas(n)` at the
start of every basic block (millions of times per AOS eval). As a Python host function that cost ~3 µs a
call (one eval took 16 s); here it is a function of a tiny helper module, instantiated in the same wasmtime
store as the process and linked as the import, so a call is a wasm-to-wasm call.

The helper (WAT below) keeps two mutable i64 globals: `used`, the gas spent in this slot, and `limit`,
the slot's budget. `usegas(n)` adds `n` (an i32 in wasm32 metering, an i64 in wasm64) to `used` and
traps (`unreachable`) once `used` passes `limit`, as the glue's `usegas` throws `out of gas!` when
`gas.used > gas.limit`. The device sets `used` to 0 before each slot (the glue's `gas.refill()`) and
`limit` to the `Compute-Limit` the module or process declares (with none, the glue's default 9e15; the
slot is then bounded by wasmtime fuel), and reads `used` after it: that is the slot's `GasUsed`.
"""

from __future__ import annotations

import threading

import wasmtime

from aonode.devices.wasm import runtime

DEFAULT_GAS_LIMIT = 9_000_000_000_000_000
"""The glue's gas limit when the loader is given no compute limit (ao's `DEFAULT_GAS_LIMIT`)."""

OUT_OF_GAS = "out of gas!"
"""The error of a slot that used more gas than its limit (the ao glue's text)."""

_WAT = """
(module
  (global $used (export "used") (mut i64) (i64.const 0))
  (global $limit (export "limit") (mut i64) (i64.const -1))
  (func (export "usegas") (param $gas {param})
    (global.set $used (i64.add (global.get $used) {widen}))
    (if (i64.gt_u (global.get $used) (global.get $limit)) (then unreachable))))
"""

_modules: dict[str, wasmtime.Module] = {}
_lock = threading.Lock()


def helper_module(param: str) -> wasmtime.Module:
    """The compiled helper whose `usegas` takes an `i32` or an `i64` (compiled once per process)."""
    if param not in ("i32", "i64"):
        raise ValueError(f"usegas takes an i32 or an i64, not {param}")
    with _lock:
        module = _modules.get(param)
        if module is None:
            widen = "(i64.extend_i32_u (local.get $gas))" if param == "i32" else "(local.get $gas)"
            wasm = bytes(wasmtime.wat2wasm(_WAT.format(param=param, widen=widen)))
            module = _modules[param] = wasmtime.Module(runtime.engine(), wasm)
        return module


class Gas:
    """One helper instance in a process's store."""

    def __init__(self, store: wasmtime.Store, param: str) -> None:
        self.store = store
        instance = wasmtime.Instance(store, helper_module(param), [])
        exports = instance.exports(store)
        usegas, used, limit = exports["usegas"], exports["used"], exports["limit"]
        assert isinstance(usegas, wasmtime.Func)
        assert isinstance(used, wasmtime.Global) and isinstance(limit, wasmtime.Global)
        self.usegas = usegas
        self._used = used
        self._limit = limit

    def refill(self, limit: int) -> None:
        """A new slot: nothing used, `limit` to spend."""
        self._used.set_value(self.store, wasmtime.Val.i64(0))
        self._limit.set_value(self.store, wasmtime.Val.i64(_signed(min(limit, (1 << 64) - 1))))

    @property
    def used(self) -> int:
        return int(self._used.value(self.store)) & 0xFFFF_FFFF_FFFF_FFFF

    @property
    def limit(self) -> int:
        return int(self._limit.value(self.store)) & 0xFFFF_FFFF_FFFF_FFFF

    def exhausted(self) -> bool:
        return self.used > self.limit


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value
