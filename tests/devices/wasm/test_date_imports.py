"""emscripten's date imports through a real wasmtime instance: struct tm as a wasm64 build lays it out (nine
i32 fields, then tm_gmtoff as an i64 at 40) and as a legalized wasm32 build passes it (time in two i32
halves, tm_gmtoff an i32 at 36). Time is UTC on every node."""

from __future__ import annotations

import struct

import pytest
import wasmtime

from aonode.devices.wasm.calendar import breakdown
from aonode.devices.wasm.imports import HostIO, build_imports
from aonode.devices.wasm.runtime import engine

WASM64 = """
(module
  (import "env" "_gmtime_js" (func $gm (param i64 i64)))
  (import "env" "_localtime_js" (func $local (param i64 i64)))
  (import "env" "_mktime_js" (func $mk (param i64) (result i64)))
  (import "env" "_timegm_js" (func $tg (param i64) (result i64)))
  (memory (export "memory") i64 1)
  (func (export "gm") (param i64 i64) (call $gm (local.get 0) (local.get 1)))
  (func (export "local") (param i64 i64) (call $local (local.get 0) (local.get 1)))
  (func (export "mk") (param i64) (result i64) (call $mk (local.get 0)))
  (func (export "tg") (param i64) (result i64) (call $tg (local.get 0))))
"""

WASM32_LEGALIZED = """
(module
  (import "env" "_localtime_js" (func $local (param i32 i32 i32)))
  (import "env" "_mktime_js" (func $mk (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "local") (param i32 i32 i32) (call $local (local.get 0) (local.get 1) (local.get 2)))
  (func (export "mk") (param i32) (result i32) (call $mk (local.get 0))))
"""

TM = struct.Struct("<9i")
TIMES = [0, -1, 951_782_400, 951_868_800, 1_796_174_491, -62_135_596_800, 253_402_300_799]


def instance(wat: str) -> tuple[wasmtime.Store, dict[str, object], wasmtime.Memory]:
    store = wasmtime.Store(engine())
    store.set_fuel(10_000_000)
    store.set_epoch_deadline(1_000_000)
    module = wasmtime.Module(engine(), wat)
    inst = wasmtime.Instance(store, module, build_imports(store, module, HostIO()))
    exports = inst.exports(store)
    memory = exports["memory"]
    assert isinstance(memory, wasmtime.Memory)
    return store, {name: exports[name] for name in ("gm", "local", "mk", "tg") if name in exports}, memory


@pytest.mark.parametrize("seconds", TIMES)
def test_wasm64_gmtime_localtime_and_mktime(seconds: int) -> None:
    store, f, memory = instance(WASM64)
    for name in ("gm", "local"):
        memory.write(store, b"\xaa" * 64, 256)
        f[name](store, seconds, 256)  # type: ignore[operator]
        raw = memory.read(store, 256, 320)
        assert TM.unpack(raw[:36]) == tuple(breakdown(seconds))
        assert raw[36:40] == b"\xaa" * 4  # padding before the 8-byte long is left alone
        gmtoff = raw[40:48]
        assert gmtoff == (bytes(8) if name == "local" else b"\xaa" * 8)  # gmtime leaves it to libc
    # mktime of a struct with out-of-range fields: the time, and the struct normalized in place
    year, mon, mday = breakdown(seconds)[5], breakdown(seconds)[4], breakdown(seconds)[3]
    memory.write(store, TM.pack(0, 0, 48, mday - 2, mon, year, 9, 999, 1), 512)
    expected = seconds - seconds % 86_400 + 48 * 3600 - 2 * 86_400
    assert f["mk"](store, 512) == expected  # type: ignore[operator]
    assert TM.unpack(memory.read(store, 512, 548)) == tuple(breakdown(expected))
    memory.write(store, TM.pack(*breakdown(seconds)), 600)
    assert f["tg"](store, 600) == seconds  # type: ignore[operator]


def test_legalized_wasm32_passes_the_time_in_halves() -> None:
    store, f, memory = instance(WASM32_LEGALIZED)
    seconds = 4_102_444_800  # 2100-01-01: past 2**32 / 2, so the high half matters
    f["local"](store, seconds & 0xFFFF_FFFF, seconds >> 32, 128)  # type: ignore[operator]
    raw = memory.read(store, 128, 168)
    assert TM.unpack(raw[:36]) == tuple(breakdown(seconds))
    assert raw[36:40] == bytes(4)  # tm_gmtoff, a 4-byte long
    assert f["mk"](store, 128) & 0xFFFF_FFFF == seconds & 0xFFFF_FFFF  # type: ignore[operator]
