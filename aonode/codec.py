"""The canonical binary encoding of model values: what digests and IDs hash, and what the store keeps.

Every encoding starts with a 4-byte ASCII prefix naming kind and version (`AOM1` message, `AOA1`
assignment, `AOL1` location, `AOR1` result), so encodings of different kinds never coincide and their
digests never collide. Fields follow in a fixed order, each length-prefixed (u32 big-endian for strings
and short byte strings; u64 big-endian for data payloads and for integers). Strings are UTF-8.

Signable kinds (message, assignment, location) put the signature's scheme and owner right after the
prefix, behind a presence byte (0 unsigned, 1 signed), so the signature binds them; the signature value
comes last and only in the full encoding:

    full = content ‖ (signed ? u32 len(value) ‖ value : nothing)

so the content encoding (what `content_digest` hashes) is a prefix of the full encoding, and an
unsigned object's full encoding equals its content encoding. Decoding is strict: wrong prefix,
truncation, trailing bytes, a presence/bool byte other than 0/1 or invalid UTF-8 raise `DecodeError`.
Every byte string that decodes re-encodes to itself, so an encoding is canonical. The byte-by-byte
layout is in docs/ids.md; tests/vectors/ids.json pins it.

The codec encodes anything representable (ints within u64, lengths within their prefix, text without
lone surrogates) and raises `EncodeError` otherwise; limits on what a node accepts are `validate()`'s job.
One exception: an assignment's process, message and hash chain are IDs, exactly 32 bytes, in both
directions (a decoder also refuses other lengths), since nothing else ever has a place in a schedule.

Messages and assignments are decoded by a fast path that falls back to a field-by-field reader for
anything irregular (see "Fast paths" below), and keep their encoding once computed (ENCODING_CACHE_MAX).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import repeat
from typing import TypeAlias

from blake3 import blake3

from aonode.errors import InvalidArgument
from aonode.ids import ID_LEN
from aonode.model import (
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
    _new,
    _raw_assignment,
    _raw_message,
    _raw_signature,
    _set_tag_name,
    _set_tag_value,
)

MESSAGE_PREFIX = b"AOM1"
ASSIGNMENT_PREFIX = b"AOA1"
LOCATION_PREFIX = b"AOL1"
RESULT_PREFIX = b"AOR1"
RESULT_GAS_PREFIX = b"AOR2"
"""A result whose `gas_used` is not 0: the AOR1 fields, then `u64` gas used. A result without gas keeps
the AOR1 encoding, so every result computed before GasUsed existed (and every Lua result) keeps its digest."""

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_pack_u32 = _U32.pack
_pack_u64 = _U64.pack
_unpack_u32 = _U32.unpack_from
_unpack_u64 = _U64.unpack_from
_UNSIGNED = b"\x00"
_SIGNED = b"\x01"

ENCODING_CACHE_MAX = 64 << 10
"""Messages and assignments keep their full encoding (with the length of its content prefix) in the
instance `__dict__` once computed, up to this size: the content digest hashes the prefix and
`encode_message`/`encode_assignment` return it, so verify-then-store and sign-then-store encode once.
Values are immutable, so the cache never goes stale; `dataclasses.replace` builds a new object without it.
Larger encodings are not kept (a second copy of a big message would cost more than re-encoding it)."""
_ENCODING = "_encoding"


class CodecError(InvalidArgument):
    """Base of the codec's errors."""


class DecodeError(CodecError):
    """Bytes that are not a canonical encoding of the expected kind."""


class EncodeError(CodecError):
    """A value the encoding cannot represent (an integer outside u64, text with lone surrogates, a field
    longer than its length prefix allows)."""


# -- encoding ---------------------------------------------------------------------------------------------
# Builders append to a list that one bytes.join turns into the encoding: no intermediate copies.


