"""AO module formats: which one a module is, and what each needs of the binary (docs/wasm.md, Formats).

ao's loader (`@permaweb/ao-loader`) picks emscripten JS glue by the Module message's `Module-Format` tag:
`wasm32-unknown-emscripten` (emscripten 2.x/3.0 glue, `getTempRet0`/`setTempRet0`, `system`),
`-emscripten2`, `-emscripten3`, `-emscripten4` (emscripten 3.1.5x+, asyncify, WeaveDrive,
`_emscripten_system`, `metering_gasUsed`), `-emscripten-metering` (emscripten4's glue; the loader meters the
binary itself, `meterWASM` adding `metering.usegas` calls), `wasm64-unknown-emscripten-draft_2024_02_15` and
`wasm64-unknown-emscripten-draft_2024_10_16-metering`. This node has no glue: the imports every format's
glue provides are host functions (imports.py), resolved by name and signature, so the format decides only
what is checked: the pointer width of the memory (wasm32 or memory64), and whether the slot reports
`GasUsed` (the `-metering` formats). Every format calls `handle(msg, env)` with two NUL-terminated JSON
strings and reads a NUL-terminated JSON string back (the glue's `cwrap('handle', 'string', ['string',
'string'])`); the strings are written with the module's `malloc` (the glue puts them on the C stack,
which a 50 MiB message would overflow), so `memory`, `handle` and `malloc` must be exported.

A module with no `Module-Format` tag gets the format its binary shows (`detect`): memory64 → wasm64
(`-metering` when it imports `metering.usegas`); wasm32 importing `metering.usegas` → `-emscripten-metering`;
wasm32 importing `__asyncjs__*`, `_emscripten_system` or `metering_gasUsed`, or exporting `asyncify_*` →
`-emscripten4`; wasm32 importing `getTempRet0` → `wasm32-unknown-emscripten`; other wasm32 →
`-emscripten3`.

The binary is read here with binary.py's `Reader` rather than through wasmtime: a module using legacy
exception handling does not compile before it is translated, and the format must be known before that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aonode.devices.base import DeviceError
from aonode.devices.wasm.binary import SEC_EXPORT, SEC_IMPORT, SEC_MEMORY, DecodeError, Reader

WASM32 = (
    "wasm32-unknown-emscripten",
    "wasm32-unknown-emscripten2",
    "wasm32-unknown-emscripten3",
    "wasm32-unknown-emscripten4",
    "wasm32-unknown-emscripten-metering",
)
WASM64 = (
    "wasm64-unknown-emscripten-draft_2024_02_15",
    "wasm64-unknown-emscripten-draft_2024_10_16-metering",
)
FORMATS = WASM32 + WASM64
METERING = frozenset(f for f in FORMATS if f.endswith("-metering"))

MINIFIED_MODULE = "a"
MINIFIED_IMPORTS: dict[str, tuple[str, str]] = {
    short: ("wasi_snapshot_preview1" if name.startswith("fd_") or name.startswith("environ") else "env", name)
    for short, name in {
        "w": "__syscall_dup3", "d": "__syscall_fcntl64", "z": "__syscall_ioctl", "r": "__syscall_lstat64",
        "g": "__syscall_openat", "s": "__syscall_renameat", "t": "__syscall_rmdir", "e": "__syscall_unlinkat",
        "a": "_emscripten_date_now", "A": "_emscripten_get_now_is_monotonic",
        "p": "_emscripten_throw_longjmp", "B": "_gmtime_js", "C": "_localtime_js", "i": "_mktime_js",
        "j": "_tzset_js", "D": "abort",
        "k": "emscripten_memcpy_big", "q": "emscripten_resize_heap", "u": "environ_get",
        "v": "environ_sizes_get", "l": "exit", "c": "fd_close", "y": "fd_read", "o": "fd_seek",
        "f": "fd_write",
        "h": "getTempRet0", "x": "invoke_vii", "b": "setTempRet0", "n": "strftime", "m": "system",
    }.items()
}  # fmt: skip
"""`wasm32-unknown-emscripten`'s glue (ao-loader formats/emscripten.cjs) is closure-minified: the binary
imports `a.<letter>` and exports letters. Its `asmLibraryArg` fixes what each letter is."""
MINIFIED_EXPORTS = {
    "memory": "E", "__wasm_call_ctors": "F", "handle": "G", "main": "H", "__indirect_function_table": "I",
    "malloc": "J", "__errno_location": "K", "setThrew": "L", "stackSave": "M", "stackRestore": "N",
    "stackAlloc": "O",
}  # fmt: skip
"""The exports that glue reads (`Module.asm.E` is the memory, `.G` is `handle`, `.J` is `malloc`, …)."""

REQUIRED_EXPORTS = ("memory", "handle", "malloc")
"""What every format calls: the memory the JSON goes through, `handle`, and the allocator for the JSON."""


class FormatError(DeviceError):
    """The module cannot run in the format it declares (or in any): refused at spawn (INVALID_ARGUMENT)."""


@dataclass
class Binary:
    """What the parser read of a module: its imports `(module, name, kind)` (kind 0 function, 1 table,
    2 memory, 3 global, 4 tag), exports `{name: kind}`, and whether its memory is 64-bit."""

    imports: list[tuple[str, str, int]] = field(default_factory=list)
    exports: dict[str, int] = field(default_factory=dict)
    memory64: bool | None = None


def parse(wasm: bytes) -> Binary:
    """The imports, exports and memory width of `wasm` (FormatError if it is not a wasm binary)."""
    if wasm[:4] != b"\0asm":
        raise FormatError("wasm64@1.0: the module is not a WebAssembly binary (no \\0asm header)")
    out = Binary()
    r = Reader(wasm, 8)
    try:
        while r.pos < r.end:
            section = r.byte()
            size = r.uleb()
            end = r.pos + size
            if section == SEC_IMPORT:
                for _ in range(r.uleb()):
                    mod, name = _name(r), _name(r)
                    kind = r.byte()
                    if kind == 0:
                        r.uleb()
                    elif kind == 1:
                        r.valtype()
                        r.limits(memory=False)
                    elif kind == 2:
                        out.memory64 = bool(r.limits(memory=True) & 4)
                    elif kind == 3:
                        r.valtype()
                        r.byte()
                    elif kind == 4:
                        r.byte()
                        r.uleb()
                    else:
                        raise r.fail(f"unknown import kind {kind}")
                    out.imports.append((mod, name, kind))
            elif section == SEC_MEMORY:
                if r.uleb():
                    out.memory64 = bool(r.byte() & 4)
            elif section == SEC_EXPORT:
                for _ in range(r.uleb()):
                    name = _name(r)
                    kind = r.byte()
                    r.uleb()
                    out.exports[name] = kind
            r.pos = end
    except DecodeError as exc:
        raise FormatError(f"wasm64@1.0: the module's binary is malformed: {exc}") from None
    return out


def _name(r: Reader) -> str:
    # Lenient where binary.Reader.name is strict: a non-UTF-8 name is left for wasmtime to refuse.
    return r.take(r.uleb()).decode("utf-8", "replace")


def detect(binary: Binary) -> str:
    """The format a module with no `Module-Format` tag is run as (see the module docstring)."""
    names = {name for _, name, _ in binary.imports}
    metered = any(mod == "metering" and name == "usegas" for mod, name, _ in binary.imports)
    if is_minified(binary):
        return "wasm32-unknown-emscripten"
    if binary.memory64:
        return WASM64[1] if metered else WASM64[0]
    if metered:
        return "wasm32-unknown-emscripten-metering"
    if (
        any(n.startswith("__asyncjs__") for n in names)
        or names & {"_emscripten_system", "metering_gasUsed"}
        or any(n.startswith("asyncify_") for n in binary.exports)
    ):
        return "wasm32-unknown-emscripten4"
    if "getTempRet0" in names:
        return "wasm32-unknown-emscripten"
    return "wasm32-unknown-emscripten3"


def is_minified(binary: Binary) -> bool:
    """Whether the binary was built for `wasm32-unknown-emscripten`'s minified glue (imports `a.*`)."""
    return any(mod == MINIFIED_MODULE for mod, _, _ in binary.imports)


