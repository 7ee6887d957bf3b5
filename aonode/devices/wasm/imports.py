"""Host functions for wasm64@1.0: the WASI preview1 subset and emscripten stubs AOS modules import.

`build_imports` walks the module's imports in order and makes one `wasmtime.Func` per import, with the
import's own signature; the pointer width (wasm32 or wasm64) of each WASI function is read from that
signature (an `i64` pointer parameter means wasm64: 16-byte iovecs, u64 sizes and counts). An import the
device does not provide, or one whose signature does not fit, raises `DeviceError` naming every such import,
so a process with such a module fails at spawn, not at its first call.

Nothing here reads the host: there is no file system (only fds 0-2), no environment, no arguments, no clock
(`clock_time_get` and `clock_res_get` return errno 1 and write nothing, as HyperBEAM does, because AOS seeds
Lua's string hash from the clock), and `random_get` fills the buffer from blake3 of a per-process, per-slot
seed. stdout and stderr are captured into `HostIO` buffers bounded at `HostIO.limit` bytes each (the rest
is counted and dropped). `proc_exit` and emscripten's aborts stop the call with a trap; the device turns
that into the slot's error Result. emscripten's JS-glue setjmp/longjmp (`invoke_*`, `setThrew`,
`_emscripten_throw_longjmp`) is provided as its JS does it (docs/wasm.md, Imports), and so are the other
imports of the AO formats' glue: `strftime` (strftime.py), `exit`, `system`/`_emscripten_system` (no shell),
`getTempRet0`/`setTempRet0`, `metering_gasUsed`, WeaveDrive (weavedrive.py). `metering.usegas` is not a host
function but the export of a wasm helper in the same store (metering.py).

**Host calls cost fuel.** Wasm instructions are metered by wasmtime, but time spent in a host function is
not: a loop calling `emscripten_memcpy_big` with a gigabyte, or `fd_write` with 1,024 iovecs, would run
far past the slot's budget and be found only by the wall clock. So every host call is charged from the
store's fuel before it runs: `HOST_CALL_FUEL` plus a cost proportional to the bytes it touches (memcpy
`n // 8`, the bytes fd_write and random_get copy, `IOVEC_FUEL` per iovec). Out of fuel ends the slot as
wasm running out does ("out of fuel", deterministic: the cost depends only on the call's arguments).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import wasmtime
from blake3 import blake3
from wasmtime import _ffi as ffi

from aonode.devices.base import DeviceError
from aonode.devices.wasm import weavedrive as _weavedrive
from aonode.devices.wasm.calendar import Tm, breakdown, timegm
from aonode.devices.wasm.formats import MINIFIED_EXPORTS, MINIFIED_IMPORTS, MINIFIED_MODULE
from aonode.devices.wasm.strftime import strftime

WASI = "wasi_snapshot_preview1"
EMSCRIPTEN = ("env",)

# WASI errno values
ESUCCESS = 0
E2BIG = 1  # what clock_time_get answers (HyperBEAM's value)
EBADF = 8
ENOENT = 44
EINVAL = 28
ENOSYS = 52
ESPIPE = 70

STDOUT_LIMIT = 64 * 1024

HOST_CALL_FUEL = 1_000
"""Fuel every host call costs (a Python host call takes microseconds, thousands of wasm instructions)."""

IOVEC_FUEL = 100
"""Fuel per iovec an fd_write reads."""

COPY_BYTES_PER_FUEL = 8
"""memcpy: one unit of fuel per this many bytes (as a wasm loop moving 8 bytes per instruction)."""


class ProcExit(Exception):
    """`proc_exit` (or an emscripten abort) was called: the slot stops with a trap."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfFuel(ProcExit):
    """A host call cost more fuel than the slot had left: the slot ends as wasm running out of fuel."""


class EmscriptenUnwind(ProcExit):
    """A longjmp unwinding to the nearest `invoke_*` (emscripten's JS-glue setjmp/longjmp). Reaching the
    device means no invoke_ was there to catch it: the slot stops with a trap."""


class MissingExportsError(DeviceError):
    """The module imports what needs exports of its own (emscripten's invoke_* call `setThrew` and the
    function table) and lacks them."""


class MissingImportsError(DeviceError):
    """The module imports what the device does not provide (every such import is named)."""

    def __init__(self, imports: list[str]) -> None:
        super().__init__(
            f"wasm64@1.0: the module imports what this node does not provide: {', '.join(imports)}"
        )
        self.imports = imports