def _sig_head(parts: list[bytes], sig: Signature | None) -> None:
    if sig is None:
        parts.append(_UNSIGNED)
    else:
        scheme = sig.scheme.encode()
        parts += (_SIGNED, _pack_u32(len(scheme)), scheme, _pack_u32(len(sig.owner)), sig.owner)


def _sig_tail(parts: list[bytes], sig: Signature | None) -> None:
    if sig is not None:
        parts += (_pack_u32(len(sig.value)), sig.value)


def _message_content(parts: list[bytes], m: Message) -> None:
    parts.append(MESSAGE_PREFIX)
    _sig_head(parts, m.signature)
    target = m.target.encode()
    anchor = m.anchor.encode()
    parts += (_pack_u32(len(target)), target, _pack_u32(len(anchor)), anchor, _pack_u32(len(m.tags)))
    for t in m.tags:
        name = t.name.encode()
        value = t.value.encode()
        parts += (_pack_u32(len(name)), name, _pack_u32(len(value)), value)
    parts += (_pack_u64(len(m.data)), m.data)


def _encode_failed(kind: str, exc: Exception) -> EncodeError:
    if isinstance(exc, UnicodeEncodeError):
        return EncodeError(f"{kind}: text is not encodable as UTF-8 (lone surrogate)")
    return EncodeError(f"{kind}: a length or integer is out of range ({exc})")


def message_encoding(m: Message) -> tuple[bytes, int]:
    """`m`'s full encoding and the length of its content prefix (kept on `m`, see ENCODING_CACHE_MAX)."""
    d = m.__dict__
    cached: tuple[bytes, int] | None = d.get(_ENCODING)
    if cached is not None:
        return cached
    if type(m) is not Message and isinstance(m, _ans104.Ans104Message):
        # An ANS-104 item is stored as its exact bytes: they are its encoding (and its "content").
        return m.raw, len(m.raw)
    parts: list[bytes] = []
    sig = m.signature
    try:
        _message_content(parts, m)
        _sig_tail(parts, sig)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("message", exc) from None
    full = b"".join(parts)
    result = (full, len(full) - 4 - len(sig.value) if sig is not None else len(full))
    if len(full) <= ENCODING_CACHE_MAX:
        d[_ENCODING] = result
    return result


def _content_of(encoding: tuple[bytes, int]) -> bytes:
    full, n = encoding
    return full if n == len(full) else full[:n]


def encode_message_content(m: Message) -> bytes:
    """The bytes a message's content digest hashes (everything but the signature value)."""
    return _content_of(message_encoding(m))


def encode_message(m: Message) -> bytes:
    """The full, self-contained encoding of a message, signature value included."""
    return message_encoding(m)[0]


# Process, message and hash chain are IDs: exactly 32 bytes (checked), so the fixed-size run of fields from
# the process length to the block hash length, and from the epoch to the hash chain, is one pack each.
_ASSIGNMENT_FIXED = struct.Struct(">I32sQI32sQQI")  # process, slot, message, timestamp, height, hash length
_ASSIGNMENT_TAIL = struct.Struct(">QI32s")  # epoch, hash chain


def _assignment_content(parts: list[bytes], a: Assignment) -> None:
    process, message, chain, block_hash = a.process, a.message, a.hash_chain, a.block_hash
    if len(process) != ID_LEN or len(message) != ID_LEN or len(chain) != ID_LEN:
        bad = next(
            (name, len(v))
            for name, v in (("process", process), ("message", message), ("hash_chain", chain))
            if len(v) != ID_LEN
        )
        raise EncodeError(f"assignment: {bad[0]} must be {ID_LEN} bytes, got {bad[1]}")
    parts.append(ASSIGNMENT_PREFIX)
    _sig_head(parts, a.signature)
    parts += (
        _ASSIGNMENT_FIXED.pack(
            ID_LEN, process, a.slot, ID_LEN, message, a.timestamp, a.block_height, len(block_hash)
        ),
        block_hash,
        _ASSIGNMENT_TAIL.pack(a.epoch, ID_LEN, chain),
    )


