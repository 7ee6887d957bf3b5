"""A small reader and writer for the WebAssembly binary format: enough to walk every function body and
rewrite only the instructions a pass must change (exnref.py), copying everything else byte for byte.

`parse_module` splits a module into its sections (each kept as the exact bytes it was read from) and
decodes the ones a rewrite needs to understand: types (function, struct, array and rec groups, so type
indices count right), imports (tags and functions), tags and the code section's bodies (locals and the
span of each body's instructions). `walk` decodes a body's instructions one by one, reading every
immediate (core, memory64 memargs with 64-bit offsets and a memory index, bulk memory and the other 0xFC
operations, reference types, GC 0xFB, SIMD 0xFD, threads 0xFE, the legacy and final exception opcodes,
multi-value block types) so it always knows where the next instruction starts; it reports only the
*structural* instructions (blocks, branches, exception opcodes) with their decoded immediates, as
`Instr(op, start, end, imm)`: a rewrite copies the bytes between two of them as they are.

Anything malformed (truncated, an over-long LEB128, an unknown opcode, a section that does not end where
its size says) raises `DecodeError` with the offset; nothing else escapes from decoding arbitrary bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aonode.devices.base import DeviceError

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

SEC_CUSTOM, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_MEMORY, SEC_EXPORT = 0, 1, 2, 3, 5, 7
SEC_CODE, SEC_TAG = 10, 13

# Structural opcodes `walk` reports (everything else is skipped over).
BLOCK, LOOP, IF, ELSE, TRY, CATCH, THROW, RETHROW, THROW_REF, END = (
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x0A,
    0x0B,
)
BR, BR_IF, BR_TABLE, DELEGATE, CATCH_ALL, TRY_TABLE = 0x0C, 0x0D, 0x0E, 0x18, 0x19, 0x1F
BR_ON_NULL, BR_ON_NON_NULL = 0xD5, 0xD6
BR_ON_CAST, BR_ON_CAST_FAIL = 0xFB18, 0xFB19
LEGACY_OPS = frozenset({TRY, CATCH, RETHROW, DELEGATE, CATCH_ALL})

EXNREF = b"\x69"


class DecodeError(DeviceError):
    """The bytes are not a WebAssembly module this reader understands."""


# --- LEB128 -------------------------------------------------------------------------------------------


def u32(value: int) -> bytes:
    """Unsigned LEB128 (canonical, shortest)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def s33(value: int) -> bytes:
    """Signed LEB128 (canonical, shortest)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def vec(items: list[bytes]) -> bytes:
    return u32(len(items)) + b"".join(items)


class Reader:
    """A cursor over bytes; every read checks its bounds."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, what: str, at: int | None = None) -> DecodeError:
        return DecodeError(f"wasm: {what} at offset {self.pos if at is None else at:#x}")

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail(f"unexpected end (need {n} bytes)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _leb(self, bits: int) -> tuple[int, int, int]:
        """The raw LEB128 value at the cursor, its width in bits and its start offset."""
        result = shift = 0
        start = self.pos
        while True:
            if self.pos >= self.end:
                raise self.fail("unexpected end in LEB128", start)
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result, shift, start
            if shift >= bits + 7:
                raise self.fail("LEB128 too long", start)

    def uleb(self, bits: int = 32) -> int:
        result, _, start = self._leb(bits)
        if result >> bits:
            raise self.fail(f"LEB128 out of range for u{bits}", start)
        return result

    def sleb(self, bits: int = 32) -> int:
        result, shift, start = self._leb(bits)
        if result >> (shift - 1):  # the sign bit: the last byte's 0x40
            result -= 1 << shift
        if not -(1 << (bits - 1)) <= result < (1 << (bits - 1)):
            raise self.fail(f"LEB128 out of range for s{bits}", start)
        return result

    def name(self) -> str:
        raw = self.take(self.uleb())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("name is not UTF-8") from None

    def heaptype(self) -> None:
        self.sleb(33)

    def valtype(self) -> bytes:
        start = self.pos
        b = self.byte()
        if b in (0x63, 0x64):
            self.heaptype()
        elif not 0x40 < b < 0x80:
            raise self.fail(f"bad value type {b:#x}", start)
        return self.data[start : self.pos]

    def storagetype(self) -> bytes:
        if self.pos < self.end and self.data[self.pos] in (0x77, 0x78):  # i16, i8 (packed)
            return self.take(1)
        return self.valtype()

    def limits(self, memory: bool) -> int:
        """Skips a table's or memory's limits; returns their flags (0x04: memory64)."""
        flags = self.byte()
        if flags & ~0x0F:
            raise self.fail(f"bad limits flags {flags:#x}")
        bits = 64 if flags & 0x04 else 32
        self.uleb(bits)
        if flags & 0x01:
            self.uleb(bits)
        if memory and flags & 0x08:  # custom page size
            self.uleb()
        return flags


@dataclass(frozen=True)
class FuncType:
    params: tuple[bytes, ...]
    results: tuple[bytes, ...]


@dataclass
class Section:
    id: int
    start: int
    """Offset of the section's id byte in the module."""
    end: int
    payload: int
    """Offset of the section's contents (after its size)."""


@dataclass
class Body:
    start: int
    """Offset of the body's size field."""
    end: int
    locals_start: int
    code_start: int
    """Offset of the first instruction (after the locals)."""
    locals: list[tuple[int, bytes]]
    """(count, value type) runs as declared."""
    nlocals: int
    """Declared locals (not counting parameters)."""


@dataclass
class Module:
    data: bytes
    sections: list[Section] = field(default_factory=list)
    types: list[FuncType | None] = field(default_factory=list)
    """Every defined type by index; None for struct/array types."""
    type_entries: int = 0
    """Entries in the type section's vector (a rec group is one entry holding several types)."""
    func_types: list[int] = field(default_factory=list)
    """Type index of every function: imported first, then defined."""
    imported_funcs: int = 0
    tag_types: list[int] = field(default_factory=list)
    """Type index of every tag: imported first, then defined."""
    bodies: list[Body] = field(default_factory=list)

    def section(self, sid: int) -> Section | None:
        for s in self.sections:
            if s.id == sid:
                return s
        return None

    def func_type(self, index: int, at: int = 0) -> FuncType:
        ty = self.types[index] if 0 <= index < len(self.types) else None
        if ty is None:
            raise DecodeError(f"wasm: type {index} is not a function type (offset {at:#x})")
        return ty


def parse_module(data: bytes) -> Module:
    """Split `data` into sections and decode types, imports, functions, tags and code bodies."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if data[:4] != MAGIC:
        raise DecodeError("wasm: not a WebAssembly module (bad magic)")
    if data[4:8] != VERSION:
        raise DecodeError(f"wasm: unsupported version {data[4:8].hex()} (only 1, the core module format)")
    mod = Module(data)
    r = Reader(data, 8)
    while r.pos < r.end:
        start = r.pos
        sid = r.byte()
        size = r.uleb()
        payload = r.pos
        r.take(size)
        mod.sections.append(Section(sid, start, r.pos, payload))
    for sec in mod.sections:
        sr = Reader(data, sec.payload, sec.end)
        if sec.id == SEC_TYPE:
            _types(sr, mod)
        elif sec.id == SEC_IMPORT:
            _imports(sr, mod)
        elif sec.id == SEC_FUNCTION:
            mod.func_types.extend(sr.uleb() for _ in range(sr.uleb()))
        elif sec.id == SEC_TAG:
            for _ in range(sr.uleb()):
                if sr.byte() != 0:
                    raise sr.fail("bad tag attribute")
                mod.tag_types.append(sr.uleb())
        elif sec.id == SEC_CODE:
            _code(sr, mod)
        elif sec.id == SEC_CUSTOM:
            sr.name()
            sr.pos = sr.end
        else:
            sr.pos = sr.end  # copied as is
        if sr.pos != sr.end:
            raise sr.fail(f"section {sec.id} does not end where its size says")
    if len(mod.bodies) != len(mod.func_types) - mod.imported_funcs:
        raise DecodeError("wasm: the function and code sections disagree on the number of functions")
    return mod


def _types(r: Reader, mod: Module) -> None:
    mod.type_entries = r.uleb()
    for _ in range(mod.type_entries):
        if r.pos < r.end and r.data[r.pos] == 0x4E:  # rec group
            r.pos += 1
            for _ in range(r.uleb()):
                mod.types.append(_subtype(r))
        else:
            mod.types.append(_subtype(r))


def _subtype(r: Reader) -> FuncType | None:
    if r.pos < r.end and r.data[r.pos] in (0x50, 0x4F):  # sub / sub final
        r.pos += 1
        for _ in range(r.uleb()):
            r.uleb()
    form = r.byte()
    if form == 0x60:
        params = tuple(r.valtype() for _ in range(r.uleb()))
        results = tuple(r.valtype() for _ in range(r.uleb()))
        return FuncType(params, results)
    if form == 0x5F:
        for _ in range(r.uleb()):
            r.storagetype()
            r.byte()
        return None
    if form == 0x5E:
        r.storagetype()
        r.byte()
        return None
    raise r.fail(f"unsupported type form {form:#x}", r.pos - 1)


def _imports(r: Reader, mod: Module) -> None:
    for _ in range(r.uleb()):
        r.name()
        if (
            r.pos < r.end
            and r.data[r.pos] == 0x00
            and r.pos + 1 < r.end
            and r.data[r.pos + 1] in (0x7E, 0x7F)
        ):
            raise r.fail("compact imports are not supported")
        r.name()
        kind = r.byte()
        if kind == 0:
            mod.func_types.append(r.uleb())
            mod.imported_funcs += 1
        elif kind == 1:
            r.valtype()
            r.limits(memory=False)
        elif kind == 2:
            r.limits(memory=True)
        elif kind == 3:
            r.valtype()
            r.byte()
        elif kind == 4:
            if r.byte() != 0:
                raise r.fail("bad tag attribute")
            mod.tag_types.append(r.uleb())
        else:
            raise r.fail(f"bad import kind {kind:#x}", r.pos - 1)


def _code(r: Reader, mod: Module) -> None:
    for _ in range(r.uleb()):
        start = r.pos
        size = r.uleb()
        end = r.pos + size
        if end > r.end:
            raise r.fail("function body runs past the code section", start)
        locals_start = r.pos
        runs = []
        total = 0
        for _ in range(r.uleb()):
            n = r.uleb()
            runs.append((n, r.valtype()))
            total += n
        if total >= 1 << 32:
            raise r.fail("too many locals", locals_start)
        if r.pos > end:
            raise r.fail("locals run past the function body", start)
        mod.bodies.append(Body(start, end, locals_start, r.pos, runs, total))
        r.pos = end


# --- instructions --------------------------------------------------------------------------------------

# How each single-byte opcode's immediates are laid out.
_NONE, _IDX, _IDX2, _BT, _MEMARG, _F32, _F64, _BRTABLE, _SELECT_T, _TRY_TABLE, _FB, _FC, _FD, _FE, _HT = (
    range(15)
)
_OPS: dict[int, int] = {}
for _op in (0x00, 0x01, 0x05, 0x0A, 0x0B, 0x0F, 0x19, 0x1A, 0x1B, 0xD1, 0xD3, 0xD4, *range(0x45, 0xC5)):
    _OPS[_op] = _NONE
for _op in (0x07, 0x08, 0x09, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x18, *range(0x20, 0x27), 0x3F, 0x40):
    _OPS[_op] = _IDX
for _op in (0x41, 0x42, 0xD2, 0xD5, 0xD6):
    _OPS[_op] = _IDX  # i32/i64.const skip like any LEB (range-checked below)
for _op in (0x11, 0x13):
    _OPS[_op] = _IDX2
for _op in (0x02, 0x03, 0x04, 0x06):
    _OPS[_op] = _BT
for _op in range(0x28, 0x3F):
    _OPS[_op] = _MEMARG
_OPS.update({0x43: _F32, 0x44: _F64, 0x0E: _BRTABLE, 0x1C: _SELECT_T, 0x1F: _TRY_TABLE, 0xD0: _HT})
_OPS.update({0xFB: _FB, 0xFC: _FC, 0xFD: _FD, 0xFE: _FE})

_REPORTED = frozenset(
    {BLOCK, LOOP, IF, ELSE, TRY, CATCH, RETHROW, END, BR, BR_IF, BR_TABLE, DELEGATE, CATCH_ALL, TRY_TABLE}
    | {BR_ON_NULL, BR_ON_NON_NULL}
)

# 0xFC: operations and how many u32 immediates each has.
_FC_IMMS = {**dict.fromkeys(range(8), 0), 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 1, 14: 2, 15: 1, 16: 1, 17: 1}
# 0xFB (GC): u32 immediates per operation, except ref.test/cast (heap type) and br_on_cast (special).
_FB_IMMS = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 2,
    5: 2,
    6: 1,
    7: 1,
    8: 2,
    9: 2,
    10: 2,
    11: 1,
    12: 1,
    13: 1,
    14: 1,
    15: 0,
}
_FB_IMMS.update({16: 1, 17: 2, 18: 2, 19: 2, 26: 0, 27: 0, 28: 0, 29: 0, 30: 0})


@dataclass(frozen=True, slots=True)
class Instr:
    op: int
    start: int
    end: int
    imm: Any = None
    """BLOCK/LOOP/IF/TRY/TRY_TABLE: (block type start, end, type); TRY_TABLE adds its catches as
    imm[3] = [(kind, tag or None, label)]; branches: the label (BR_TABLE: the list, default last);
    CATCH: the tag; RETHROW/DELEGATE: the label; BR_ON_CAST*: (flags, label, heap types start, end)."""


def blocktype(r: Reader) -> tuple[int, int, Any]:
    """(start, end, kind): kind is None (empty), bytes (one value type) or an int (a type index)."""
    start = r.pos
    b = r.data[r.pos] if r.pos < r.end else -1
    if b == 0x40:
        r.pos += 1
        return start, r.pos, None
    if b in (0x63, 0x64) or 0x40 < b < 0x80:
        vt = r.valtype()
        return start, r.pos, vt
    idx = r.sleb(33)
    if idx < 0:
        raise r.fail("bad block type", start)
    return start, r.pos, idx


def _skip_leb(r: Reader, bits: int) -> None:
    data, pos, end = r.data, r.pos, r.end
    limit = pos + (bits + 6) // 7
    while True:
        if pos >= end:
            raise r.fail("unexpected end in LEB128")
        b = data[pos]
        pos += 1
        if not b & 0x80:
            break
        if pos >= limit:
            raise r.fail("LEB128 too long")
    r.pos = pos


def _memarg(r: Reader, memory64: bool = True) -> None:
    align = r.uleb()
    if align & 0x40:  # multi-memory: a memory index follows
        r.uleb()
    r.uleb(64 if memory64 else 32)


def walk(data: bytes, start: int, end: int) -> list[Instr]:
    """The structural instructions of the expression at `data[start:end]` (a function body's code, which
    must end with the `end` that closes it)."""
    r = Reader(data, start, end)
    out: list[Instr] = []
    ops = _OPS
    reported = _REPORTED
    depth = 1
    while depth:
        at = r.pos
        if at >= end:
            raise r.fail("function body ends before its final `end`")
        op = data[at]
        r.pos = at + 1
        kind = ops.get(op)
        if kind is None:
            raise r.fail(f"unknown opcode {op:#04x}", at)
        imm: Any = None
        if kind == _NONE:
            pass
        elif kind == _IDX:
            if op in reported:
                imm = r.uleb()
            elif op == 0x41:
                r.sleb(32)
            elif op == 0x42:
                r.sleb(64)
            else:
                _skip_leb(r, 32)
        elif kind == _MEMARG:
            _memarg(r)
        elif kind == _BT:
            imm = blocktype(r)
        elif kind == _IDX2:
            _skip_leb(r, 32)
            _skip_leb(r, 32)
        elif kind == _F32:
            r.take(4)
        elif kind == _F64:
            r.take(8)
        elif kind == _BRTABLE:
            imm = [r.uleb() for _ in range(_count(r) + 1)]
        elif kind == _SELECT_T:
            for _ in range(_count(r)):
                r.valtype()
        elif kind == _TRY_TABLE:
            bt = blocktype(r)
            catches = []
            for _ in range(_count(r)):
                ck = r.byte()
                if ck > 3:
                    raise r.fail(f"bad catch kind {ck}", r.pos - 1)
                tag = r.uleb() if ck < 2 else None
                catches.append((ck, tag, r.uleb()))
            imm = (*bt, catches)
        elif kind == _HT:
            r.heaptype()
        elif kind == _FC:
            sub = r.uleb()
            n = _FC_IMMS.get(sub)
            if n is None:
                raise r.fail(f"unknown opcode 0xfc {sub}", at)
            for _ in range(n):
                r.uleb()
        elif kind == _FD:
            _simd(r, at)
        elif kind == _FB:
            sub = r.uleb()
            n = _FB_IMMS.get(sub)
            if n is not None:
                for _ in range(n):
                    r.uleb()
            elif 20 <= sub <= 23:
                r.heaptype()
            elif sub in (24, 25):
                flags = r.byte()
                label = r.uleb()
                hs = r.pos
                r.heaptype()
                r.heaptype()
                op = 0xFB00 | sub
                imm = (flags, label, hs, r.pos)
                out.append(Instr(op, at, r.pos, imm))
                continue
            else:
                raise r.fail(f"unknown opcode 0xfb {sub}", at)
        elif kind == _FE:
            sub = r.uleb()
            if sub == 3:
                if r.byte() != 0:
                    raise r.fail("bad atomic.fence immediate", at)
            elif sub <= 2 or 0x10 <= sub <= 0x4E:
                _memarg(r)
            else:
                raise r.fail(f"unknown opcode 0xfe {sub}", at)
        if op in (BLOCK, LOOP, IF, TRY, TRY_TABLE):
            depth += 1
        elif op == END:
            depth -= 1
        elif op == DELEGATE:
            depth -= 1  # ends its try (with no `end`)
        if op in reported:
            out.append(Instr(op, at, r.pos, imm))
    if r.pos != end:
        raise r.fail("bytes after the function body's final `end`")
    return out


def _count(r: Reader) -> int:
    n = r.uleb()
    if n > r.end - r.pos:  # each element takes at least one byte: refuse absurd counts before looping
        raise r.fail(f"vector of {n} elements in {r.end - r.pos} bytes")
    return n


# 0xFD (SIMD): which operations carry a memarg, a lane index, both, or 16 bytes.
_FD_MEMARG = frozenset({*range(0, 12), 92, 93})
_FD_MEMARG_LANE = frozenset(range(84, 92))
_FD_LANE = frozenset(range(21, 35))


def _simd(r: Reader, at: int) -> None:
    sub = r.uleb()
    if sub in _FD_MEMARG:
        _memarg(r)
    elif sub in (12, 13):  # v128.const, i8x16.shuffle
        r.take(16)
    elif sub in _FD_LANE:
        r.byte()
    elif sub in _FD_MEMARG_LANE:
        _memarg(r)
        r.byte()
    elif sub > 0x113:
        raise r.fail(f"unknown opcode 0xfd {sub}", at)