@dataclass
class HostIO:
    """What the host functions of one instance share: captured output and the random seed."""

    limit: int = STDOUT_LIMIT
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    seed: bytes = b""
    random_calls: int = 0
    exit: ProcExit | None = None
    nested_trap: wasmtime.Trap | None = None
    """A trap (out of fuel, interrupted, a wasm fault) inside a function an `invoke_*` called: it reaches
    the device as a host error, so the device reads the original here."""
    temp_ret: int = 0
    """emscripten's `tempRet0` (`setTempRet0`/`getTempRet0`: the high half of an i64 result in a
    legalized wasm32 build). Lives for one call of `handle`, as in the glue, where it is only read right
    after it is set."""
    gas: Any = None
    """The `metering.usegas` helper (metering.Gas) when the module imports it."""
    slot_fuel: int = 0
    """The fuel the slot started with."""
    gas_from_fuel: bool = False
    """A `-metering` format whose binary does not call `usegas` (ao's loader meters such a binary itself):
    its gas is the fuel the slot used. Otherwise an unmetered module's gas is 0, as in the glue."""
    read_data: Callable[[str], bytes | None] | None = None
    """WeaveDrive: the data of a stored message by its text ID, or None (weavedrive.py)."""
    read_message: Callable[[str], Any] | None = None
    """WeaveDrive's `/tx/<ID>`: a stored message by its text ID, or None."""
    block: tuple[int, bytes] = (0, b"")
    """WeaveDrive's `/block/<height>`: the current slot's block height and hash."""
    files: dict[int, list[Any]] = field(default_factory=dict)
    """WeaveDrive: open files of this slot, fd → [data, position]."""
    exports: dict[tuple[str, ...], Any] = field(default_factory=dict)
    """Exports the hot host functions look up (`invoke_*`: the table, stackSave/Restore, setThrew;
    memcpy: the memory), by the names asked for, for the current instance: `Caller.get` wraps a new
    object each time (~10 µs), and AOS calls `invoke_*` for every Lua `pcall`. Emptied before each new
    instance (`new_instance`): an export of another store must never be called."""

    def new_instance(self) -> None:
        """A new instance (init, restore) is about to use these host functions."""
        self.exports.clear()

    def clear(self, seed: bytes) -> None:
        self.stdout.clear()
        self.stderr.clear()
        self.dropped = 0
        self.seed = seed
        self.random_calls = 0
        self.exit = None
        self.nested_trap = None
        self.temp_ret = 0
        self.files.clear()

    def stop(self, exit: ProcExit) -> NoReturn:
        """End the current call with `exit` (the device reads it back from `exit` to name the trap)."""
        self.exit = exit
        raise exit

    def charge(self, caller: wasmtime.Caller, cost: int) -> None:
        """Take `cost` fuel from the calling store; out of fuel stops the call (OutOfFuel)."""
        ctx = caller._context()
        left = ctypes.c_uint64(0)
        if ffi.wasmtime_context_get_fuel(ctx, ctypes.byref(left)):
            return  # fuel metering is off in this store (not the device's engine): nothing to charge
        if left.value < cost:
            ffi.wasmtime_context_set_fuel(ctx, 0)
            self.stop(OutOfFuel(f"a host call needed {cost} fuel, {left.value} left"))
        ffi.wasmtime_context_set_fuel(ctx, left.value - cost)

    def out(self, fd: int, data: bytes, length: int) -> None:
        """Capture `data`, the first bytes of a write of `length` bytes; what does not fit under the limit
        is counted in `dropped`."""
        buf = self.stdout if fd == 1 else self.stderr
        room = max(0, self.limit - len(buf))
        kept = data[:room]
        buf += kept
        self.dropped += length - len(kept)


Handler = Callable[..., Any]


class _Mem:
    """Memory access from inside a host call (through the caller, as wasmtime requires)."""

    __slots__ = ("caller", "memory")

    def __init__(self, caller: wasmtime.Caller) -> None:
        self.caller = caller
        memory = caller.get("memory")
        if memory is None:
            memory = caller.get(MINIFIED_EXPORTS["memory"])  # wasm32-unknown-emscripten's minified glue
        if not isinstance(memory, wasmtime.Memory):
            raise ProcExit("the module exports no memory named 'memory'")
        self.memory = memory

    def read(self, ptr: int, n: int) -> bytes:
        return bytes(self.memory.read(self.caller, ptr, ptr + n))

    def write(self, ptr: int, data: bytes) -> None:
        self.memory.write(self.caller, data, ptr)

    def uint(self, ptr: int, width: int) -> int:
        return int.from_bytes(self.read(ptr, width), "little")

    def put_uint(self, ptr: int, value: int, width: int) -> None:
        self.write(ptr, value.to_bytes(width, "little"))