def assignment_encoding(a: Assignment) -> tuple[bytes, int]:
    """`a`'s full encoding and the length of its content prefix (kept on `a`, see ENCODING_CACHE_MAX)."""
    d = a.__dict__
    cached: tuple[bytes, int] | None = d.get(_ENCODING)
    if cached is not None:
        return cached
    parts: list[bytes] = []
    sig = a.signature
    try:
        _assignment_content(parts, a)
        _sig_tail(parts, sig)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("assignment", exc) from None
    full = b"".join(parts)
    result = (full, len(full) - 4 - len(sig.value) if sig is not None else len(full))
    if len(full) <= ENCODING_CACHE_MAX:  # always, in practice: an assignment is ~300 bytes
        d[_ENCODING] = result
    return result


def encode_assignment_content(a: Assignment) -> bytes:
    return _content_of(assignment_encoding(a))


def encode_assignment(a: Assignment) -> bytes:
    return assignment_encoding(a)[0]


def adopt_signed(pending: Message | Assignment | Location, signed: Message | Assignment | Location) -> None:
    """Give `signed`, which is `pending` with its signature value filled in, `pending`'s content digest
    and (for messages and assignments) the full encoding built from `pending`'s content prefix, so that a
    freshly signed value is not encoded again. The content encodings are equal by construction: the content
    covers the signature's scheme and owner, never its value."""
    assert signed.signature is not None
    d = signed.__dict__
    d["content_digest"] = pending.content_digest
    cached: tuple[bytes, int] | None = pending.__dict__.get(_ENCODING)
    if cached is not None and not isinstance(signed, Location):
        full, n = cached
        value = signed.signature.value
        if n + 4 + len(value) <= ENCODING_CACHE_MAX:
            d[_ENCODING] = (b"".join((memoryview(full)[:n], _pack_u32(len(value)), value)), n)


def _location_content(parts: list[bytes], loc: Location) -> None:
    parts.append(LOCATION_PREFIX)
    _sig_head(parts, loc.signature)
    address = loc.address.encode()
    url = loc.url.encode()
    parts += (
        _pack_u32(len(address)),
        address,
        _pack_u32(len(url)),
        url,
        _pack_u64(loc.nonce),
        _pack_u64(loc.ttl_ms),
        _pack_u64(loc.timestamp),
    )


def encode_location_content(loc: Location) -> bytes:
    parts: list[bytes] = []
    try:
        _location_content(parts, loc)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("location", exc) from None
    return b"".join(parts)


def encode_location(loc: Location) -> bytes:
    parts: list[bytes] = []
    try:
        _location_content(parts, loc)
        _sig_tail(parts, loc.signature)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("location", exc) from None
    return b"".join(parts)


def encode_result(r: Result) -> bytes:
    """A result's encoding; `Result.digest` hashes it. Messages and spawns are embedded in their full
    encoding, each behind a u64 length."""
    gas = r.gas_used
    parts: list[bytes] = [RESULT_GAS_PREFIX if gas else RESULT_PREFIX]
    try:
        data = r.output.data.encode()
        prompt = r.output.prompt.encode()
        parts += (
            _pack_u64(len(data)),
            data,
            _pack_u32(len(prompt)),
            prompt,
            _SIGNED if r.output.print else _UNSIGNED,
        )
        for group in (r.messages, r.spawns):
            parts.append(_pack_u32(len(group)))
            for m in group:
                body = encode_message(m)
                parts += (_pack_u64(len(body)), body)
        parts.append(_pack_u32(len(r.assignments)))
        for ra in r.assignments:
            parts.append(_pack_u32(len(ra.processes)))
            for p in ra.processes:
                pb = p.encode()
                parts += (_pack_u32(len(pb)), pb)
            mb = ra.message.encode()
            parts += (_pack_u32(len(mb)), mb)
        error = r.error.encode()
        parts += (_pack_u32(len(error)), error)
        if gas:
            parts.append(_pack_u64(gas))
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("result", exc) from None
    return b"".join(parts)


