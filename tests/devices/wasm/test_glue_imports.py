"""The emscripten glue imports of real AOS binaries, each through a real wasmtime instance: `strftime`,
`exit`, `system`/`_emscripten_system`, `getTempRet0`/`setTempRet0`, `_emscripten_date_now`,
`metering_gasUsed`, WeaveDrive, and `metering.usegas` as a wasm helper (no host call per use)."""

from __future__ import annotations

import struct
import time
from typing import Any

import pytest
import wasmtime

from aonode.devices.wasm import metering
from aonode.devices.wasm.imports import HostIO, MissingImportsError, ProcExit, build_imports
from aonode.devices.wasm.runtime import engine

GLUE32 = """
(module
  (import "env" "strftime" (func $strftime (param i32 i32 i32 i32) (result i32)))
  (import "env" "exit" (func $exit (param i32)))
  (import "env" "system" (func $system (param i32) (result i32)))
  (import "env" "_emscripten_system" (func $esystem (param i32) (result i32)))
  (import "env" "getTempRet0" (func $get (result i32)))
  (import "env" "setTempRet0" (func $set (param i32)))
  (import "env" "_emscripten_date_now" (func $now (result f64)))
  (import "env" "metering_gasUsed" (func $gas (result i32)))
  (memory (export "memory") 1)
  (global $errno i32 (i32.const 2048))
  (func (export "__errno_location") (result i32) (global.get $errno))
  (func (export "strftime") (param i32 i32 i32 i32) (result i32)
    (call $strftime (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "exit") (param i32) (call $exit (local.get 0)))
  (func (export "system") (param i32) (result i32) (call $system (local.get 0)))
  (func (export "esystem") (param i32) (result i32) (call $esystem (local.get 0)))
  (func (export "tempret") (param i32) (result i32) (call $set (local.get 0)) (call $get))
  (func (export "now") (result f64) (call $now))
  (func (export "gas") (result i32) (call $gas))
  (func (export "spin") (param i32) (result i32)
    (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
    (call $gas)))
"""

WEAVEDRIVE = """
(module
  (import "env" "__asyncjs__weavedrive_open" (func $open (param i32 i32) (result i32)))
  (import "env" "__asyncjs__weavedrive_read" (func $read (param i32 i32 i32) (result i32)))
  (import "env" "__asyncjs__weavedrive_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "open") (param i32) (result i32) (call $open (local.get 0) (i32.const 0)))
  (func (export "read") (param i32 i32 i32) (result i32)
    (call $read (local.get 0) (local.get 1) (local.get 2)))
  (func (export "close") (param i32) (result i32) (call $close (local.get 0))))
"""

METERED = """
(module
  (import "metering" "usegas" (func $usegas (param {t})))
  (memory (export "memory") 1)
  (func (export "run") (param $n i32)
    (loop $l
      (call $usegas ({t}.const 3))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))))
"""


class Instance:
    def __init__(self, wat: str, io: HostIO | None = None, fuel: int = 10**9) -> None:
        self.io = io or HostIO()
        self.store = wasmtime.Store(engine())
        self.store.set_fuel(fuel)
        self.store.set_epoch_deadline(10**6)
        self.io.slot_fuel = fuel
        module = wasmtime.Module(engine(), bytes(wasmtime.wat2wasm(wat)))
        self.instance = wasmtime.Instance(self.store, module, build_imports(self.store, module, self.io))
        memory = self.instance.exports(self.store)["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = memory

    def call(self, name: str, *args: Any) -> Any:
        func = self.instance.exports(self.store)[name]
        assert isinstance(func, wasmtime.Func)
        return func(self.store, *args)

    def write(self, ptr: int, data: bytes) -> None:
        self.memory.write(self.store, data, ptr)

    def read(self, ptr: int, n: int) -> bytes:
        return bytes(self.memory.read(self.store, ptr, ptr + n))


def tm32(sec: int, mi: int, hour: int, mday: int, mon: int, year: int, wday: int, yday: int) -> bytes:
    # nine ints, tm_gmtoff (i32 at 36), tm_zone (pointer at 40)
    return struct.pack("<9iii", sec, mi, hour, mday, mon, year, wday, yday, 0, 0, 0)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("%Y-%m-%d %H:%M:%S", "2024-02-29 13:05:09"),
        ("%c", "Thu Feb 29 13:05:09 2024"),
        ("%a %A %b %B %j %p %I %e %y %C %u %w %%", "Thu Thursday Feb February 060 PM 01 29 24 20 4 4 %"),
        ("%F %T %D %z", "2024-02-29 13:05:09 02/29/24 +0000"),
        ("%G-W%V %U %W", "2024-W09 08 09"),
        ("%Ey %Od", "24 29"),
    ],
)
def test_strftime_formats_like_the_glue(pattern: str, expected: str) -> None:
    inst = Instance(GLUE32)
    inst.write(100, tm32(9, 5, 13, 29, 1, 124, 4, 59))
    inst.write(200, pattern.encode() + b"\0")
    n = inst.call("strftime", 1000, 256, 200, 100)
    assert inst.read(1000, n + 1) == expected.encode() + b"\0"