def _u(v: int, width: int) -> int:
    return v & ((1 << (8 * width)) - 1)


def _wasi(name: str, io: HostIO, width: int) -> Handler | None:
    """The handler of WASI function `name` for pointers of `width` bytes (4 or 8), or None."""

    def fd_write(caller: wasmtime.Caller, fd: int, iovs: int, n: int, nwritten: int) -> int:
        mem = _Mem(caller)
        iovs, n, nwritten = _u(iovs, width), _u(n, width), _u(nwritten, width)
        if fd not in (1, 2):
            return EBADF
        total = 0
        count = min(n, 1024)
        io.charge(caller, IOVEC_FUEL * count)
        for i in range(count):
            base = mem.uint(iovs + 2 * width * i, width)
            length = mem.uint(iovs + 2 * width * i + width, width)
            copied = min(length, io.limit)
            io.charge(caller, copied)
            io.out(fd, mem.read(base, copied), length)
            total += length
        mem.put_uint(nwritten, total, width)
        return ESUCCESS

    def fd_read(caller: wasmtime.Caller, fd: int, iovs: int, n: int, nread: int) -> int:
        if fd != 0:
            return EBADF
        _Mem(caller).put_uint(_u(nread, width), 0, width)  # stdin is empty
        return ESUCCESS

    def fd_seek(caller: wasmtime.Caller, fd: int, *args: int) -> int:
        # (offset i64, whence, out) or, legalized in a wasm32 build, (offset low, offset high, whence, out).
        if len(args) == 4:
            offset = (args[0] & 0xFFFF_FFFF) | ((args[1] & 0xFFFF_FFFF) << 32)
        elif len(args) == 3:
            offset = args[0] & 0xFFFF_FFFF_FFFF_FFFF
        else:
            return EINVAL
        if offset >= 1 << 63:
            offset -= 1 << 64
        whence, out = args[-2], _u(args[-1], width)
        position = _weavedrive.seek(io, fd, offset, whence)  # a WeaveDrive file (weavedrive.py)
        if position is None:
            return ESPIPE if fd in (0, 1, 2) else EBADF
        if position < 0:
            return EINVAL
        _Mem(caller).put_uint(out, position, 8)
        return ESUCCESS

    def fd_close(caller: wasmtime.Caller, fd: int) -> int:
        return ESUCCESS if fd in (0, 1, 2) else EBADF

    def fd_fdstat_get(caller: wasmtime.Caller, fd: int, buf: int) -> int:
        if fd not in (0, 1, 2):
            return EBADF
        # filetype CHARACTER_DEVICE (2), no flags, no rights: 24 bytes
        _Mem(caller).write(_u(buf, width), bytes([2]) + bytes(23))
        return ESUCCESS

    def fd_fdstat_set_flags(caller: wasmtime.Caller, fd: int, flags: int) -> int:
        return ESUCCESS if fd in (0, 1, 2) else EBADF

    def fd_prestat_get(caller: wasmtime.Caller, fd: int, buf: int) -> int:
        return EBADF  # no preopened directories

    def fd_prestat_dir_name(caller: wasmtime.Caller, fd: int, path: int, n: int) -> int:
        return EBADF

    def path_open(caller: wasmtime.Caller, *args: int) -> int:
        return ENOENT

    def sizes_get(caller: wasmtime.Caller, count: int, size: int) -> int:
        mem = _Mem(caller)
        mem.put_uint(_u(count, width), 0, width)
        mem.put_uint(_u(size, width), 0, width)
        return ESUCCESS

    def get_nothing(caller: wasmtime.Caller, ptrs: int, buf: int) -> int:
        return ESUCCESS

    def proc_exit(caller: wasmtime.Caller, code: int) -> None:
        io.stop(ProcExit(f"proc_exit({code})"))

    def clock(caller: wasmtime.Caller, *args: int) -> int:
        return E2BIG  # never the host's time; write nothing

    def random_get(caller: wasmtime.Caller, buf: int, n: int) -> int:
        n = _u(n, width)
        io.charge(caller, min(n, 1 << 20))
        io.random_calls += 1
        data = blake3(io.seed + struct.pack("<Q", io.random_calls)).digest(length=min(n, 1 << 20))
        _Mem(caller).write(_u(buf, width), data)
        return ESUCCESS

    def sched_yield(caller: wasmtime.Caller) -> int:
        return ESUCCESS

    table: dict[str, Handler] = {
        "fd_write": fd_write,
        "fd_read": fd_read,
        "fd_seek": fd_seek,
        "fd_close": fd_close,
        "fd_fdstat_get": fd_fdstat_get,
        "fd_fdstat_set_flags": fd_fdstat_set_flags,
        "fd_prestat_get": fd_prestat_get,
        "fd_prestat_dir_name": fd_prestat_dir_name,
        "path_open": path_open,
        "environ_sizes_get": sizes_get,
        "environ_get": get_nothing,
        "args_sizes_get": sizes_get,
        "args_get": get_nothing,
        "proc_exit": proc_exit,
        "clock_time_get": clock,
        "clock_res_get": clock,
        "random_get": random_get,
        "sched_yield": sched_yield,
    }
    return table.get(name)