# -- decoding ---------------------------------------------------------------------------------------------


class _Reader:
    """A cursor over one encoding. Every read checks bounds, so a short buffer is a `DecodeError` naming
    the field, never an IndexError or a silently short value."""

    __slots__ = ("buf", "kind", "pos")

    def __init__(self, buf: bytes, kind: str, prefix: bytes) -> None:
        if buf[:4] != prefix:
            raise DecodeError(f"{kind}: expected prefix {prefix!r}, got {bytes(buf[:4])!r}")
        self.buf = buf
        self.kind = kind
        self.pos = 4

    def fail(self, what: str) -> DecodeError:
        return DecodeError(f"{self.kind}: {what} (at byte {self.pos} of {len(self.buf)})")

    def u8_flag(self, field: str) -> bool:
        pos = self.pos
        if pos >= len(self.buf):
            raise self.fail(f"truncated in {field}")
        b = self.buf[pos]
        if b > 1:
            raise self.fail(f"{field} must be 0 or 1, got {b}")
        self.pos = pos + 1
        return b == 1

    def u32(self, field: str) -> int:
        pos = self.pos
        if pos + 4 > len(self.buf):
            raise self.fail(f"truncated in {field}")
        self.pos = pos + 4
        n: int = _unpack_u32(self.buf, pos)[0]
        return n

    def u64(self, field: str) -> int:
        pos = self.pos
        if pos + 8 > len(self.buf):
            raise self.fail(f"truncated in {field}")
        self.pos = pos + 8
        n: int = _unpack_u64(self.buf, pos)[0]
        return n

    # The length-prefixed reads below are written out in full, not composed from smaller reads: they run
    # once per field on the read path, and composing them from u32() and a slice made decoding ~40% slower.

    def bytes32(self, field: str) -> bytes:
        buf = self.buf
        pos = self.pos + 4
        if pos > len(buf):
            raise self.fail(f"truncated in {field} length")
        end = pos + _unpack_u32(buf, pos - 4)[0]
        if end > len(buf):
            raise self.fail(f"truncated in {field}")
        self.pos = end
        return buf[pos:end]

    def id32(self, field: str) -> bytes:
        """A `bytes32` field that must hold a 32-byte ID."""
        start = self.pos
        value = self.bytes32(field)
        if len(value) != ID_LEN:
            self.pos = start
            raise self.fail(f"{field} must be {ID_LEN} bytes, got {len(value)}")
        return value

    def bytes64(self, field: str) -> bytes:
        buf = self.buf
        pos = self.pos + 8
        if pos > len(buf):
            raise self.fail(f"truncated in {field} length")
        end = pos + _unpack_u64(buf, pos - 8)[0]
        if end > len(buf):
            raise self.fail(f"truncated in {field}")
        self.pos = end
        return buf[pos:end]

    def text32(self, field: str) -> str:
        buf = self.buf
        pos = self.pos + 4
        if pos > len(buf):
            raise self.fail(f"truncated in {field} length")
        end = pos + _unpack_u32(buf, pos - 4)[0]
        if end > len(buf):
            raise self.fail(f"truncated in {field}")
        self.pos = end
        try:
            return buf[pos:end].decode()
        except UnicodeDecodeError:
            raise self.fail(f"{field} is not valid UTF-8") from None

    def text64(self, field: str) -> str:
        buf = self.buf
        pos = self.pos + 8
        if pos > len(buf):
            raise self.fail(f"truncated in {field} length")
        end = pos + _unpack_u64(buf, pos - 8)[0]
        if end > len(buf):
            raise self.fail(f"truncated in {field}")
        self.pos = end
        try:
            return buf[pos:end].decode()
        except UnicodeDecodeError:
            raise self.fail(f"{field} is not valid UTF-8") from None

    def count(self, field: str, min_item_size: int) -> int:
        # Refuse counts the remaining bytes cannot hold before looping, so a forged count costs nothing.
        n = self.u32(field)
        if n * min_item_size > len(self.buf) - self.pos:
            raise self.fail(f"{field} {n} exceeds what the remaining bytes can hold")
        return n

    def tags(self) -> tuple[Tag, ...]:
        # The hottest loop of a decode (ten-odd tags per message), so it works on locals throughout.
        count = self.count("tag count", 8)
        buf = self.buf
        size = len(buf)
        pos = self.pos
        tags = []
        try:
            for _ in range(count):
                end = pos + 4 + _unpack_u32(buf, pos)[0]
                if end + 4 > size:
                    raise self.fail("truncated in tag name")
                value_end = end + 4 + _unpack_u32(buf, end)[0]
                if value_end > size:
                    self.pos = end
                    raise self.fail("truncated in tag value")
                tags.append(Tag(buf[pos + 4 : end].decode(), buf[end + 4 : value_end].decode()))
                pos = value_end
        except struct.error:
            self.pos = pos
            raise self.fail("truncated in tag name length") from None
        except UnicodeDecodeError:
            self.pos = pos
            raise self.fail(f"tag {len(tags)} is not valid UTF-8") from None
        self.pos = pos
        return tuple(tags)

    def sig_head(self) -> tuple[str, bytes] | None:
        if not self.u8_flag("signature flag"):
            return None
        return self.text32("signature scheme"), self.bytes32("signature owner")

    def sig(self, head: tuple[str, bytes] | None) -> Signature | None:
        if head is None:
            return None
        return Signature(head[0], head[1], self.bytes32("signature value"))

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise self.fail(f"{len(self.buf) - self.pos} trailing bytes")


