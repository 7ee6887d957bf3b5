"""`WasmDevice`: the wasm64@1.0 execution device (DESIGN §5), AOS json-iface modules on wasmtime.

`init` resolves the module's AO format (formats.py: its `Module-Format` tag, else detected from the
binary; a module that cannot run in it is refused), loads the module (runtime.load_module: cached by
digest), builds its imports (imports.py; an unknown import is a DeviceError here, at spawn; a metered
module's `metering.usegas` is a wasm helper in the same store, metering.py), instantiates it in a fresh
Store with the memory limit, and calls the reactor initializer `_initialize`, else emscripten's
`__wasm_call_ctors`, if the module exports one (never `_start`/`main`). The Process message at slot 0 is
given its own ID as `Target` (as ao's CU does), so AOS boots trusted.

`compute` gives the store the slot's fuel (`Limits.instructions`, deterministic) and an epoch deadline
(`Limits.wall_seconds`, the non-deterministic backstop), writes the message and env JSON with the module's
`malloc` (NUL-terminated), calls `handle(msg, env)` and parses the NUL-terminated JSON at the pointer it
returns (iface.py). `malloc`, `handle` and `_initialize` go through `RawFunc` (the raw C-API call path) and
memory through ctypes memmove.

A trap (fuel exhausted, memory limit hit, `unreachable`, `proc_exit`, an abort, a stack overflow, the wall
clock) is that slot's error Result, and the state goes back to what it was before the slot: the instance is
dropped and the last good state rebuilt. That state is kept as a *checkpoint* (a snapshot taken every
`checkpoint_every` good slots, and by `snapshot()` when a good slot ran since the last one) plus the log of
good messages since; recovery is restore(checkpoint) + replay of the log, so good slots do not pay for a full
memory copy each. With the log empty the state is the checkpoint, so `snapshot()` then returns it as is.
Until the first checkpoint the last good state is the initial one: recovery initialises again (a new
instance, `_initialize`) and replays the log, so `init` copies no memory. A checkpoint copies the memory
into a buffer kept from one to the next (`_warm`): no fresh allocation and its page faults each time.
A slot that traps is not logged. A memory-limit hit is reported as such when the trap came while the
memory was within one growth step of the limit (wasmtime only makes `memory.grow` return -1; the module
then traps or reports on its own). A slot stopped by the wall clock has `last_slot_nondeterministic` set.

Snapshot bytes: the linear memory as is (a multiple of 64 KiB, so the engine's 64 KiB pages line up with
wasm pages and a slot that touched one page changes one page), then the exported mutable globals and a
trailer: `u32 count` of globals, each `u8 kind ‖ u8 name length ‖ name ‖ u64 bits`, then `u64 memory
length ‖ "AOWM" ‖ u8 version`. Globals the module does not export cannot be read through wasmtime's API;
that is sound for the usual one, the C stack pointer, which is back at its initial value whenever `handle`
has returned. Restore = a new Store and instance, memory grown to the snapshot's length and overwritten,
globals set, and `_initialize` not called (its effects are in the memory).

Device settings (`ProcessContext.settings`): `cache_dir` (compiled-module files, runtime.py),
`module_cache_bytes` (the in-memory compiled-module cache's bound, default 256 MiB), `artifacts` (the node's
`ArtifactStore`, set by the node: translations of modules using legacy exception handling, legacy_eh.py),
`checkpoint_every` (default 100), `max_result_bytes` (default 64 MiB), `stdout_limit` (default 64 KiB).
"""

from __future__ import annotations

import re
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import wasmtime
import wasmtime._func as _wasmtime_func

from aonode.devices.base import Device, DeviceError, Limits, ProcessContext
from aonode.devices.wasm import formats, iface, legacy_eh, metering, runtime
from aonode.devices.wasm.imports import HostIO, OutOfFuel, build_imports
from aonode.devices.wasm.metering import OUT_OF_GAS
from aonode.model import Assignment, Message, Result

