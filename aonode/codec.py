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
"""

from __future__ import annotations

import struct

from aonode.errors import InvalidArgument
from aonode.model import (
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
)

MESSAGE_PREFIX = b"AOM1"
ASSIGNMENT_PREFIX = b"AOA1"
LOCATION_PREFIX = b"AOL1"
RESULT_PREFIX = b"AOR1"

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_pack_u32 = _U32.pack
_pack_u64 = _U64.pack
_unpack_u32 = _U32.unpack_from
_unpack_u64 = _U64.unpack_from
_UNSIGNED = b"\x00"
_SIGNED = b"\x01"


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


def encode_message_content(m: Message) -> bytes:
    """The bytes a message's content digest hashes (everything but the signature value)."""
    parts: list[bytes] = []
    try:
        _message_content(parts, m)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("message", exc) from None
    return b"".join(parts)


def encode_message(m: Message) -> bytes:
    """The full, self-contained encoding of a message, signature value included."""
    parts: list[bytes] = []
    try:
        _message_content(parts, m)
        _sig_tail(parts, m.signature)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("message", exc) from None
    return b"".join(parts)


def _assignment_content(parts: list[bytes], a: Assignment) -> None:
    parts.append(ASSIGNMENT_PREFIX)
    _sig_head(parts, a.signature)
    parts += (
        _pack_u32(len(a.process)),
        a.process,
        _pack_u64(a.slot),
        _pack_u32(len(a.message)),
        a.message,
        _pack_u64(a.timestamp),
        _pack_u64(a.block_height),
        _pack_u32(len(a.block_hash)),
        a.block_hash,
        _pack_u64(a.epoch),
        _pack_u32(len(a.hash_chain)),
        a.hash_chain,
    )


def encode_assignment_content(a: Assignment) -> bytes:
    parts: list[bytes] = []
    try:
        _assignment_content(parts, a)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("assignment", exc) from None
    return b"".join(parts)


def encode_assignment(a: Assignment) -> bytes:
    parts: list[bytes] = []
    try:
        _assignment_content(parts, a)
        _sig_tail(parts, a.signature)
    except (UnicodeEncodeError, struct.error) as exc:
        raise _encode_failed("assignment", exc) from None
    return b"".join(parts)


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
    parts: list[bytes] = [RESULT_PREFIX]
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


def _read_message(r: _Reader) -> Message:
    head = r.sig_head()
    target = r.text32("target")
    anchor = r.text32("anchor")
    tags = r.tags()
    data = r.bytes64("data")
    return Message(target, anchor, tags, data, r.sig(head))


def decode_message(b: bytes | bytearray | memoryview) -> Message:
    """Inverse of `encode_message`."""
    r = _Reader(_as_bytes(b), "message", MESSAGE_PREFIX)
    m = _read_message(r)
    r.end()
    return m


def decode_assignment(b: bytes | bytearray | memoryview) -> Assignment:
    """Inverse of `encode_assignment`."""
    r = _Reader(_as_bytes(b), "assignment", ASSIGNMENT_PREFIX)
    head = r.sig_head()
    a = Assignment(
        process=r.bytes32("process"),
        slot=r.u64("slot"),
        message=r.bytes32("message"),
        timestamp=r.u64("timestamp"),
        block_height=r.u64("block_height"),
        block_hash=r.bytes32("block_hash"),
        epoch=r.u64("epoch"),
        hash_chain=r.bytes32("hash_chain"),
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
    r = _Reader(_as_bytes(b), "result", RESULT_PREFIX)
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
    r.end()
    return Result(output, groups[0], groups[1], tuple(assignments), error)