def _is_float(t: wasmtime.ValType) -> bool:
    return t in (wasmtime.ValType.f32(), wasmtime.ValType.f64())


def _zero(ty: wasmtime.FuncType) -> Any:
    """The zero of `ty`'s result (None when it has none)."""
    results = ty.results
    if not results:
        return None
    return 0.0 if _is_float(results[0]) else 0


def _cached_export(io: HostIO, caller: wasmtime.Caller, *names: str) -> Any:
    """`_export`, remembered in `io.exports` for the current instance."""
    try:
        return io.exports[names]
    except KeyError:
        found = io.exports[names] = _export(caller, *names)
        return found


def _memory(io: HostIO, caller: wasmtime.Caller) -> wasmtime.Memory:
    """The caller's memory (as `_Mem` finds it), remembered for the current instance."""
    try:
        memory: wasmtime.Memory = io.exports[("memory",)]
    except KeyError:
        memory = io.exports[("memory",)] = _Mem(caller).memory
    return memory


def _export(caller: wasmtime.Caller, *names: str) -> Any:
    for name in names:
        item = caller.get(name)
        if item is None and name in MINIFIED_EXPORTS and caller.get("memory") is None:
            item = caller.get(MINIFIED_EXPORTS[name])  # a binary of the minified glue: its letters
        if item is not None:
            return item
    return None


def _invoke(name: str, io: HostIO, ty: wasmtime.FuncType) -> Handler:
    """emscripten's `invoke_<sig>(index, ...args)`: call table entry `index`; if a longjmp unwinds out of
    it, restore the stack pointer, record it with the module's `setThrew(1, 0)` (which keeps a jump the
    module already recorded) and return zero, as the JS glue's try/catch does. Anything else (out of fuel,
    a wasm trap, proc_exit) goes on unwinding: it ends the slot."""
    zero = _zero(ty)

    def invoke(caller: wasmtime.Caller, index: int, *args: Any) -> Any:
        table = _cached_export(io, caller, "__indirect_function_table")
        target = table.get(caller, index) if isinstance(table, wasmtime.Table) else None  # type: ignore[arg-type]
        if not isinstance(target, wasmtime.Func):
            raise ProcExit(f"{name}: no function at table index {index}")
        save = _cached_export(io, caller, "stackSave", "emscripten_stack_get_current")
        sp = save(caller) if isinstance(save, wasmtime.Func) else None
        try:
            return target(caller, *args)
        except EmscriptenUnwind:
            io.exit = None
        except wasmtime.Trap as trap:
            io.nested_trap = io.nested_trap or trap
            raise
        restore = _cached_export(io, caller, "stackRestore", "_emscripten_stack_restore")
        if sp is not None and isinstance(restore, wasmtime.Func):
            restore(caller, sp)
        _cached_export(io, caller, "setThrew")(caller, 1, 0)
        return zero

    return invoke


_TM = struct.Struct("<9I")  # the nine int fields of struct tm, written as unsigned (masked) i32s
_TM_SIGNED = struct.Struct("<9i")