NAME = "wasm64@1.0"
WALL_CLOCK_ERROR = "wall-clock limit exceeded"
OUT_OF_FUEL_ERROR = "instruction limit exceeded (out of fuel)"
MEMORY_ERROR = "memory limit exceeded"
SNAPSHOT_MAGIC = b"AOWM\x01"
PAGE = 65536

_GLOBAL_KINDS = {"i32": 0, "i64": 1, "f32": 2, "f64": 3}

SPURIOUS_RETRIES = 2
"""Times a slot is run again when an epoch interruption came early and was not asked for (another
engine in this process halted: `runtime.interrupt_all` moves the shared epoch)."""

_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")


def scrub(text: str) -> str:
    """`text` without Python object addresses (`<X object at 0x7f…>`): error texts become results, which
    must be the same on every node."""
    return _ADDRESS.sub("", text)


class _Exports:
    """An instance's exports by their usual names (the letters of a minified-glue binary, formats.py)."""

    def __init__(self, exports: Any, minified: bool) -> None:
        self._exports = exports
        self._minified = minified

    def get(self, name: str) -> Any:
        return self._exports.get(formats.export_name(name, self._minified))

    def items(self) -> Any:
        return self._exports.items()


class _Instance:
    """One Store + Instance and the raw entry points the device calls."""

    def __init__(self, module: wasmtime.Module, limits: Limits, io: HostIO) -> None:
        self.store = wasmtime.Store(runtime.engine())
        self.store.set_limits(memory_size=limits.memory_bytes, table_elements=1_000_000, tables=8, memories=1)
        self.store.set_fuel(limits.instructions)
        runtime.set_deadline(self.store, _ticks(limits.wall_seconds))
        io.new_instance()
        funcs = build_imports(self.store, module, io)
        self.minified = any(i.module == formats.MINIFIED_MODULE for i in module.imports)
        try:
            self.instance = wasmtime.Instance(self.store, module, funcs)
        except wasmtime.Trap as exc:
            raise DeviceError(scrub(f"{NAME}: instantiating the module trapped: {exc.message}")) from None
        except wasmtime.WasmtimeError as exc:
            raise DeviceError(scrub(f"{NAME}: the module cannot be instantiated: {exc}")) from None
        exports = _Exports(self.instance.exports(self.store), self.minified)
        memory = exports.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise DeviceError(f"{NAME}: the module exports no memory named 'memory'")
        self.wide = memory.type(self.store).is_64
        self.memory = runtime.MemoryView(self.store, memory)
        self._wasm_memory = memory
        self.malloc = self._raw(exports, "malloc", 1)
        self.handle = self._raw(exports, "handle", 2)
        # The message and env buffers are ours: freed after each slot when the module exports `free`, or
        # a process's memory (and every snapshot) would grow by their size at every slot.
        free = exports.get("free")
        try:
            self.free = (
                runtime.RawFunc(self.store, free, 1, self.wide, 0)
                if isinstance(free, wasmtime.Func)
                else None
            )
        except TypeError:
            self.free = None
        # A reactor's `_initialize`, else emscripten's `__wasm_call_ctors` (the glue runs it at startup,
        # `addOnInit`), runs once, at init: the generic call path is fine there.
        init = exports.get("_initialize")
        if not isinstance(init, wasmtime.Func):
            init = exports.get("__wasm_call_ctors")
        self.initialize = init if isinstance(init, wasmtime.Func) else None
        self.globals: list[tuple[str, wasmtime.Global]] = [
            (name, ext)
            for name, ext in exports.items()
            if isinstance(ext, wasmtime.Global) and ext.type(self.store).mutable
        ]

    def _raw(self, exports: Any, name: str, nparams: int) -> runtime.RawFunc:
        func = exports.get(name)
        if not isinstance(func, wasmtime.Func):
            raise DeviceError(f"{NAME}: the module does not export a function {name!r}")
        try:
            return runtime.RawFunc(self.store, func, nparams, self.wide)
        except TypeError as exc:
            raise DeviceError(scrub(f"{NAME}: export {name!r} has the wrong signature: {exc}")) from None

    def grow_to(self, size: int) -> None:
        have = self.memory.size()
        if size > have:
            try:
                self._wasm_memory.grow(self.store, (size - have) // PAGE)
            except wasmtime.WasmtimeError as exc:
                raise DeviceError(f"{NAME}: cannot grow memory to {size} bytes: {exc}") from None


def _load(wasm: bytes, settings: Mapping[str, Any]) -> wasmtime.Module:
    """The compiled module; one using legacy exception handling is translated first (legacy_eh.py)."""
    cache_dir = settings.get("cache_dir")
    limit = int(settings.get("module_cache_bytes", runtime.MODULE_CACHE_BYTES))
    translated = legacy_eh.cached(wasm, settings)
    try:
        return runtime.load_module(translated or wasm, cache_dir, limit)
    except wasmtime.WasmtimeError as exc:
        if translated is not None or not legacy_eh.is_legacy_eh_error(exc):
            raise DeviceError(f"{NAME}: the module does not compile: {exc}") from None
    try:
        return runtime.load_module(legacy_eh.translate(wasm, settings), cache_dir, limit)
    except wasmtime.WasmtimeError as exc:
        raise DeviceError(
            f"{NAME}: the module does not compile after translating its legacy exception handling: {exc}"
        ) from None


def check_module(wasm: bytes, settings: Mapping[str, Any], module_format: str | None = None) -> str:
    """What `init` would refuse about a module before running it: FormatError for an unknown
    `Module-Format`, a memory of the other width or a missing `memory`/`handle`/`malloc` export
    (formats.py), DeviceError if it does not compile (or cannot be translated), MissingImportsError naming
    the imports the device does not provide. Returns the format. The compiled module stays in the module
    cache, so a later `init` does not compile it again."""
    fmt = formats.resolve(wasm, module_format)
    build_imports(wasmtime.Store(runtime.engine()), _load(wasm, settings), HostIO())
    return fmt


def _ticks(seconds: float) -> int:
    return max(1, int(seconds / runtime.EPOCH_TICK) + 1)


class _Trapped(Exception):
    def __init__(self, error: str, nondeterministic: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.nondeterministic = nondeterministic


class WasmDevice(Device):
    """One AOS-style process on wasmtime."""

    name: ClassVar[str] = NAME
    can_snapshot: ClassVar[bool] = True

    def __init__(self) -> None:
        self._module: wasmtime.Module | None = None
        self._inst: _Instance | None = None
        self._limits = Limits()
        self._ticks = _ticks(self._limits.wall_seconds)
        self._io = HostIO()
        self._env = b""
        self._module_id = ""
        self._process_id = b""
        self._checkpoint: tuple[bytes | memoryview, ...] | None = None
        """The last good state, as consecutive pieces of its snapshot bytes: the memory (a view of `_warm`)
        and the rest, when `compute` took it; the store's pages when restored; one piece after
        `snapshot()`. None after `init`: the initial state, which recovery rebuilds by initialising
        again (deterministic) rather than keeping a copy of it."""
        self._warm: bytearray | None = None
        """The buffer `compute`'s checkpoints copy the memory into, reused from one to the next: a fresh
        64 MiB `bytes` costs ~16k page faults each time (a checkpoint of the 68 MiB emscripten4 AOS took
        ~140 ms, copying twice into new buffers; into this one, already mapped, it is one memmove)."""
        self._log: list[tuple[Assignment, Message]] = []
        self._checkpoint_every = 100
        self._max_result = 64 * 1024 * 1024
        self.last_slot_nondeterministic = False
        self._interrupted = False
        self.last_stdout = b""
        """What the module wrote to stdout and stderr during the last slot (bounded)."""
        self._gas_limit = metering.DEFAULT_GAS_LIMIT
        self.format = ""
        """The module's format (formats.py): its `Module-Format` tag, else detected from the binary."""
        self.last_gas_used = 0
        """`GasUsed` of the last good slot (also the Result's `gas_used`): the `metering.usegas` total when
        the module imports it, else the fuel the slot used for a `-metering` format, else 0."""

    # -- lifecycle ------------------------------------------------------------------------------

    def init(self, context: ProcessContext) -> None:
        if context.module is None:
            raise DeviceError(f"{NAME} needs a module (the WASM binary of the process)")
        settings = context.settings
        self._limits = context.limits
        self._ticks = _ticks(self._limits.wall_seconds)
        # Gas is ao's unit: its limit is the declared Compute-Limit; with none declared, the glue's default
        # (9e15: unlimited in practice), and the slot is bounded by wasmtime fuel (the node's default).
        declared = context.process.tag("Compute-Limit") or context.module.tag("Compute-Limit")
        self._gas_limit = self._limits.instructions if declared else metering.DEFAULT_GAS_LIMIT
        self._checkpoint_every = int(settings.get("checkpoint_every", 100))
        self._max_result = int(settings.get("max_result_bytes", 64 * 1024 * 1024))
        self._io = HostIO(
            limit=int(settings.get("stdout_limit", 64 * 1024)),
            read_data=context.read_data,
            read_message=context.read_message,
        )
        self.format = formats.resolve(context.module.data, context.module.tag("Module-Format"))
        self._io.gas_from_fuel = self.format in formats.METERING
        self._module = _load(context.module.data, settings)
        self._process_id = bytes(context.process_id)
        self._module_id = iface._id(context.module.id)
        self._env = iface.env_json(self._process_id, context.process, context.module)
        self._inst = self._initial_instance()
        # The last good state is the initial one, which `_recover` rebuilds by initialising again: no copy
        # of the memory now (a 68 MiB one took ~50 ms of slot 0's latency, and the engine restoring a
        # worker from a stored snapshot, init then restore, threw it away at once).
        self._checkpoint = None
        self._log = []

    def _initial_instance(self) -> _Instance:
        """A new instance in its initial state: instantiated, `_initialize` run (deterministic: fuel, and
        the host's per-call state reset as at init)."""
        assert self._module is not None
        self._io.clear(self._process_id)
        inst = _Instance(self._module, self._limits, self._io)
        self._refill(inst)
        initialize = inst.initialize
        if initialize is not None:
            try:
                self._call_guarded(inst, lambda: initialize(inst.store))
            except _Trapped as exc:
                raise DeviceError(f"{NAME}: _initialize failed: {exc.error}") from None
        return inst

    def close(self) -> None:
        self._inst = None
        self._checkpoint = None
        self._warm = None
        self._log = []

    def interrupt(self) -> None:
        self._interrupted = True
        runtime.interrupt_all()

    # -- slots ----------------------------------------------------------------------------------

    def compute(self, assignment: Assignment, message: Message) -> Result:
        self._require()
        self.last_slot_nondeterministic = False
        for attempt in range(SPURIOUS_RETRIES + 1):
            started = time.monotonic()
            try:
                raw = self._run(assignment, message)
                break
            except _Trapped as exc:
                self.last_slot_nondeterministic = exc.nondeterministic
                if exc.nondeterministic and self._interrupted:
                    # The node is stopping: this instance is not used again, so no recovery.
                    self._inst = None
                    return Result(error=exc.error)
                early = time.monotonic() - started < self._limits.wall_seconds * 0.9
                self._recover()
                if exc.nondeterministic and early and attempt < SPURIOUS_RETRIES:
                    self.last_slot_nondeterministic = False
                    continue
                return Result(error=scrub(exc.error))
        gas = self._gas_used(self._require())
        self.last_gas_used = gas
        self._log.append((assignment, message))
        if len(self._log) >= self._checkpoint_every:
            self._checkpoint = self._take_checkpoint()
            self._log = []
        result = iface.parse_result(raw)
        return replace(result, gas_used=gas) if gas else result

    def _run(self, assignment: Assignment, message: Message) -> bytes:
        inst = self._require()
        # The Process message is addressed to the process itself, as ao's CU and HyperBEAM give it: AOS
        # takes a message whose Target is not its own ID for an assignment ("not trusted").
        target = message.target
        if not target and assignment.slot == 0 and bytes(message.id) == self._process_id:
            target = iface._id(self._process_id)
        msg = iface.message_json(
            message,
            target=target,
            module_id=self._module_id,
            slot=assignment.slot,
            timestamp=assignment.timestamp,
            block_height=assignment.block_height,
            epoch=assignment.epoch,
            hash_chain=assignment.hash_chain,
        )
        self._io.clear(self._process_id + struct.pack("<Q", assignment.slot))
        self._io.block = (assignment.block_height, assignment.block_hash)
        self._refill(inst)
        runtime.set_deadline(inst.store, self._ticks)
        env = self._env

        def call() -> bytes:
            msg_ptr = self._write_cstring(inst, msg)
            env_ptr = self._write_cstring(inst, env)
            out = inst.handle(msg_ptr, env_ptr)
            if out == 0:
                raise _Trapped("handle returned a null pointer")
            try:
                raw = inst.memory.read_cstring(out, self._max_result)
            except IndexError as exc:
                raise _Trapped(f"cannot read the result: {exc}") from None
            if inst.free is not None:
                inst.free(env_ptr)
                inst.free(msg_ptr)
            return raw

        try:
            raw: bytes = self._call_guarded(inst, call)
            return raw
        finally:
            self.last_stdout = bytes(self._io.stdout + self._io.stderr)

    def _refill(self, inst: _Instance) -> None:
        """A new slot's budget: fuel, and the metering helper's gas (both the slot's Compute-Limit)."""
        inst.store.set_fuel(self._limits.instructions)
        self._io.slot_fuel = self._limits.instructions
        if self._io.gas is not None:
            self._io.gas.refill(self._gas_limit)

    def _gas_used(self, inst: _Instance) -> int:
        """ao's `GasUsed` of the slot that just ran: the glue's `gas.used`, which only `metering.usegas`
        moves (so 0 for a binary that does not import it), except that ao's loader meters a binary of a
        `-metering` format itself, where wasmtime's fuel stands in for its meter."""
        if self._io.gas is not None:
            return int(self._io.gas.used)
        if self._io.gas_from_fuel:
            return max(0, self._limits.instructions - inst.store.get_fuel())
        return 0

    def _write_cstring(self, inst: _Instance, data: bytes) -> int:
        ptr = inst.malloc(len(data) + 1)
        if ptr == 0:
            raise _Trapped(f"{MEMORY_ERROR}: malloc({len(data) + 1}) failed")
        try:
            inst.memory.write(ptr, data + b"\0")
        except IndexError as exc:
            raise _Trapped(f"malloc returned a bad pointer: {exc}") from None
        return ptr

    def _call_guarded(self, inst: _Instance, call: Any) -> Any:
        try:
            return call()
        except wasmtime.Trap as trap:
            # A Python exception inside a host function is parked by wasmtime-py in a module global for
            # `Func.__call__` to re-raise; the raw path does not, so drop it here (it is ours).
            _wasmtime_func.LAST_EXCEPTION = None
            raise self._trap_error(inst, trap) from None
        except wasmtime.WasmtimeError as exc:
            # wasmtime 50 reports a Python exception raised in a host function (proc_exit, an abort, a
            # longjmp no invoke_* caught, a trap inside a function an invoke_* called) as an error.
            _wasmtime_func.LAST_EXCEPTION = None
            if self._io.nested_trap is not None or self._io.exit is not None:
                raise self._trap_error(inst, None) from None
            raise _Trapped(scrub(f"wasm error: {exc}")) from None

    def _trap_error(self, inst: _Instance, trap: wasmtime.Trap | None) -> _Trapped:
        # A trap inside a function an emscripten invoke_* called reached us as a host error: use the original.
        trap = self._io.nested_trap or trap
        code = trap.trap_code if trap is not None else None
        if code == wasmtime.TrapCode.OUT_OF_FUEL or isinstance(self._io.exit, OutOfFuel):
            return _Trapped(OUT_OF_FUEL_ERROR)
        if code == wasmtime.TrapCode.INTERRUPT:
            return _Trapped(WALL_CLOCK_ERROR, nondeterministic=True)
        if self._io.gas is not None and self._io.gas.exhausted():
            return _Trapped(OUT_OF_GAS)
        if self._io.exit is not None:
            return _Trapped(f"the module stopped: {self._io.exit.reason}{self._stderr_tail()}")
        assert trap is not None
        # wasmtime's message is a backtrace followed by "Caused by:" and the reason: keep the reason.
        lines = [ln.strip() for ln in (trap.message or "").strip().splitlines() if ln.strip()]
        message = lines[-1].removeprefix("wasm trap: ") if lines else str(code)
        if inst.memory.size() + PAGE > self._limits.memory_bytes:
            return _Trapped(f"{MEMORY_ERROR} ({self._limits.memory_bytes} bytes): {message}")
        return _Trapped(f"wasm trap: {message}{self._stderr_tail()}")

    def _stderr_tail(self) -> str:
        tail = bytes(self._io.stderr[-512:]).decode("utf-8", "replace").strip()
        return f" (stderr: {tail})" if tail else ""

    def _recover(self) -> None:
        """Back to the state after the last good slot: checkpoint (none: the initial state, rebuilt) +
        replay of the good slots since."""
        if self._module is None:
            raise DeviceError(f"{NAME}: no state to recover to")
        log = self._log
        if self._checkpoint is None:
            self._inst = None
            self._inst = self._initial_instance()
        else:
            self._restore_chunks(self._checkpoint)
        for asg, msg in log:
            try:
                self._run(asg, msg)
            except _Trapped as exc:
                raise DeviceError(
                    f"{NAME}: replaying slot {asg.slot} after a trap failed: {exc.error}"
                ) from None
        self._log = log

    # -- state ----------------------------------------------------------------------------------

    def snapshot(self) -> bytes | None:
        self._require()
        # With no good slot since the checkpoint, the state is the checkpoint (the invariant `_recover`
        # relies on): hand it out instead of copying the memory again. The engine snapshots every
        # `snapshot_every` slots, often right after `compute` took a checkpoint of the same state.
        if self._log or self._checkpoint is None:
            self._checkpoint = self._take_checkpoint()
            self._log = []
        whole = self._checkpoint[0]
        if len(self._checkpoint) != 1 or not isinstance(whole, bytes):
            # The engine keeps what it gets: immutable bytes, one copy; it becomes the checkpoint, so a
            # second snapshot of the same state copies nothing, and the warm buffer is let go.
            whole = b"".join(self._checkpoint)
            self._checkpoint = (whole,)
            self._warm = None
        return whole

    def restore(self, data: bytes) -> None:
        self.restore_chunks((bytes(data),))

    def restore_chunks(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Restore from the snapshot's pieces as the store keeps them, without joining them: the memory
        is copied from each piece in place (for a 64 MiB state, joining cost as much as the restore)."""
        if self._module is None:
            raise DeviceError(f"{NAME}: restore before init")
        pieces = tuple(chunks)
        self._restore_chunks(pieces)
        self._checkpoint = pieces
        self._warm = None
        self._log = []

    def memory_bytes(self) -> int:
        inst = self._inst
        held = sum(map(len, self._checkpoint)) if self._checkpoint is not None else 0
        # The messages kept for recovery are held too (up to `checkpoint_every` - 1 of them, each up to the
        # node's message size): the engine's byte bound on live workers must see them.
        held += sum(len(message.data) for _, message in self._log)
        return 0 if inst is None else inst.memory.size() + held

    def _take_checkpoint(self) -> tuple[memoryview, bytes]:
        """The state as snapshot pieces: the memory copied into the warm buffer, then the globals and
        trailer (`_tail`)."""
        inst = self._require()
        size = inst.memory.size()
        warm = self._warm
        if warm is None or len(warm) != size:
            warm = self._warm = bytearray(size)
        inst.memory.copy_into(warm)
        return memoryview(warm), self._tail(inst, size)

    def _tail(self, inst: _Instance, memory_length: int) -> bytes:
        parts = [struct.pack("<I", len(inst.globals))]
        for name, glob in inst.globals:
            kind = str(glob.type(inst.store).content)
            value = glob.value(inst.store)
            if kind not in _GLOBAL_KINDS:
                raise DeviceError(f"{NAME}: cannot snapshot exported global {name!r} of type {kind}")
            k = _GLOBAL_KINDS[kind]
            bits = struct.pack("<q", value) if k in (0, 1) else struct.pack("<d", float(value))
            encoded = name.encode()[:255]
            parts.append(struct.pack("<BB", k, len(encoded)) + encoded + bits)
        parts.append(struct.pack("<Q", memory_length) + SNAPSHOT_MAGIC)
        return b"".join(parts)

    def _restore_chunks(self, chunks: Sequence[bytes | memoryview]) -> None:
        if self._module is None:
            raise DeviceError(f"{NAME}: restore before init")
        total = sum(map(len, chunks))
        end = _suffix(chunks, 13)
        if total < 13 or end[-5:] != SNAPSHOT_MAGIC:
            raise DeviceError(f"{NAME}: not a {NAME} snapshot")
        (mem_len,) = struct.unpack_from("<Q", end)
        if mem_len % PAGE or mem_len > total - 13:
            raise DeviceError(f"{NAME}: corrupt snapshot (memory length {mem_len})")
        data = _suffix(chunks, total - mem_len)  # the globals and the end record (small)
        self._inst = None
        inst = _Instance(self._module, self._limits, self._io)
        inst.grow_to(mem_len)
        inst.memory.load(chunks, mem_len)
        pos = 0
        (count,) = struct.unpack_from("<I", data, pos)
        pos += 4
        by_name = dict(inst.globals)
        for _ in range(count):
            kind, n = struct.unpack_from("<BB", data, pos)
            name = data[pos + 2 : pos + 2 + n].decode()
            pos += 2 + n
            glob = by_name.get(name)
            if glob is None:
                raise DeviceError(f"{NAME}: snapshot names a global {name!r} the module does not export")
            if kind in (0, 1):
                (ival,) = struct.unpack_from("<q", data, pos)
                glob.set_value(inst.store, wasmtime.Val.i32(ival) if kind == 0 else wasmtime.Val.i64(ival))
            else:
                (fval,) = struct.unpack_from("<d", data, pos)
                glob.set_value(inst.store, wasmtime.Val.f32(fval) if kind == 2 else wasmtime.Val.f64(fval))
            pos += 8
        self._inst = inst

    def _require(self) -> _Instance:
        if self._inst is None:
            raise DeviceError(f"{NAME}: the device is not initialised (or was closed)")
        return self._inst


def _suffix(chunks: Sequence[bytes | memoryview], n: int) -> bytes:
    """The last `n` bytes of the concatenated `chunks` (all of it if shorter), without joining the rest."""
    parts: list[bytes | memoryview] = []
    need = n
    for chunk in reversed(chunks):
        if need <= 0:
            break
        parts.append(chunk[-need:] if len(chunk) > need else chunk)
        need -= len(chunk)
    return b"".join(reversed(parts))
