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

from aonode.codec import (
    ASSIGNMENT_PREFIX,
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
assignments = st.builds(
    Assignment,
    process=st.binary(max_size=40),
    slot=u64s,
    message=st.binary(max_size=40),
    timestamp=u64s,
    block_height=u64s,
    block_hash=st.binary(max_size=48),
    epoch=u64s,
    hash_chain=st.binary(max_size=40),
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
    content = encode_message_content(m)
    assert full.startswith(content)
    if m.signature is None:
        assert full == content


@given(assignments)
def test_assignment_round_trip(a: Assignment) -> None:
    full = encode_assignment(a)
    assert decode_assignment(full) == a
    assert full.startswith(encode_assignment_content(a))


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
