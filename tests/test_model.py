"""Model values: tag lookups, derived IDs, validation limits, and the aoconnect JSON shape."""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import replace
from typing import Any

import pytest
from blake3 import blake3
from hypothesis import given

from aonode import model
from aonode.codec import encode_location_content, encode_message_content, encode_result
from aonode.errors import InvalidArgument
from aonode.ids import address_of, encode_id
from aonode.model import (
    MAX_TAG_NAME_BYTES,
    MAX_TAG_VALUE_BYTES,
    MAX_TAGS,
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
    ValidationError,
    data_to_text,
)
from tests.test_codec import messages

PID = encode_id(bytes(range(32)))
SIG = Signature("ed25519", b"\x07" * 32, b"\x09" * 64)


def test_tag_lookup_is_case_insensitive_first_match() -> None:
    m = Message(
        tags=(Tag("Action", "Eval"), Tag("action", "Second"), Tag("Authority", "a"), Tag("AUTHORITY", "b"))
    )
    assert m.tag("action") == "Eval"
    assert m.tag("ACTION") == "Eval"
    assert m.tag("missing") is None
    assert m.tag_values("authority") == ["a", "b"]
    assert m.tag_values("nope") == []


def test_is_process() -> None:
    assert Message(tags=(Tag("type", "Process"),)).is_process
    assert not Message(tags=(Tag("Type", "Message"),)).is_process
    assert not Message().is_process


def test_unsigned_id_is_content_digest() -> None:
    m = Message(target=PID, data=b"x")
    assert m.content_digest == blake3(encode_message_content(m)).digest()
    assert bytes(m.id) == m.content_digest  # the NewTypes differ; the bytes are the same
    assert m.owner_address is None


def test_signed_id_is_blake3_of_signature_value() -> None:
    m = Message(target=PID, data=b"x", signature=SIG)
    assert m.id == blake3(SIG.value).digest()
    assert m.owner_address == address_of(SIG.owner)
    assert SIG.address == m.owner_address


def test_content_digest_binds_scheme_and_owner_but_not_value() -> None:
    base = Message(data=b"x")
    signed = base.with_signature(SIG)
    assert signed.content_digest != base.content_digest
    assert signed.content_digest == base.with_signature(replace(SIG, value=b"other")).content_digest
    assert signed.content_digest != base.with_signature(replace(SIG, owner=b"\x08" * 32)).content_digest
    assert signed.content_digest != base.with_signature(replace(SIG, scheme="rsa-pss-sha512")).content_digest


def test_derived_values_are_computed_once_and_ignored_by_equality() -> None:
    m = Message(data=b"abc")
    assert m.id is m.id
    other = Message(data=b"abc")
    assert m == other and hash(m) == hash(other)  # m has a cached id, other does not
    assert m.with_signature(SIG) != m


def test_lists_are_normalized_to_tuples() -> None:
    m = Message(tags=[Tag("a", "b")])  # type: ignore[arg-type]
    assert m.tags == (Tag("a", "b"),)
    hash(m)
    r = Result(messages=[m], assignments=[ResultAssignment(["p"], "m")])  # type: ignore[arg-type]
    assert r.messages == (m,) and r.assignments[0].processes == ("p",)
    hash(r)


def test_values_are_frozen() -> None:
    m = Message()
    with pytest.raises(AttributeError):
        m.data = b"x"  # type: ignore[misc]


@given(messages)
def test_with_signature_round_trip(m: Message) -> None:
    assert m.with_signature(SIG).with_signature(m.signature) == m
    assert m.with_signature(SIG) == replace(m, signature=SIG)


def test_with_signature_starts_without_derived_values() -> None:
    m = Message(data=b"x", signature=SIG)
    _ = m.id, m.content_digest, m.is_process
    other = m.with_signature(replace(SIG, value=b"other"))
    assert set(vars(other)) == {f.name for f in dataclasses.fields(Message)}
    assert other.id == blake3(b"other").digest()


def test_with_signature_keeps_a_subclass() -> None:
    @dataclasses.dataclass(frozen=True)
    class Sub(Message):
        extra: int = 0

    assert type(Sub(extra=3).with_signature(SIG)) is Sub


# The codec builds values with model's raw constructors, which bypass __init__: they must set exactly the
# dataclass fields, and give values equal (and equally hashed) to the normal constructor's.


def test_raw_constructors_build_what_init_builds() -> None:
    tags = (Tag("a", "b"),)
    m = model._raw_message("t", "an", tags, b"d", SIG)
    assert m == Message("t", "an", tags, b"d", SIG) and hash(m) == hash(Message("t", "an", tags, b"d", SIG))
    assert list(vars(m)) == [f.name for f in dataclasses.fields(Message)]
    args = (b"\x01" * 32, 1, b"\x02" * 32, 3, 4, b"h", 5, b"\x03" * 32, SIG)
    a = model._raw_assignment(*args)
    assert a == Assignment(*args) and hash(a) == hash(Assignment(*args))
    assert list(vars(a)) == [f.name for f in dataclasses.fields(Assignment)]
    sig = model._raw_signature("s", b"o", b"v")
    assert sig == Signature("s", b"o", b"v") and hash(sig) == hash(Signature("s", b"o", b"v"))
    assert [f.name for f in dataclasses.fields(Signature)] == ["scheme", "owner", "value"]
    assert [f.name for f in dataclasses.fields(Tag)] == ["name", "value"]
    t = model._new(Tag)
    model._set_tag_name(t, "n")
    model._set_tag_value(t, "v")
    assert t == Tag("n", "v") and hash(t) == hash(Tag("n", "v"))
    for frozen in (m, a, sig, t):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, dataclasses.fields(frozen)[0].name, None)