def _as_bytes(b: bytes | bytearray | memoryview) -> bytes:
    return b if type(b) is bytes else bytes(b)


# Fast paths. Each decoder first tries a straight-line reader over the common shape (one unpack_from for
# each run of fixed-size fields, slices for the variable ones). It returns a value only when every rule of
# docs/ids.md §2.7 held; at the first irregularity (truncation, a bad flag, invalid UTF-8, trailing bytes,
# a wrong ID length) it gives up and the checked `_Reader` path decodes again, which raises the DecodeError
# that names the field. So the fast path decides nothing the reader would decide differently; it only
# skips the per-field bookkeeping. Truncation shows up as struct.error from unpack_from (it never reads
# past the end) or as an end offset past len(buf), checked before each slice is used.

_U32_AT = _U32.unpack_from
_U64_AT = _U64.unpack_from
_ASSIGNMENT_FIXED_AT = _ASSIGNMENT_FIXED.unpack_from
_ASSIGNMENT_TAIL_AT = _ASSIGNMENT_TAIL.unpack_from
_FIXED_LEN = _ASSIGNMENT_FIXED.size
_TAIL_LEN = _ASSIGNMENT_TAIL.size
_FAST_ERRORS = (struct.error, UnicodeDecodeError, IndexError)


class _Irregular(Exception):
    """The fast path met something it leaves to the checked reader."""


def _fast_sig_head(buf: bytes, n: int) -> tuple[int, str, bytes]:
    """(position after the signature head, scheme, owner); the scheme is "" when unsigned."""
    flag = buf[4]
    if flag == 0:
        return 5, "", b""
    if flag != 1:
        raise _Irregular
    end = 9 + _U32_AT(buf, 5)[0]
    if end + 4 > n:
        raise _Irregular
    scheme = buf[9:end].decode()
    owner_end = end + 4 + _U32_AT(buf, end)[0]
    if owner_end > n:
        raise _Irregular
    return owner_end, scheme, buf[end + 4 : owner_end]