def _date(name: str, ty: wasmtime.FuncType) -> Handler | None:
    """emscripten's date imports, in UTC (aonode/devices/wasm/calendar.py): `_gmtime_js(time, tm)` and
    `_localtime_js(time, tm)` fill a struct tm (the time as an i64, or as two i32 halves in a legalized
    wasm32 build); `_mktime_js(tm)` / `_timegm_js(tm)` normalize it and return its time. The pointer width
    of `tm` comes from the signature; `tm_gmtoff` (a C long) follows the nine ints at 36 (wasm32) or 40."""
    params = list(ty.params)
    wide = bool(params) and params[-1] == wasmtime.ValType.i64()
    gmtoff_at, long_width = (40, 8) if wide else (36, 4)
    result = list(ty.results)

    def fill(mem: _Mem, ptr: int, seconds: int, local: bool) -> None:
        mem.write(ptr, _TM.pack(*(v & 0xFFFF_FFFF for v in breakdown(seconds))))
        if local:
            mem.put_uint(ptr + gmtoff_at, 0, long_width)

    def to_tm(local: bool) -> Handler:
        def handler(caller: wasmtime.Caller, *args: int) -> Any:
            # A legalized wasm32 build passes the time as its low and high halves, then the pointer.
            seconds = (args[0] & 0xFFFF_FFFF) | (args[1] << 32) if len(args) == 3 else args[0]
            fill(_Mem(caller), args[-1], seconds, local)
            return 0 if result else None

        return handler

    def from_tm(caller: wasmtime.Caller, ptr: int) -> Any:
        mem = _Mem(caller)
        seconds = timegm(Tm(*_TM_SIGNED.unpack(mem.read(ptr, _TM_SIGNED.size))))
        fill(mem, ptr, seconds, False)
        if result and _is_float(result[0]):
            return float(seconds)
        if result and result[0] == wasmtime.ValType.i32():
            return seconds & 0xFFFF_FFFF
        return seconds

    if name in ("_gmtime_js", "_localtime_js") and len(params) in (2, 3) and len(result) <= 1:
        return to_tm(name == "_localtime_js")
    if name in ("_mktime_js", "_timegm_js") and len(params) == 1 and len(result) == 1:
        return from_tm
    return None


_NO_SETJMP = "longjmp with no setjmp to return to"

# What a module that imports `invoke_*` must export for them to work.
INVOKE_EXPORTS = ("__indirect_function_table", "setThrew")


