"""The canonical codec: round trips, strictness, canonicity, and the byte layout of docs/ids.md."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aonode import codec
from aonode.codec import (
    ASSIGNMENT_PREFIX,
    ENCODING_CACHE_MAX,
    LOCATION_PREFIX,
    MESSAGE_PREFIX,
    RESULT_PREFIX,
    DecodeError,
    EncodeError,
    decode_assignment,
    decode_location,
    decode_message,
    decode_result,
    encode_assignment,
    encode_assignment_content,
    encode_location,
    encode_location_content,
    encode_message,
    encode_message_content,
    encode_result,
)
from aonode.errors import InvalidArgument
from aonode.model import Assignment, Location, Message, Output, Result, ResultAssignment, Signature, Tag

# -- strategies (also used by test_model / test_crypto) ----------------------------------------------------

texts = st.text(max_size=12)
u64s = st.integers(min_value=0, max_value=2**64 - 1)
tags = st.builds(Tag, texts, texts)
signatures = st.none() | st.builds(
    Signature,
    st.sampled_from(["ed25519", "rsa-pss-sha512", ""]) | texts,
    st.binary(max_size=40),
    st.binary(max_size=70),
)
messages = st.builds(
    Message,
    target=texts,
    anchor=texts,
    tags=st.lists(tags, max_size=5).map(tuple),
    data=st.binary(max_size=64),
    signature=signatures,
)
ids = st.binary(min_size=32, max_size=32)
assignments = st.builds(
    Assignment,
    process=ids,
    slot=u64s,
    message=ids,
    timestamp=u64s,
    block_height=u64s,
    block_hash=st.binary(max_size=48),
    epoch=u64s,
    hash_chain=ids,
    signature=signatures,
)
locations = st.builds(
    Location, address=texts, url=texts, nonce=u64s, ttl_ms=u64s, timestamp=u64s, signature=signatures
)
results = st.builds(
    Result,
    output=st.builds(Output, texts, texts, st.booleans()),
    messages=st.lists(messages, max_size=3).map(tuple),
    spawns=st.lists(messages, max_size=2).map(tuple),
    assignments=st.lists(
        st.builds(ResultAssignment, st.lists(texts, max_size=3).map(tuple), texts), max_size=3
    ).map(tuple),
    error=texts,
    gas_used=st.just(0) | u64s,
)

Codec = tuple[Callable[[Any], bytes], Callable[[bytes], Any]]
CODECS: dict[str, Codec] = {
    "message": (encode_message, decode_message),
    "assignment": (encode_assignment, decode_assignment),
    "location": (encode_location, decode_location),
    "result": (encode_result, decode_result),
}
DECODERS = [decode_message, decode_assignment, decode_location, decode_result]

SIG = Signature("ed25519", b"\x11" * 32, b"\x22" * 64)
SAMPLE_MESSAGE = Message(
    target="A" * 43,
    anchor="anchor",
    tags=(Tag("Action", "Eval"), Tag("Naïve", "✓ value"), Tag("Empty", "")),
    data=bytes(range(40)),
    signature=SIG,
)
SAMPLE_ASSIGNMENT = Assignment(
    process=b"\x01" * 32,
    slot=7,
    message=b"\x02" * 32,
    timestamp=1_700_000_000_000,
    block_height=12,
    block_hash=b"\x03" * 48,
    epoch=1,
    hash_chain=b"\x04" * 32,
    signature=SIG,
)
SAMPLE_LOCATION = Location("A" * 43, "https://x.example", 3, 60_000, 1_700_000_000_000, SIG)
SAMPLE_RESULT = Result(
    output=Output("out", "> ", True),
    messages=(SAMPLE_MESSAGE, Message(target="t", data=b"\xff")),
    spawns=(Message(tags=(Tag("Type", "Process"),)),),
    assignments=(ResultAssignment(("p1", "p2"), "m"),),
    error="boom",
)
SAMPLES: dict[str, Any] = {
    "message": SAMPLE_MESSAGE,
    "assignment": SAMPLE_ASSIGNMENT,
    "location": SAMPLE_LOCATION,
    "result": SAMPLE_RESULT,
}


# -- round trips --------------------------------------------------------------------------------------------


@given(messages)
def test_message_round_trip(m: Message) -> None:
    full = encode_message(m)
    assert decode_message(full) == m
    assert codec._fast_message(full) == m  # the fast path decodes every valid encoding itself
    content = encode_message_content(replace(m))  # a fresh copy: computed, not sliced from `full`
    assert full.startswith(content)
    if m.signature is None:
        assert full == content


@given(assignments)
def test_assignment_round_trip(a: Assignment) -> None:
    full = encode_assignment(a)
    assert decode_assignment(full) == a
    assert codec._fast_assignment(full) == a
    assert full.startswith(encode_assignment_content(replace(a)))


@given(locations)
def test_location_round_trip(loc: Location) -> None:
    full = encode_location(loc)
    assert decode_location(full) == loc
    assert full.startswith(encode_location_content(loc))


@given(results)
def test_result_round_trip(r: Result) -> None:
    assert decode_result(encode_result(r)) == r


def test_decoders_accept_bytearray_and_memoryview() -> None:
    b = encode_message(SAMPLE_MESSAGE)
    assert decode_message(bytearray(b)) == SAMPLE_MESSAGE
    assert decode_message(memoryview(b)) == SAMPLE_MESSAGE


# -- strictness ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decode", DECODERS)
@given(data=st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(decode: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


@pytest.mark.parametrize("kind", list(CODECS))
@given(data=st.binary(max_size=200))
def test_random_bytes_after_a_valid_prefix_raise_only_decode_error(kind: str, data: bytes) -> None:
    prefix = {"message": MESSAGE_PREFIX, "assignment": ASSIGNMENT_PREFIX}.get(kind)
    prefix = prefix or {"location": LOCATION_PREFIX, "result": RESULT_PREFIX}[kind]
    encode, decode = CODECS[kind]
    try:
        value = decode(prefix + data)
    except DecodeError:
        return
    assert encode(value) == prefix + data  # anything that decodes is canonical


@pytest.mark.parametrize("kind", list(CODECS))
def test_every_truncation_raises_decode_error(kind: str) -> None:
    encode, decode = CODECS[kind]
    full = encode(SAMPLES[kind])
    for cut in range(len(full)):
        with pytest.raises(DecodeError):
            decode(full[:cut])


@pytest.mark.parametrize("kind", list(CODECS))
def test_trailing_bytes_raise(kind: str) -> None:
    encode, decode = CODECS[kind]
    with pytest.raises(DecodeError, match="trailing"):
        decode(encode(SAMPLES[kind]) + b"\x00")


@pytest.mark.parametrize("kind", list(CODECS))
@given(data=st.data())
def test_mutations_are_rejected_or_canonical(kind: str, data: st.DataObject) -> None:
    encode, decode = CODECS[kind]
    full = bytearray(encode(SAMPLES[kind]))
    i = data.draw(st.integers(0, len(full) - 1))
    full[i] = data.draw(st.integers(0, 255))
    try:
        value = decode(bytes(full))
    except DecodeError:
        return
    assert encode(value) == bytes(full)


# The decoders try a fast path first and fall back to the checked reader for anything irregular. The fast
# path must never accept what the reader refuses, nor decode anything differently.

FAST_AND_CHECKED: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
    "message": (codec._fast_message, codec._checked_message),
    "assignment": (codec._fast_assignment, codec._checked_assignment),
}


def _fast_agrees_with_checked(kind: str, buf: bytes) -> None:
    fast, checked = FAST_AND_CHECKED[kind]
    try:
        expected = checked(buf)
    except DecodeError:
        expected = None
    try:
        got = fast(buf)
    except (codec._Irregular, *codec._FAST_ERRORS):
        return  # left to the checked reader: fine whatever it decides
    assert expected is not None, f"fast path accepted what the checked reader refuses: {buf.hex()}"
    assert got == expected
    assert type(got.signature) is type(expected.signature)


@pytest.mark.parametrize("kind", list(FAST_AND_CHECKED))
@given(data=st.data())
def test_fast_path_agrees_with_the_checked_reader_on_mutations(kind: str, data: st.DataObject) -> None:
    encode = CODECS[kind][0]
    base = data.draw(st.sampled_from([SAMPLES[kind], replace(SAMPLES[kind], signature=None)]))
    full = bytearray(encode(base))
    for _ in range(data.draw(st.integers(1, 3))):
        full[data.draw(st.integers(0, len(full) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(full)))
    _fast_agrees_with_checked(kind, bytes(full[:cut]) + data.draw(st.binary(max_size=3)))
    _fast_agrees_with_checked(kind, bytes(full))


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("kind", list(FAST_AND_CHECKED))
def test_fast_path_agrees_with_the_checked_reader_on_every_one_byte_change(kind: str, signed: bool) -> None:
    base = SAMPLES[kind] if signed else replace(SAMPLES[kind], signature=None)
    full = CODECS[kind][0](base)
    for i in range(len(full)):
        for v in {0, 1, 2, 0x1F, 0x21, 0x7F, 0x80, 0xFF, full[i] ^ 1}:
            _fast_agrees_with_checked(kind, full[:i] + bytes([v]) + full[i + 1 :])


@pytest.mark.parametrize("kind", list(FAST_AND_CHECKED))
@given(data=st.binary(max_size=200))
def test_fast_path_agrees_with_the_checked_reader_on_random_bytes(kind: str, data: bytes) -> None:
    prefix = MESSAGE_PREFIX if kind == "message" else ASSIGNMENT_PREFIX
    _fast_agrees_with_checked(kind, prefix + data)
    _fast_agrees_with_checked(kind, prefix + b"\x00" + data)


@pytest.mark.parametrize("kind", list(FAST_AND_CHECKED))
def test_every_truncation_is_left_to_the_checked_reader(kind: str) -> None:
    fast = FAST_AND_CHECKED[kind][0]
    full = CODECS[kind][0](SAMPLES[kind])
    for cut in range(len(full)):
        with pytest.raises((codec._Irregular, *codec._FAST_ERRORS)):
            fast(full[:cut])


def _assignment_bytes(process: bytes, message: bytes, chain: bytes, signed: bool) -> bytes:
    """An assignment encoding written out by hand (the encoder refuses IDs that are not 32 bytes)."""
    head = b"\x01" + _u32(7) + b"ed25519" + _u32(32) + b"\x11" * 32 if signed else b"\x00"
    body = (
        _u32(len(process))
        + process
        + _u64(7)
        + _u32(len(message))
        + message
        + _u64(1_700_000_000_000)
        + _u64(12)
        + _u32(48)
        + b"\x03" * 48
        + _u64(1)
        + _u32(len(chain))
        + chain
    )
    return b"AOA1" + head + body + (_u32(64) + b"\x22" * 64 if signed else b"")


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("field", ["process", "message", "hash_chain"])
@pytest.mark.parametrize("length", [0, 1, 31, 33, 48])
def test_assignment_ids_must_be_32_bytes(signed: bool, field: str, length: int) -> None:
    ids = {"process": b"\x01" * 32, "message": b"\x02" * 32, "hash_chain": b"\x04" * 32}
    good = _assignment_bytes(ids["process"], ids["message"], ids["hash_chain"], signed)
    assert decode_assignment(good) == replace(SAMPLE_ASSIGNMENT, signature=SIG if signed else None)
    ids[field] = b"\x05" * length
    with pytest.raises(DecodeError, match=f"assignment: {field} must be 32 bytes, got {length}"):
        decode_assignment(_assignment_bytes(ids["process"], ids["message"], ids["hash_chain"], signed))
    change: dict[str, Any] = {field: ids[field]}
    with pytest.raises(EncodeError, match=f"{field} must be 32 bytes, got {length}"):
        encode_assignment(replace(SAMPLE_ASSIGNMENT, **change))


def test_decode_errors_carry_no_chained_exception() -> None:
    with pytest.raises(DecodeError) as info:
        decode_message(encode_message(SAMPLE_MESSAGE)[:-1])
    assert info.value.__context__ is None and info.value.__cause__ is None
    with pytest.raises(DecodeError) as info:
        decode_assignment(encode_assignment(SAMPLE_ASSIGNMENT)[:-1])
    assert info.value.__context__ is None


# -- the encoding kept on messages and assignments -----------------------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls = [0]
    real = getattr(codec, name)

    def counted(*args: Any) -> None:
        calls[0] += 1
        real(*args)

    monkeypatch.setattr(codec, name, counted)
    return calls


def test_digest_then_encode_encodes_a_message_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, "_message_content")
    m = replace(SAMPLE_MESSAGE)
    digest = m.content_digest
    full = encode_message(m)
    assert encode_message_content(m) == full[: len(full) - 4 - 64]
    assert calls[0] == 1
    fresh = replace(m)  # a new object: nothing carried over
    assert "_encoding" not in fresh.__dict__ and "content_digest" not in fresh.__dict__
    assert encode_message(fresh) == full and fresh.content_digest == digest
    assert calls[0] == 2


def test_encode_then_digest_encodes_an_assignment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, "_assignment_content")
    a = replace(SAMPLE_ASSIGNMENT)
    full = encode_assignment(a)
    digest = a.content_digest
    assert encode_assignment_content(a) == full[: len(full) - 4 - 64]
    assert calls[0] == 1
    assert replace(a).content_digest == digest


def test_large_encodings_are_not_kept() -> None:
    small = Message(data=bytes(ENCODING_CACHE_MAX - 100))
    big = Message(data=bytes(ENCODING_CACHE_MAX))
    assert encode_message(small) is encode_message(small)
    first = encode_message(big)
    assert "_encoding" not in big.__dict__
    assert encode_message(big) == first and encode_message(big) is not first


def test_adopt_signed_gives_the_same_encoding_and_digest_as_encoding_afresh() -> None:
    encoders: list[tuple[Any, Callable[[Any], bytes]]] = [
        (SAMPLE_MESSAGE, encode_message),
        (SAMPLE_ASSIGNMENT, encode_assignment),
        (SAMPLE_LOCATION, encode_location),
    ]
    for value, encode in encoders:
        pending = value.with_signature(replace(value.signature, value=b""))
        _ = pending.content_digest
        signed = pending.with_signature(value.signature)
        codec.adopt_signed(pending, signed)
        fresh = replace(signed)
        assert signed.content_digest == fresh.content_digest
        assert encode(signed) == encode(fresh)


def test_prefixes_are_distinct_and_checked() -> None:
    prefixes = {MESSAGE_PREFIX, ASSIGNMENT_PREFIX, LOCATION_PREFIX, RESULT_PREFIX}
    assert len(prefixes) == 4 and all(len(p) == 4 for p in prefixes)
    with pytest.raises(DecodeError, match="prefix"):
        decode_message(encode_assignment(SAMPLE_ASSIGNMENT))
    with pytest.raises(DecodeError, match="prefix"):
        decode_assignment(encode_message(SAMPLE_MESSAGE))
    with pytest.raises(DecodeError, match="prefix"):
        decode_location(encode_result(SAMPLE_RESULT))
    with pytest.raises(DecodeError, match="prefix"):
        decode_result(encode_location(SAMPLE_LOCATION))


def test_decode_error_is_invalid_argument() -> None:
    assert issubclass(DecodeError, InvalidArgument)
    assert DecodeError.status == "INVALID_ARGUMENT"


def test_signature_flag_must_be_0_or_1() -> None:
    b = bytearray(encode_message(Message()))
    b[4] = 2
    with pytest.raises(DecodeError, match="signature flag"):
        decode_message(bytes(b))


def test_print_flag_must_be_0_or_1() -> None:
    b = bytearray(encode_result(Result()))
    b[4 + 8 + 4] = 2  # prefix, u64 output data length, u32 prompt length, then the print byte
    with pytest.raises(DecodeError, match="print"):
        decode_result(bytes(b))


def test_invalid_utf8_rejected() -> None:
    good = encode_message(Message(tags=(Tag("ab", "cd"),)))
    bad = good.replace(b"ab", b"\xc3\x28")
    with pytest.raises(DecodeError, match="UTF-8"):
        decode_message(bad)
    surrogate = good.replace(b"cd", b"\xed\xa0")  # half of an encoded surrogate: not UTF-8
    with pytest.raises(DecodeError, match="UTF-8"):
        decode_message(surrogate)


def test_forged_counts_fail_fast() -> None:
    # An empty message that claims 2^32-1 tags: rejected from the count, without looping.
    b = MESSAGE_PREFIX + b"\x00" + struct.pack(">III", 0, 0, 0xFFFFFFFF) + struct.pack(">Q", 0)
    with pytest.raises(DecodeError, match="tag count"):
        decode_message(b)
    r = RESULT_PREFIX + struct.pack(">QIB", 0, 0, 0) + struct.pack(">I", 0xFFFFFFFF)
    with pytest.raises(DecodeError, match="message count"):
        decode_result(r)


def test_forged_data_length_is_truncation() -> None:
    b = MESSAGE_PREFIX + b"\x00" + struct.pack(">III", 0, 0, 0) + struct.pack(">Q", 2**64 - 1)
    with pytest.raises(DecodeError, match="truncated in data"):
        decode_message(b)


def test_nested_message_errors_name_their_place() -> None:
    good = encode_result(Result(messages=(Message(),)))
    bad = good.replace(MESSAGE_PREFIX, b"XXXX")
    with pytest.raises(DecodeError, match="message 0"):
        decode_result(bad)


# -- encode errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        Message(target="\ud800"),
        Message(tags=(Tag("a", "\udfff"),)),
        Message(signature=Signature("\ud800", b"", b"")),
        replace(SAMPLE_ASSIGNMENT, slot=-1),
        replace(SAMPLE_ASSIGNMENT, timestamp=2**64),
        replace(SAMPLE_LOCATION, nonce=-5),
        Result(error="\ud800"),
        Result(assignments=(ResultAssignment(("\ud800",), "m"),)),
    ],
)
def test_unencodable_values_raise_encode_error(value: Any) -> None:
    encoders: dict[type, Callable[[Any], bytes]] = {
        Message: encode_message,
        Assignment: encode_assignment,
        Location: encode_location,
        Result: encode_result,
    }
    encode = encoders[type(value)]
    with pytest.raises(EncodeError):
        encode(value)


# -- layout (docs/ids.md, written out by hand) ---------------------------------------------------------------


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def test_message_layout_matches_docs() -> None:
    m = Message(target="T", anchor="an", tags=(Tag("K", "vé"),), data=b"\x00\x01", signature=SIG)
    content = (
        b"AOM1"
        + b"\x01"
        + _u32(7)
        + b"ed25519"
        + _u32(32)
        + b"\x11" * 32
        + _u32(1)
        + b"T"
        + _u32(2)
        + b"an"
        + _u32(1)
        + _u32(1)
        + b"K"
        + _u32(3)
        + "vé".encode()
        + _u64(2)
        + b"\x00\x01"
    )
    assert encode_message_content(m) == content
    assert encode_message(m) == content + _u32(64) + b"\x22" * 64
    unsigned = m.with_signature(None)
    assert encode_message(unsigned) == b"AOM1\x00" + content[4 + 1 + 4 + 7 + 4 + 32 :]


def test_assignment_layout_matches_docs() -> None:
    a = replace(SAMPLE_ASSIGNMENT, signature=None)
    expected = (
        b"AOA1\x00"
        + _u32(32)
        + b"\x01" * 32
        + _u64(7)
        + _u32(32)
        + b"\x02" * 32
        + _u64(1_700_000_000_000)
        + _u64(12)
        + _u32(48)
        + b"\x03" * 48
        + _u64(1)
        + _u32(32)
        + b"\x04" * 32
    )
    assert encode_assignment(a) == expected


def test_location_layout_matches_docs() -> None:
    loc = replace(SAMPLE_LOCATION, signature=None)
    expected = (
        b"AOL1\x00"
        + _u32(43)
        + b"A" * 43
        + _u32(17)
        + b"https://x.example"
        + _u64(3)
        + _u64(60_000)
        + _u64(1_700_000_000_000)
    )
    assert encode_location(loc) == expected


def test_result_layout_matches_docs() -> None:
    inner = Message(target="t")
    inner_bytes = encode_message(inner)
    r = Result(
        output=Output("d", "p", True),
        messages=(inner,),
        spawns=(),
        assignments=(ResultAssignment(("x",), "m"),),
        error="e",
    )
    expected = (
        b"AOR1"
        + _u64(1)
        + b"d"
        + _u32(1)
        + b"p"
        + b"\x01"
        + _u32(1)
        + _u64(len(inner_bytes))
        + inner_bytes
        + _u32(0)
        + _u32(1)
        + _u32(1)
        + _u32(1)
        + b"x"
        + _u32(1)
        + b"m"
        + _u32(1)
        + b"e"
    )
    assert encode_result(r) == expected
    # GasUsed other than 0: AOR2, the same fields, then u64 gas; 0 stays AOR1 (digests before GasUsed hold).
    metered = replace(r, gas_used=7)
    assert encode_result(metered) == b"AOR2" + expected[4:] + _u64(7)
    assert decode_result(encode_result(metered)) == metered


def test_a_result_has_one_encoding_gas_0_is_aor1_only() -> None:
    with pytest.raises(DecodeError, match="gas used 0"):
        decode_result(b"AOR2" + encode_result(Result(error="e"))[4:] + _u64(0))
    with pytest.raises(DecodeError):  # AOR1 carries no gas field
        decode_result(encode_result(Result(error="e")) + _u64(7))


# -- assignment rows -----------------------------------------------------------------------------------------


def _row(a: Assignment) -> codec.AssignmentRow:
    sig = a.signature
    return (
        a.process,
        a.slot,
        a.message,
        a.timestamp,
        a.block_height,
        a.block_hash,
        a.epoch,
        a.hash_chain,
        None if sig is None else sig.scheme,
        None if sig is None else sig.owner,
        None if sig is None else sig.value,
        a.id,
    )


def _expected_rows(encodings: list[bytes]) -> list[codec.AssignmentRow] | None:
    """What decode_assignment makes of each encoding, or None if it refuses any."""
    try:
        return [_row(decode_assignment(e)) for e in encodings]
    except DecodeError:
        return None


@st.composite
def same_shape(draw: st.DrawFn) -> list[Assignment]:
    """Assignments as one scheduler writes them: one signer (or none), one block hash length."""
    n = draw(st.integers(2, 6))
    sig = draw(signatures)
    hash_len = draw(st.integers(0, 48))
    first = draw(u64s)
    return [
        Assignment(
            process=draw(ids),
            slot=(first + i) % 2**64,
            message=draw(ids),
            timestamp=draw(u64s),
            block_height=draw(u64s),
            block_hash=draw(st.binary(min_size=hash_len, max_size=hash_len)),
            epoch=draw(u64s),
            hash_chain=draw(ids),
            signature=None
            if sig is None
            else replace(sig, value=draw(st.binary(min_size=len(sig.value), max_size=len(sig.value)))),
        )
        for i in range(n)
    ]


@given(st.lists(assignments, max_size=6))
def test_assignment_rows_are_the_decoded_fields_and_id(items: list[Assignment]) -> None:
    assert codec.decode_assignment_rows([encode_assignment(a) for a in items]) == [_row(a) for a in items]


@given(same_shape())
def test_assignment_rows_of_one_shape_take_the_uniform_path(items: list[Assignment]) -> None:
    encodings = [encode_assignment(a) for a in items]
    assert codec._uniform_rows(encodings) == [_row(a) for a in items]
    assert codec.decode_assignment_rows(encodings) == [_row(a) for a in items]
    views: list[Any] = [bytearray(encodings[0])] + [memoryview(e) for e in encodings[1:]]
    assert codec.decode_assignment_rows(views) == [_row(a) for a in items]


@given(same_shape(), st.data())
def test_assignment_rows_agree_with_decode_assignment_on_mutations(
    items: list[Assignment], data: st.DataObject
) -> None:
    """Bytes changed in one encoding of a same-shape batch (its size kept, so the batch still looks
    uniform, or cut or extended): the rows are decode_assignment's, or both refuse."""
    encodings = [encode_assignment(a) for a in items]
    k = data.draw(st.integers(0, len(encodings) - 1))
    changed = bytearray(encodings[k])
    for _ in range(data.draw(st.integers(1, 3))):
        changed[data.draw(st.integers(0, len(changed) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        changed = changed[: data.draw(st.integers(0, len(changed)))] + data.draw(st.binary(max_size=3))
    encodings[k] = bytes(changed)
    expected = _expected_rows(encodings)
    if expected is None:
        with pytest.raises(DecodeError):
            codec.decode_assignment_rows(encodings)
    else:
        assert codec.decode_assignment_rows(encodings) == expected


def test_assignment_rows_of_an_unsigned_assignment_carry_its_content_digest() -> None:
    unsigned = replace(SAMPLE_ASSIGNMENT, signature=None)
    rows = codec.decode_assignment_rows([encode_assignment(unsigned)] * 2)
    assert rows[0][8:] == (None, None, None, unsigned.content_digest) and rows[1] == rows[0]
    with pytest.raises(DecodeError, match="hash_chain must be 32 bytes"):
        codec.decode_assignment_rows([_assignment_bytes(b"\x01" * 32, b"\x02" * 32, b"\x04" * 31, True)])