def export_name(name: str, minified: bool) -> str:
    """What the binary calls export `name` (its minified letter for the minified glue)."""
    return MINIFIED_EXPORTS.get(name, name) if minified else name


def resolve(wasm: bytes, declared: str | None) -> str:
    """The format to run `wasm` as: its `Module-Format` tag when given (checked against the binary), else
    the detected one. FormatError for an unknown format, a memory of the wrong width, or a missing export."""
    binary = parse(wasm)
    if declared is not None and declared.strip():
        fmt = declared.strip()
        if fmt not in FORMATS:
            raise FormatError(
                f"wasm64@1.0: Module-Format {fmt[:80]!r} is not a format this node runs "
                f"(it runs: {', '.join(FORMATS)})"
            )
    else:
        fmt = detect(binary)
    if binary.memory64 is None:
        raise FormatError("wasm64@1.0: the module has no memory")
    wide = fmt in WASM64
    if binary.memory64 != wide:
        have = "a 64-bit (memory64)" if binary.memory64 else "a 32-bit"
        raise FormatError(f"wasm64@1.0: Module-Format {fmt} does not fit the module, which has {have} memory")
    minified = is_minified(binary)
    if minified and fmt != "wasm32-unknown-emscripten":
        raise FormatError(
            f"wasm64@1.0: the module imports minified names ({MINIFIED_MODULE}.*), which only the glue of "
            f"wasm32-unknown-emscripten provides, not {fmt}'s"
        )
    kinds = {name: binary.exports.get(export_name(name, minified)) for name in REQUIRED_EXPORTS}
    missing = [name for name, kind in kinds.items() if kind is None]
    if missing:
        raise FormatError(
            f"wasm64@1.0: the module does not export {', '.join(missing)}, which format {fmt} calls"
        )
    if kinds["memory"] != 2:
        raise FormatError("wasm64@1.0: the module's export 'memory' is not a memory")
    if any(kinds[name] != 0 for name in ("handle", "malloc")):
        raise FormatError("wasm64@1.0: the module's exports 'handle' and 'malloc' must be functions")
    return fmt