def _emscripten(name: str, io: HostIO, ty: wasmtime.FuncType) -> Handler | None:
    """Stubs for emscripten's `env` imports: syscalls answer -ENOSYS, time is 0, aborts trap; the JS glue's
    setjmp/longjmp (`invoke_*`, `emscripten_longjmp`, `_emscripten_throw_longjmp`) work."""

    nothing = _zero(ty)

    def zero(caller: wasmtime.Caller, *args: Any) -> Any:
        return nothing

    def enosys(caller: wasmtime.Caller, *args: Any) -> Any:
        return -ENOSYS if ty.results else None

    def abort(caller: wasmtime.Caller, *args: Any) -> None:
        io.stop(ProcExit(f"{name} called"))

    def throw_longjmp(caller: wasmtime.Caller) -> None:
        io.stop(EmscriptenUnwind(_NO_SETJMP))

    def longjmp(caller: wasmtime.Caller, env: int, value: int) -> None:
        # Older emscripten: the import records the jump itself, then unwinds.
        set_threw = _export(caller, "setThrew")
        if isinstance(set_threw, wasmtime.Func):
            set_threw(caller, env, value or 1)
        io.stop(EmscriptenUnwind(_NO_SETJMP))

    mask = (1 << (8 * _ptr_width(ty))) - 1

    def memcpy(caller: wasmtime.Caller, dest: int, src: int, n: int) -> None:
        dest, src, n = dest & mask, src & mask, n & mask
        io.charge(caller, n // COPY_BYTES_PER_FUEL)
        memory = _memory(io, caller)
        ctx = caller._context()
        size = int(ffi.wasmtime_memory_data_size(ctx, ctypes.byref(memory._memory)))
        if max(dest, src) + n > size:
            io.stop(ProcExit(f"{name}: copy of {n} bytes outside memory ({size} bytes)"))
        base = ctypes.cast(ffi.wasmtime_memory_data(ctx, ctypes.byref(memory._memory)), ctypes.c_void_p).value
        ctypes.memmove((base or 0) + dest, (base or 0) + src, n)

    def resize_heap(caller: wasmtime.Caller, requested: int) -> int:
        mem = _Mem(caller)
        have = mem.memory.data_len(caller)
        if requested <= have:
            return 1
        try:
            mem.memory.grow(caller, (requested - have + 65535) // 65536)
        except wasmtime.WasmtimeError:
            return 0  # over the store's memory limit
        return 1

    def exit_(caller: wasmtime.Caller, code: int) -> None:
        io.stop(ProcExit(f"exit({code})"))

    def system(caller: wasmtime.Caller, command: int) -> int:
        # The glue outside node: no shell (`system(NULL)` is 0), any command fails with ENOSYS.
        if not command:
            return 0
        errno_location = _export(caller, "__errno_location")
        if name == "system" and isinstance(errno_location, wasmtime.Func):
            _Mem(caller).put_uint(errno_location(caller), ENOSYS, 4)
        return -1

    def get_temp_ret(caller: wasmtime.Caller) -> int:
        return io.temp_ret

    def set_temp_ret(caller: wasmtime.Caller, value: int) -> None:
        io.temp_ret = value

    def gas_used(caller: wasmtime.Caller) -> int:
        if io.gas is not None:
            used = int(io.gas.used)
        elif not io.gas_from_fuel:
            used = 0  # the glue's gas.used: only usegas adds to it
        else:
            left = ctypes.c_uint64(0)
            ffi.wasmtime_context_get_fuel(caller._context(), ctypes.byref(left))
            used = max(0, io.slot_fuel - left.value)
        if ty.results and ty.results[0] == wasmtime.ValType.i32():
            return min(used, 0x7FFF_FFFF)
        return used

    def strftime_(caller: wasmtime.Caller, s: int, maxsize: int, fmt: int, tm: int) -> int:
        mem = _Mem(caller)
        width = _ptr_width(ty)
        mask = (1 << (8 * width)) - 1
        s, maxsize, fmt, tm = s & mask, maxsize & mask, fmt & mask, tm & mask
        raw = mem.read(tm, 36 + (width - 4) + 2 * width)  # nine ints, tm_gmtoff, tm_zone
        if len(raw) != 36 + (width - 4) + 2 * width:
            io.stop(ProcExit(f"{name}: struct tm at {tm} is outside memory"))
        fields = Tm(*_TM_SIGNED.unpack_from(raw))
        gmtoff = int.from_bytes(raw[36 + (width - 4) : 36 + (width - 4) + width], "little", signed=True)
        zone_ptr = int.from_bytes(raw[36 + (width - 4) + width :], "little")
        pattern = _cstring(mem, fmt, 4096)
        zone = _cstring(mem, zone_ptr, 64).decode("utf-8", "replace") if zone_ptr else ""
        out = strftime(pattern, fields, gmtoff, zone, maxsize)
        if out is None:
            return 0
        io.charge(caller, len(out))
        if s + len(out) > mem.memory.data_len(caller):
            io.stop(ProcExit(f"{name}: result at {s} is outside memory"))
        mem.write(s, out)
        return len(out) - 1

    if name.startswith("__syscall_"):
        return enosys
    if name.startswith("__asyncjs__weavedrive_"):
        from aonode.devices.wasm.weavedrive import handler as weavedrive

        return weavedrive(name.removeprefix("__asyncjs__weavedrive_"), io, ty)
    if name == "exit" and len(ty.params) == 1 and not ty.results:
        return exit_
    if name in ("system", "_emscripten_system") and len(ty.params) == 1 and len(ty.results) == 1:
        return system
    if name == "getTempRet0" and not ty.params and len(ty.results) == 1:
        return get_temp_ret
    if name == "setTempRet0" and len(ty.params) == 1 and not ty.results:
        return set_temp_ret
    if name == "metering_gasUsed" and not ty.params and len(ty.results) == 1:
        return gas_used
    if name == "strftime" and len(ty.params) == 4 and len(ty.results) == 1:
        return strftime_
    if name.startswith("invoke_") and ty.params:
        return _invoke(name, io, ty)
    if name == "emscripten_longjmp" and len(ty.params) == 2 and not ty.results:
        return longjmp
    if name == "_emscripten_throw_longjmp" and not ty.params and not ty.results:
        return throw_longjmp
    date = _date(name, ty)
    if date is not None:
        return date
    table: dict[str, Handler] = {
        "emscripten_notify_memory_growth": zero,
        "emscripten_date_now": zero,
        "_emscripten_date_now": zero,
        "_emscripten_get_now": zero,
        "emscripten_get_now": zero,
        "_emscripten_get_now_is_monotonic": zero,
        "_tzset_js": zero,
        "emscripten_memcpy_big": memcpy,
        "_emscripten_memcpy_js": memcpy,
        "emscripten_resize_heap": resize_heap,
        "abort": abort,
        "_abort_js": abort,
        "__assert_fail": abort,
        "emscripten_exit_with_live_runtime": abort,
    }
    return table.get(name)


def _cstring(mem: _Mem, ptr: int, limit: int) -> bytes:
    """The NUL-terminated bytes at `ptr` (at most `limit`)."""
    size = mem.memory.data_len(mem.caller)
    raw = mem.read(ptr, max(0, min(limit, size - ptr)))
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def build_imports(store: wasmtime.Store, module: wasmtime.Module, io: HostIO) -> list[wasmtime.Func]:
    """One host function per import of `module`, in import order. Raises DeviceError naming every import
    the device cannot provide. `metering.usegas` is not a host function: it is the `usegas` of a helper
    module instantiated in `store` (metering.py), kept in `io.gas`."""
    funcs: list[wasmtime.Func] = []
    missing: list[str] = []
    io.gas = None
    for imp in module.imports:
        label = f"{imp.module}.{imp.name}"
        ty = imp.type
        if not isinstance(ty, wasmtime.FuncType):
            missing.append(f"{label} (a {type(ty).__name__}; only functions can be imported)")
            continue
        if imp.module == "metering" and imp.name == "usegas":
            params = [str(p) for p in ty.params]
            if len(params) == 1 and params[0] in ("i32", "i64") and not ty.results:
                from aonode.devices.wasm.metering import Gas

                if io.gas is None:
                    io.gas = Gas(store, params[0])
                funcs.append(io.gas.usegas)
            else:
                missing.append(f"{label} (signature {_sig(ty)})")
            continue
        handler: Handler | None = None
        module_name, name = imp.module, imp.name
        if module_name == MINIFIED_MODULE and name in MINIFIED_IMPORTS:
            module_name, name = MINIFIED_IMPORTS[name]
        if module_name == WASI and name is not None:
            handler = _wasi(name, io, _wasi_width(name, ty))
        elif module_name in EMSCRIPTEN and name is not None:
            handler = _emscripten(name, io, ty)
        if handler is None:
            missing.append(label)
            continue
        funcs.append(wasmtime.Func(store, ty, _charged(handler, io), access_caller=True))
    if missing:
        raise MissingImportsError(missing)
    if any(
        (i.module in EMSCRIPTEN and (i.name or "").startswith("invoke_"))
        or (i.module == MINIFIED_MODULE and i.name == "x")
        for i in module.imports
    ):
        exported = {e.name for e in module.exports}
        minified = any(i.module == MINIFIED_MODULE for i in module.imports)
        absent = [
            name
            for name in INVOKE_EXPORTS
            if name not in exported and not (minified and MINIFIED_EXPORTS[name] in exported)
        ]
        if absent:
            raise MissingExportsError(
                f"wasm64@1.0: the module imports emscripten's invoke_* but does not export "
                f"{', '.join(absent)}, which they call"
            )
    return funcs


def _sig(ty: wasmtime.FuncType) -> str:
    return f"({', '.join(map(str, ty.params))}) -> ({', '.join(map(str, ty.results))})"


def _charged(handler: Handler, io: HostIO) -> Handler:
    """`handler` charging HOST_CALL_FUEL first."""

    def call(caller: wasmtime.Caller, *args: Any) -> Any:
        io.charge(caller, HOST_CALL_FUEL)
        return handler(caller, *args)

    return call


def _ptr_width(ty: wasmtime.FuncType) -> int:
    return 8 if wasmtime.ValType.i64() in list(ty.params) else 4


def _wasi_width(name: str, ty: wasmtime.FuncType) -> int:
    # clock_time_get(id: i32, precision: i64, out: ptr) has an i64 that is not a pointer: look at `out`.
    params = list(ty.params)
    if name == "clock_time_get" and len(params) == 3:
        return 8 if params[2] == wasmtime.ValType.i64() else 4
    if name == "fd_seek" and len(params) == 4:
        return 8 if params[3] == wasmtime.ValType.i64() else 4
    return 8 if wasmtime.ValType.i64() in params else 4