def _fast_sig(buf: bytes, pos: int, n: int, flag: int, scheme: str, owner: bytes) -> Signature | None:
    """The signature (None when unsigned), checking that the encoding ends right after it."""
    if flag == 0:
        if pos != n:
            raise _Irregular
        return None
    if 4 + _U32_AT(buf, pos)[0] + pos != n:
        raise _Irregular
    return _raw_signature(scheme, owner, buf[pos + 4 :])


def _fast_message(buf: bytes) -> Message:
    n = len(buf)
    if buf[:4] != MESSAGE_PREFIX:
        raise _Irregular
    pos, scheme, owner = _fast_sig_head(buf, n)
    end = pos + 4 + _U32_AT(buf, pos)[0]
    if end + 4 > n:
        raise _Irregular
    target = buf[pos + 4 : end].decode()
    pos = end + 4 + _U32_AT(buf, end)[0]
    if pos + 4 > n:
        raise _Irregular
    anchor = buf[end + 4 : pos].decode()
    count = _U32_AT(buf, pos)[0]
    pos += 4
    if count * 8 > n - pos:
        raise _Irregular
    tags: list[Tag] = []
    append = tags.append
    u32_at = _U32_AT
    new_tag = _new
    for _ in range(count):
        name_end = pos + 4 + u32_at(buf, pos)[0]
        value_end = name_end + 4 + u32_at(buf, name_end)[0]  # struct.error if name_end + 4 > n
        if value_end > n:
            raise _Irregular
        # A Tag built from its slots (see model's raw constructors), inline: a call costs as much again.
        tag = new_tag(Tag)
        _set_tag_name(tag, buf[pos + 4 : name_end].decode())
        _set_tag_value(tag, buf[name_end + 4 : value_end].decode())
        append(tag)
        pos = value_end
    end = pos + 8 + _U64_AT(buf, pos)[0]
    if end > n:
        raise _Irregular
    data = buf[pos + 8 : end]
    sig = _fast_sig(buf, end, n, buf[4], scheme, owner)
    return _raw_message(target, anchor, tuple(tags), data, sig)


def _fast_assignment(buf: bytes) -> Assignment:
    n = len(buf)
    if buf[:4] != ASSIGNMENT_PREFIX:
        raise _Irregular
    pos, scheme, owner = _fast_sig_head(buf, n)
    plen, process, slot, mlen, message, timestamp, height, hash_len = _ASSIGNMENT_FIXED_AT(buf, pos)
    if plen != ID_LEN or mlen != ID_LEN:
        raise _Irregular
    pos += _FIXED_LEN
    end = pos + hash_len
    if end + _TAIL_LEN > n:
        raise _Irregular
    block_hash = buf[pos:end]
    epoch, clen, chain = _ASSIGNMENT_TAIL_AT(buf, end)
    if clen != ID_LEN:
        raise _Irregular
    sig = _fast_sig(buf, end + _TAIL_LEN, n, buf[4], scheme, owner)
    return _raw_assignment(process, slot, message, timestamp, height, block_hash, epoch, chain, sig)


def _read_message(r: _Reader) -> Message:
    head = r.sig_head()
    target = r.text32("target")
    anchor = r.text32("anchor")
    tags = r.tags()
    data = r.bytes64("data")
    return Message(target, anchor, tags, data, r.sig(head))


def decode_message(b: bytes | bytearray | memoryview) -> Message:
    """Inverse of `encode_message`: an aonode encoding (`AOM1…`) or an ANS-104 data item's bytes
    (`aonode.ans104.decode`; the first byte tells them apart)."""
    buf = _as_bytes(b)
    try:
        return _fast_message(buf)
    except (_Irregular, *_FAST_ERRORS):
        pass  # decode again, checking each field, outside the handler (no chained exception in the error)
    if buf[:1] != MESSAGE_PREFIX[:1] and _ans104.is_ans104(buf):
        return _ans104.decode(buf)
    return _checked_message(buf)