def test_is_process_is_kept() -> None:
    m = Message(tags=(Tag("Type", "Process"),))
    assert m.is_process and vars(m)["is_process"] is True


# -- validation ---------------------------------------------------------------------------------------------


def _valid() -> Message:
    return Message(
        target=PID,
        anchor="a" * 64,
        tags=(*(Tag(f"N{i}", "v") for i in range(MAX_TAGS - 1)), Tag("é" * 512, "ü" * 1536)),
        data=b"x" * 10_000,
        signature=SIG,
    )


def test_validate_accepts_values_at_the_limits() -> None:
    _valid().validate()
    Message().validate()
    Message(tags=(Tag("n" * MAX_TAG_NAME_BYTES, "v" * MAX_TAG_VALUE_BYTES), Tag("n", ""))).validate()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": "not-an-id"}, "target: not a 43-character base64url ID"),
        ({"target": "A" * 42 + "B"}, "target: not a 43-character base64url ID"),
        ({"anchor": "a" * 65}, "anchor: at most 64 bytes"),
        ({"anchor": "é" * 33}, "anchor: at most 64 bytes"),
        ({"tags": tuple(Tag("n", "v") for _ in range(MAX_TAGS + 1))}, "too many tags: 129"),
        ({"tags": (Tag("", "v"),)}, "tag 0 name: empty"),
        ({"tags": (Tag("ok", "v"), Tag("é" * 513, "v"))}, "tag 1 name: at most 1024 bytes"),
        ({"tags": (Tag("Big", "v" * 3073),)}, "tag 0 ('Big') value: at most 3072 bytes"),
        ({"tags": (Tag("Bad", "\ud800"),)}, "tag 0 ('Bad') value: not valid UTF-8"),
        ({"tags": (Tag("\ud800", "v"),)}, "tag 0 name: not valid UTF-8"),
        ({"tags": (Tag("n" * 1025, "v"),)}, "tag 0 name: at most 1024 bytes"),
        ({"tags": (Tag("n", "é" * 1537),)}, "tag 0 ('n') value: at most 3072 bytes"),
        ({"signature": Signature("", b"", b"")}, "signature scheme: empty"),
    ],
)
def test_validate_names_what_is_wrong(change: dict[str, Any], message: str) -> None:
    m = replace(_valid(), **change)
    with pytest.raises(ValidationError) as info:
        m.validate()
    assert message in str(info.value)
    assert isinstance(info.value, InvalidArgument)


def _assignment() -> Assignment:
    return Assignment(b"\x01" * 32, 0, b"\x02" * 32, 1, hash_chain=b"\x03" * 32)


def test_assignment_validate() -> None:
    _assignment().validate()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"process": b"\x01" * 31}, "process"),
        ({"hash_chain": b""}, "hash_chain"),
        ({"slot": -1}, "slot"),
        ({"epoch": 2**64}, "epoch"),
        ({"block_hash": b"\x00" * 65}, "block_hash"),
    ]
    for change, text in cases:
        with pytest.raises(ValidationError, match=text):
            replace(_assignment(), **change).validate()


def test_assignment_ids() -> None:
    a = _assignment()
    assert bytes(a.id) == a.content_digest  # the NewTypes differ; the bytes are the same
    signed = a.with_signature(SIG)
    assert signed.id == blake3(SIG.value).digest()


def test_location_validate_and_ids() -> None:
    loc = Location(address_of(b"k"), "https://x", 1, 1000, 5)
    loc.validate()
    assert loc.expires_at == 1005
    assert loc.content_digest == blake3(encode_location_content(loc)).digest()
    assert loc.id == loc.content_digest
    assert loc.with_signature(SIG).id == blake3(SIG.value).digest()
    with pytest.raises(ValidationError, match="address"):
        replace(loc, address="x").validate()
    with pytest.raises(ValidationError, match="url"):
        replace(loc, url="").validate()
    with pytest.raises(ValidationError, match="nonce"):
        replace(loc, nonce=-1).validate()


# -- results ------------------------------------------------------------------------------------------------


def test_result_defaults_and_digest() -> None:
    r = Result()
    assert r.output == Output() and r.messages == () and r.error == ""
    assert r.digest == blake3(encode_result(r)).digest()
    assert Result(error="x").digest != r.digest


def test_result_to_json_shape() -> None:
    out = Message(target=PID, anchor="n", tags=(Tag("Action", "Pong"),), data=b"text")
    spawn = Message(tags=(Tag("Type", "Process"),), data=b"\xff\x00")
    r = Result(
        output=Output("hi", "> ", True),
        messages=(out,),
        spawns=(spawn,),
        assignments=(ResultAssignment((PID,), PID),),
        error="oops",
    )
    assert r.to_json() == {
        "Output": {"data": "hi", "prompt": "> ", "print": True},
        "Messages": [
            {"Target": PID, "Anchor": "n", "Tags": [{"name": "Action", "value": "Pong"}], "Data": "text"}
        ],
        "Spawns": [
            {"Target": "", "Anchor": "", "Tags": [{"name": "Type", "value": "Process"}], "Data": "_wA"}
        ],
        "Assignments": [{"Processes": [PID], "Message": PID}],
        "Error": "oops",
        "GasUsed": 0,
    }


def test_data_to_text() -> None:
    assert data_to_text(b"") == ""
    assert data_to_text("é".encode()) == "é"
    raw = b"\x80\x81\x82"
    assert data_to_text(raw) == base64.urlsafe_b64encode(raw).decode().rstrip("=")