def test_strftime_that_does_not_fit_returns_0_and_writes_nothing() -> None:
    inst = Instance(GLUE32)
    inst.write(100, tm32(0, 0, 0, 1, 0, 70, 4, 0))
    inst.write(200, b"%Y-%m-%d\0")
    assert inst.call("strftime", 1000, 10, 200, 100) == 0  # needs 11 with the NUL
    assert inst.read(1000, 11) == bytes(11)
    assert inst.call("strftime", 1000, 11, 200, 100) == 10


def test_exit_stops_the_call_with_its_code() -> None:
    inst = Instance(GLUE32)
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, ProcExit)):
        inst.call("exit", 3)
    assert isinstance(inst.io.exit, ProcExit) and inst.io.exit.reason == "exit(3)"


def test_system_has_no_shell() -> None:
    inst = Instance(GLUE32)
    inst.write(300, b"rm -rf /\0")
    assert inst.call("system", 0) == 0 and inst.call("esystem", 0) == 0  # "is there a shell?" no
    assert inst.call("system", 300) == -1
    assert inst.read(2048, 4) == struct.pack("<i", 52)  # errno ENOSYS, as the glue's setErrNo(52)
    assert inst.call("esystem", 300) == -1


def test_temp_ret_and_the_clock() -> None:
    inst = Instance(GLUE32)
    assert inst.call("tempret", 77) == 77
    assert inst.call("tempret", -5) == -5
    assert inst.call("now") == 0.0  # no host clock: every node answers the same


def test_gas_used_is_0_unmetered_and_the_fuel_used_for_a_metering_format() -> None:
    assert Instance(GLUE32).call("spin", 10_000) == 0  # the glue's gas.used: only usegas adds to it
    inst = Instance(GLUE32, HostIO(gas_from_fuel=True))
    small = inst.call("spin", 10)
    large = inst.call("spin", 10_000)
    assert 0 < small < large
    assert Instance(GLUE32, HostIO(gas_from_fuel=True)).call("spin", 10) == small  # deterministic


@pytest.mark.parametrize("t", ["i32", "i64"])
def test_usegas_is_a_wasm_helper_that_counts_and_stops_at_the_limit(t: str) -> None:
    inst = Instance(METERED.format(t=t))
    gas = inst.io.gas
    assert isinstance(gas, metering.Gas)
    # linked as the import is the helper's own export (a wasm function), not a Python host function
    assert gas.usegas is not None and not isinstance(gas.usegas, type(lambda: None))
    gas.refill(10**12)
    started = time.perf_counter()
    inst.call("run", 1_000_000)
    elapsed = time.perf_counter() - started
    assert gas.used == 3_000_000
    # every host call costs HOST_CALL_FUEL (1,000): a million of them would have used 1e9 fuel
    assert 10**9 - inst.store.get_fuel() < 50_000_000
    # a million Python host calls take seconds; a million wasm calls take milliseconds (generous bound)
    assert elapsed < 5.0
    gas.refill(100)
    assert gas.used == 0
    with pytest.raises(wasmtime.Trap):
        inst.call("run", 1_000)
    assert gas.exhausted() and gas.used == 102


def test_a_usegas_of_the_wrong_signature_is_refused() -> None:
    bad = '(module (import "metering" "usegas" (func (param f32))) (memory (export "memory") 1))'
    store = wasmtime.Store(engine())
    with pytest.raises(MissingImportsError, match=r"metering\.usegas"):
        build_imports(store, wasmtime.Module(engine(), bytes(wasmtime.wat2wasm(bad))), HostIO())


ID = "a" * 43


def test_weavedrive_serves_stored_data_by_id() -> None:
    stored = {ID: b"hello weavedrive"}
    inst = Instance(WEAVEDRIVE, HostIO(read_data=stored.get))
    inst.write(100, f"/data/{ID}\0".encode())
    fd = inst.call("open", 100)
    assert fd >= 100
    assert inst.call("read", fd, 1000, 5) == 5
    assert inst.call("read", fd, 1005, 100) == 11
    assert inst.read(1000, 16) == b"hello weavedrive"
    assert inst.call("read", fd, 1016, 10) == 0  # end of file
    assert inst.call("close", fd) == 0
    assert inst.call("close", fd) == -1 and inst.call("read", fd, 0, 1) == -1


@pytest.mark.parametrize("path", [f"/data/{'b' * 43}", "/tx/" + ID, "/data/short", "/etc/passwd"])
def test_weavedrive_answers_not_found_otherwise(path: str) -> None:
    inst = Instance(WEAVEDRIVE, HostIO(read_data={ID: b"x"}.get))
    inst.write(100, path.encode() + b"\0")
    assert inst.call("open", 100) == 0


def test_weavedrive_without_a_store_finds_nothing() -> None:
    inst = Instance(WEAVEDRIVE)
    inst.write(100, f"/data/{ID}\0".encode())
    assert inst.call("open", 100) == 0