def _checked_message(buf: bytes) -> Message:
    r = _Reader(buf, "message", MESSAGE_PREFIX)
    m = _read_message(r)
    r.end()
    return m


def decode_assignment(b: bytes | bytearray | memoryview) -> Assignment:
    """Inverse of `encode_assignment`. Process, message and hash chain must be 32 bytes (IDs)."""
    buf = _as_bytes(b)
    try:
        return _fast_assignment(buf)
    except (_Irregular, *_FAST_ERRORS):
        pass  # decode again, checking each field, outside the handler (no chained exception in the error)
    return _checked_assignment(buf)


def _checked_assignment(buf: bytes) -> Assignment:
    r = _Reader(buf, "assignment", ASSIGNMENT_PREFIX)
    head = r.sig_head()
    a = Assignment(
        process=r.id32("process"),
        slot=r.u64("slot"),
        message=r.id32("message"),
        timestamp=r.u64("timestamp"),
        block_height=r.u64("block_height"),
        block_hash=r.bytes32("block_hash"),
        epoch=r.u64("epoch"),
        hash_chain=r.id32("hash_chain"),
        signature=r.sig(head),
    )
    r.end()
    return a


def decode_location(b: bytes | bytearray | memoryview) -> Location:
    """Inverse of `encode_location`."""
    r = _Reader(_as_bytes(b), "location", LOCATION_PREFIX)
    head = r.sig_head()
    loc = Location(
        address=r.text32("address"),
        url=r.text32("url"),
        nonce=r.u64("nonce"),
        ttl_ms=r.u64("ttl_ms"),
        timestamp=r.u64("timestamp"),
        signature=r.sig(head),
    )
    r.end()
    return loc


def decode_result(b: bytes | bytearray | memoryview) -> Result:
    """Inverse of `encode_result`."""
    buf = _as_bytes(b)
    gas_form = buf[:4] == RESULT_GAS_PREFIX
    r = _Reader(buf, "result", RESULT_GAS_PREFIX if gas_form else RESULT_PREFIX)
    output = Output(r.text64("output data"), r.text32("output prompt"), r.u8_flag("output print"))
    groups: list[tuple[Message, ...]] = []
    for what in ("message", "spawn"):
        items = []
        for i in range(r.count(f"{what} count", 8)):
            body = r.bytes64(what)
            try:
                items.append(decode_message(body))
            except DecodeError as exc:
                raise DecodeError(f"result: {what} {i}: {exc}") from None
        groups.append(tuple(items))
    assignments = []
    for _ in range(r.count("assignment count", 8)):
        processes = tuple(
            r.text32("assignment process") for _ in range(r.count("assignment process count", 4))
        )
        assignments.append(ResultAssignment(processes, r.text32("assignment message")))
    error = r.text32("error")
    gas = 0
    if gas_form:
        gas = r.u64("gas used")
        if gas == 0:  # one encoding per result: no gas is AOR1
            raise r.fail("gas used 0 must be encoded as AOR1")
    r.end()
    return Result(output, groups[0], groups[1], tuple(assignments), error, gas)


# -- assignment rows ----------------------------------------------------------------------------------------
# For readers that turn stored assignments straight into another format (a subscription's wire frames): the
# fields of each encoding as a flat tuple, with the assignment's ID, and no model object built.

AssignmentRow: TypeAlias = tuple[
    bytes, int, bytes, int, int, bytes, int, bytes, str | None, bytes | None, bytes | None, bytes
]
"""(process, slot, message, timestamp, block_height, block_hash, epoch, hash_chain, signature scheme,
signature owner, signature value, id): the fields of `decode_assignment`'s result (scheme, owner and value
None when unsigned) and its `id`."""


