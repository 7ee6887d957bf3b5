"""wasmtime plumbing for wasm64@1.0: the shared engine, the compiled-module cache, and the raw call path.

**Engine.** One `wasmtime.Engine` per process, configured for deterministic AO execution: memory64 and
exceptions on, Cranelift NaN canonicalization on (x86 and ARM produce different NaN bits otherwise), threads
and relaxed SIMD off, fuel metering on (the deterministic per-message budget) and epoch interruption on (the
wall-clock backstop only). A daemon thread increments the engine's epoch every `EPOCH_TICK` seconds; a store
sets its deadline in ticks before each message.

**Module cache.** Compiling a large module with Cranelift takes about a second; loading its serialized
artifact takes milliseconds. `load_module` keys compiled modules by the blake3 digest of the wasm bytes: an
in-process LRU of `Module`s bounded by bytes of compiled code (`MODULE_CACHE_BYTES`, device setting
`module_cache_bytes`; `module_cache_bytes()` reads the sum), and optionally `<cache_dir>/<digest>.cwasm`
files (`Module.serialize`). The artifacts stay files, not store objects: wasmtime maps a file it
deserializes (`deserialize_file`: pages shared with the page cache, read lazily) where bytes from LMDB would
be copied into anonymous memory; they are specific to the wasmtime build, its configuration and the CPU,
so they are a disposable cache, never data a replica or backup needs. An artifact wasmtime refuses
(another wasmtime version or config) is recompiled and rewritten.

**Raw calls.** `Func.__call__` re-reads the function type and converts every argument through `Val` on
each call (~16-46 µs). `RawFunc` calls `wasmtime_func_call_unchecked` with a preallocated
`wasmtime_val_raw_t` array (~3 µs), which is safe because the signature is checked once, when the
`RawFunc` is made. A trap becomes a `wasmtime.Trap`, as from `__call__`.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import wasmtime
from blake3 import blake3
from wasmtime import _bindings
from wasmtime import _ffi as ffi

EPOCH_TICK = 0.05
"""Seconds per engine epoch tick (the wall-clock backstop's resolution)."""

MODULE_CACHE_BYTES = 256 * 1024 * 1024
"""Default bound of the in-memory compiled-module cache (device setting `module_cache_bytes`), in bytes of
compiled code: a module is charged its serialized artifact's size (the code and data wasmtime maps for
it; an AOS binary's is ~5-10 MiB). The most recently used module is kept even when it alone is larger."""

MAX_WASM_STACK = 512 * 1024
"""Wasm stack limit: deep recursion traps (STACK_OVERFLOW) well before the host thread's stack ends."""

_CALL = _bindings._wasmtime_func_call_unchecked  # the ctypes function itself, not its Python wrapper

_engine: wasmtime.Engine | None = None
_engine_lock = threading.Lock()
_modules: OrderedDict[bytes, tuple[wasmtime.Module, int]] = OrderedDict()
_modules_bytes = 0
_modules_lock = threading.Lock()


def engine() -> wasmtime.Engine:
    """The process-wide engine (created on first use, with its epoch ticker thread)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = wasmtime.Engine(_config())
            threading.Thread(target=_tick, args=(_engine,), name="wasm-epoch", daemon=True).start()
        return _engine


def _config() -> wasmtime.Config:
    config = wasmtime.Config()
    config.wasm_memory64 = True
    config.wasm_exceptions = True
    config.wasm_threads = False
    config.wasm_relaxed_simd = False
    config.cranelift_nan_canonicalization = True
    config.consume_fuel = True
    config.epoch_interruption = True
    config.max_wasm_stack = MAX_WASM_STACK
    return config


def _tick(eng: wasmtime.Engine) -> None:
    event = threading.Event()
    while not event.wait(EPOCH_TICK):
        eng.increment_epoch()


def signature(ty: wasmtime.FuncType) -> str:
    """`(i64, i64) -> (i64)`: a function type as text (its repr names an object address, which would make
    error texts, and so results, differ between nodes)."""
    return f"({', '.join(map(str, ty.params))}) -> ({', '.join(map(str, ty.results))})"


_max_ticks = 1
_armed = False
"""Whether a store was given a deadline since the epoch was last moved past every deadline."""
_max_ticks_lock = threading.Lock()
interrupts = 0
"""Times `interrupt_all` moved the epoch (tests: once per stop, however many devices were live)."""


def set_deadline(store: wasmtime.Store, ticks: int) -> None:
    """Give `store` an epoch deadline `ticks` from now, and remember it for `interrupt_all`: the largest
    deadline any store has, and that some store has one the epoch has not yet passed. Noted after it is
    set, so an `interrupt_all` that runs in between still finds the flag armed."""
    global _max_ticks, _armed
    store.set_epoch_deadline(ticks)
    _armed = True
    if ticks > _max_ticks:
        with _max_ticks_lock:
            _max_ticks = max(_max_ticks, ticks)


MAX_INTERRUPT_TICKS = 1_000_000


def interrupt_all() -> None:
    """Move the engine's epoch past every deadline a store can have: every running store traps
    (INTERRUPT) at its next epoch check. Stores set a fresh deadline before each call, so only what runs
    now is hit; a device that did not ask for it sees a wall-clock stop that came early and runs the slot
    again (device.py). When the node stops, every live device asks for it: only the first call moves the
    epoch (up to `_max_ticks` increments); later ones find no deadline set since and return at once."""
    global _armed, interrupts
    with _max_ticks_lock:
        if not _armed:
            return
        _armed = False
        ticks = min(_max_ticks + 1, MAX_INTERRUPT_TICKS)
        interrupts += 1
    eng = engine()
    for _ in range(ticks):
        eng.increment_epoch()


def module_digest(wasm: bytes) -> bytes:
    return blake3(wasm).digest()


def load_module(
    wasm: bytes, cache_dir: str | os.PathLike[str] | None = None, max_bytes: int = MODULE_CACHE_BYTES
) -> wasmtime.Module:
    """The compiled module for `wasm` (raises `wasmtime.WasmtimeError` if it does not validate). Kept in
    memory within `max_bytes` of compiled code (least recently used evicted first), and as
    `<cache_dir>/<digest>.cwasm` when `cache_dir` is given."""
    global _modules_bytes
    digest = module_digest(wasm)
    with _modules_lock:
        hit = _modules.get(digest)
        if hit is not None:
            _modules.move_to_end(digest)
            return hit[0]
    eng = engine()
    path = Path(cache_dir) / f"{digest.hex()}.cwasm" if cache_dir else None
    module = None
    size = 0
    if path is not None and path.is_file():
        try:
            module = wasmtime.Module.deserialize_file(eng, str(path))
            size = path.stat().st_size
        except (wasmtime.WasmtimeError, OSError):
            module = None  # another wasmtime build or config: recompile below and replace it
    if module is None:
        module = wasmtime.Module(eng, wasm)
        artifact = module.serialize()  # its size is what the module is charged, written or not
        size = len(artifact)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(artifact)
            os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
        del artifact
    with _modules_lock:
        old = _modules.pop(digest, None)
        if old is not None:
            _modules_bytes -= old[1]
        _modules[digest] = (module, size)
        _modules_bytes += size
        while len(_modules) > 1 and _modules_bytes > max_bytes:
            _, (_, evicted) = _modules.popitem(last=False)
            _modules_bytes -= evicted
    return module


def module_cache_bytes() -> int:
    """Bytes of compiled code in the in-memory module cache (cheap: a running sum; for a metrics gauge)."""
    return _modules_bytes


def module_cache_count() -> int:
    return len(_modules)


def clear_module_cache() -> None:
    """Forget the in-memory compiled modules (tests use it to measure cold loads)."""
    global _modules_bytes
    with _modules_lock:
        _modules.clear()
        _modules_bytes = 0


class RawFunc:
    """An exported function called through `wasmtime_func_call_unchecked`. Integer parameters and results
    only (i32/i64); `wide` is True for i64. Results are returned unsigned (they are pointers)."""

    __slots__ = ("_buf", "_ctx", "_func", "_func_ref", "_n", "_trap", "_trap_ref", "_wide")

    def __init__(
        self, store: wasmtime.Store, func: wasmtime.Func, nparams: int, wide: bool, nresults: int = 1
    ) -> None:
        ty = func.type(store)
        kind = wasmtime.ValType.i64() if wide else wasmtime.ValType.i32()
        if (
            len(ty.params) != nparams
            or any(p != kind for p in ty.params)
            or list(ty.results) != [kind] * nresults
        ):
            raise TypeError(
                f"expected {nparams} {kind} parameters and {nresults} {kind} results, got {signature(ty)}"
            )
        self._func = func  # keeps the wasmtime_func_t alive
        self._ctx = store._context()
        self._func_ref = ctypes.byref(func._func)
        self._n = max(nparams, 1)
        self._buf = (ffi.wasmtime_val_raw_t * self._n)()
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)
        self._wide = wide

    def __call__(self, *args: int) -> int:
        buf = self._buf
        if self._wide:
            for i, a in enumerate(args):
                buf[i].i64 = a
        else:
            for i, a in enumerate(args):
                buf[i].i32 = a
        error = _CALL(self._ctx, self._func_ref, buf, self._n, self._trap_ref)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        if self._trap:
            trap = wasmtime.Trap._from_ptr(self._trap)  # takes ownership of the trap pointer
            self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
            self._trap_ref = ctypes.byref(self._trap)
            raise trap
        return buf[0].i64 & 0xFFFF_FFFF_FFFF_FFFF if self._wide else buf[0].i32 & 0xFFFF_FFFF


_MEMCHR = ctypes.CDLL(None).memchr
_MEMCHR.restype = ctypes.c_void_p
_MEMCHR.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)


def _address_of(chunk: bytes | memoryview) -> bytes | ctypes.Array[ctypes.c_char]:
    """What ctypes.memmove can read `chunk` from without copying it: bytes as they are; a writable view
    (of a checkpoint's warm buffer) through `from_buffer`; anything else as a bytes copy."""
    if isinstance(chunk, bytes):
        return chunk
    view = memoryview(chunk)
    if view.readonly or not view.c_contiguous:
        return bytes(view)
    return (ctypes.c_char * view.nbytes).from_buffer(view)


class MemoryView:
    """Bulk access to a linear memory through its data pointer (ctypes memmove, no per-byte Python)."""

    __slots__ = ("_ctx", "_mem_ref", "_memory")

    _memchr = _MEMCHR

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self._memory = memory
        self._ctx = store._context()
        self._mem_ref = ctypes.byref(memory._memory)

    def base_and_size(self) -> tuple[int, int]:
        # Re-read every time: memory.grow may move the memory.
        base = ctypes.cast(ffi.wasmtime_memory_data(self._ctx, self._mem_ref), ctypes.c_void_p).value or 0
        return base, int(ffi.wasmtime_memory_data_size(self._ctx, self._mem_ref))

    def size(self) -> int:
        return int(ffi.wasmtime_memory_data_size(self._ctx, self._mem_ref))

    def write(self, ptr: int, data: bytes) -> None:
        base, size = self.base_and_size()
        if ptr + len(data) > size:
            raise IndexError(f"write of {len(data)} bytes at {ptr} is outside memory ({size} bytes)")
        ctypes.memmove(base + ptr, data, len(data))

    def read(self, ptr: int, n: int) -> bytes:
        base, size = self.base_and_size()
        if ptr + n > size:
            raise IndexError(f"read of {n} bytes at {ptr} is outside memory ({size} bytes)")
        return ctypes.string_at(base + ptr, n)

    def read_cstring(self, ptr: int, limit: int) -> bytes:
        """The bytes at `ptr` up to the first NUL (at most `limit` bytes, else IndexError)."""
        base, size = self.base_and_size()
        if ptr >= size:
            raise IndexError(f"string pointer {ptr} is outside memory ({size} bytes)")
        span = min(size - ptr, limit + 1)
        end = self._memchr(base + ptr, 0, span)
        if end is None:
            raise IndexError(f"no NUL within {min(span, limit)} bytes of {ptr}")
        return ctypes.string_at(base + ptr, end - (base + ptr))

    def dump(self) -> bytes:
        base, size = self.base_and_size()
        return ctypes.string_at(base, size)

    def copy_into(self, buffer: bytearray) -> None:
        """Copy the whole memory into `buffer`, which has its size (one memmove, no new allocation)."""
        base, size = self.base_and_size()
        if len(buffer) != size:
            raise IndexError(f"buffer is {len(buffer)} bytes, the memory {size}")
        target = (ctypes.c_char * size).from_buffer(buffer)
        ctypes.memmove(target, base, size)
        del target  # releases the buffer export (a bytearray cannot be resized while one exists)

    def load(self, chunks: Sequence[bytes | memoryview], size: int) -> None:
        """Replace the memory's first `size` bytes with the first `size` bytes of the concatenated `chunks`
        (the memory grown to `size` first by the caller) and zero the rest. memmove reads each chunk in
        place: no slice, no join (either would copy the whole state once more)."""
        base, have = self.base_and_size()
        if have < size:
            raise IndexError(f"memory is {have} bytes, the state needs {size}")
        offset = 0
        for chunk in chunks:
            count = min(len(chunk), size - offset)
            if count <= 0:
                break
            ctypes.memmove(base + offset, _address_of(chunk), count)
            offset += count
        if offset < size:
            raise IndexError(f"the state holds {offset} bytes of memory, {size} expected")
        if have > size:
            ctypes.memset(base + size, 0, have - size)