def decode_assignment_rows(encodings: Sequence[bytes | bytearray | memoryview]) -> list[AssignmentRow]:
    """`decode_assignment` of each encoding, as `AssignmentRow`s: the same values, the same DecodeError
    for bytes that are not a canonical assignment, at a fraction of the cost (no objects).

    A schedule's assignments mostly share one shape (same signer, block hash and signature lengths, so the
    same size): such a batch is split in one `struct.iter_unpack` over the joined encodings, each row's
    length fields checked against the shape. Any other batch is decoded one by one by `decode_assignment`."""
    if len(encodings) > 1:
        rows = _uniform_rows(encodings)
        if rows is not None:
            return rows
    return [_row(decode_assignment(e)) for e in encodings]


def _uniform_rows(encodings: Sequence[bytes | bytearray | memoryview]) -> list[AssignmentRow] | None:
    """The rows if every encoding is a regular assignment of the first one's shape (same size, same
    signature head, same block hash and signature value lengths), else None (nothing decided)."""
    first = encodings[0]
    n = len(first)
    if type(first) is not bytes or first[:4] != ASSIGNMENT_PREFIX:
        return None
    try:
        flag = first[4]
        if flag == 1:
            end = 9 + _U32_AT(first, 5)[0]
            pos = end + 4 + _U32_AT(first, end)[0]
            if pos > n:
                return None
            scheme: str | None = first[9:end].decode()
            owner: bytes | None = first[end + 4 : pos]
        elif flag == 0:
            pos, scheme, owner = 5, None, None
        else:
            return None
        hash_len = _U32_AT(first, pos + _FIXED_LEN - 4)[0]
    except _FAST_ERRORS:
        return None
    shape = f">{pos}xI32sQI32sQQI{hash_len}sQI32s"
    value_len = n - (pos + _FIXED_LEN + hash_len + _TAIL_LEN + 4)
    if flag == 1:
        if value_len < 0:
            return None
        shape += f"I{value_len}s"
    if struct.calcsize(shape) != n or set(map(len, encodings)) != {n}:
        return None
    joined = b"".join(encodings)
    if not all(map(joined.startswith, repeat(first[:pos]), range(0, len(joined), n))):
        return None  # not all signed by the same key
    rows: list[AssignmentRow] = []
    append = rows.append
    items = struct.iter_unpack(shape, joined)
    # Unpacked by name: picking the fields with an itemgetter and splatting them cost a third more per row.
    if flag == 1:
        for (
            p_len,
            process,
            slot,
            m_len,
            message,
            stamp,
            height,
            h_len,
            block_hash,
            epoch,
            c_len,
            chain,
            v_len,
            value,
        ) in items:
            if (
                p_len != ID_LEN
                or m_len != ID_LEN
                or h_len != hash_len
                or c_len != ID_LEN
                or v_len != value_len
            ):
                return None
            append(
                (
                    process,
                    slot,
                    message,
                    stamp,
                    height,
                    block_hash,
                    epoch,
                    chain,
                    scheme,
                    owner,
                    value,
                    blake3(value).digest(),
                )
            )
    else:
        # Unsigned (rare: this node signs every assignment): the same checks and fields, by position.
        for buf, f in zip(encodings, items, strict=True):
            if (f[0], f[3], f[7], f[10]) != (ID_LEN, ID_LEN, hash_len, ID_LEN):
                return None
            append((f[1], f[2], f[4], f[5], f[6], f[8], f[9], f[11], None, None, None, blake3(buf).digest()))
    return rows


def _row(a: Assignment) -> AssignmentRow:
    sig = a.signature
    scheme, owner, value = (None, None, None) if sig is None else (sig.scheme, sig.owner, sig.value)
    return (
        a.process, a.slot, a.message, a.timestamp, a.block_height, a.block_hash, a.epoch, a.hash_chain,
        scheme, owner, value, a.id,
    )  # fmt: skip


# ANS-104 items are messages too (`message_encoding`, `decode_message`); that module builds on this one, so
# it is imported last, when this module is complete.
from aonode import ans104 as _ans104  # noqa: E402
