"""IDs: the strict base64url text form, chains, addresses."""

from __future__ import annotations

import base64
import hashlib

import pytest
from blake3 import blake3
from hypothesis import given
from hypothesis import strategies as st

from aonode.errors import InvalidArgument
from aonode.ids import (
    ID_LEN,
    InvalidIdError,
    address_of,
    b64url_decode,
    b64url_encode,
    blake3_digest,
    decode_id,
    encode_id,
    is_id,
    next_hash_chain,
    next_hashpath,
)


@given(st.binary(min_size=32, max_size=32))
def test_id_round_trip(raw: bytes) -> None:
    text = encode_id(raw)
    assert len(text) == 43
    assert text == base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert decode_id(text) == raw
    assert is_id(text)


@given(st.binary(max_size=100))
def test_b64url_round_trip(raw: bytes) -> None:
    text = b64url_encode(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == raw


@given(st.text(max_size=60))
def test_b64url_decode_accepts_only_canonical_text(text: str) -> None:
    try:
        raw = b64url_decode(text)
    except InvalidIdError:
        return
    assert b64url_encode(raw) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A" * 42,
        "A" * 44,
        "A" * 42 + "=",
        "A" * 41 + "==",
        "A" * 42 + "+",
        "A" * 42 + "/",
        "A" * 42 + " ",
        " " + "A" * 42,
        "A" * 21 + "\n" + "A" * 21,
        "A" * 42 + "B",  # non-zero unused bits
        "A" * 42 + "é",
        "A" * 42 + "\x00",
    ],
)
def test_decode_id_rejects(text: str) -> None:
    with pytest.raises(InvalidIdError) as info:
        decode_id(text, "process")
    assert str(info.value).startswith("process: not a 43-character base64url ID")
    assert isinstance(info.value, InvalidArgument)
    assert not is_id(text)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("last", list(_ALPHABET))
def test_decode_id_last_character_rule_matches_b64url_decode(last: str) -> None:
    # decode_id checks the unused bits by the last character alone; b64url_decode re-encodes to check.
    for head in ("A" * 42, "_" * 42, encode_id(bytes(range(32)))[:42]):
        text = head + last
        try:
            expected: bytes | None = b64url_decode(text)
        except InvalidIdError:
            expected = None
        if expected is None:
            with pytest.raises(InvalidIdError, match="trailing bits"):
                decode_id(text)
        else:
            assert decode_id(text) == expected and encode_id(expected) == text


@given(st.text(alphabet=_ALPHABET + "=+/ é", min_size=43, max_size=43))
def test_decode_id_agrees_with_b64url_decode(text: str) -> None:
    try:
        expected: bytes | None = b64url_decode(text)
    except InvalidIdError:
        expected = None
    if expected is None:
        assert not is_id(text)
    else:
        assert decode_id(text) == expected


def test_decode_id_error_does_not_echo_unbounded_input() -> None:
    with pytest.raises(InvalidIdError) as info:
        decode_id("x" * 10_000, "target")
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("text", ["A===", "AA=", "A", "AB", "ABC=", "+A", "A A"])
def test_b64url_decode_rejects(text: str) -> None:
    with pytest.raises(InvalidIdError):
        b64url_decode(text)


def test_b64url_decode_trailing_bits() -> None:
    assert b64url_decode("AA") == b"\x00"
    with pytest.raises(InvalidIdError, match="trailing bits"):
        b64url_decode("AB")
    assert b64url_decode("AAA") == b"\x00\x00"
    with pytest.raises(InvalidIdError, match="trailing bits"):
        b64url_decode("AAB")


def test_encode_id_requires_32_bytes() -> None:
    for n in (0, 31, 33):
        with pytest.raises(InvalidIdError):
            encode_id(bytes(n))


def test_hash_chain_and_hashpath() -> None:
    pid, mid, aid = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32
    assert next_hash_chain(pid, mid) == blake3(pid + mid).digest()
    assert next_hashpath(pid, aid) == blake3(pid + aid).digest()
    assert blake3_digest(b"abc") == blake3(b"abc").digest()
    assert len(next_hash_chain(pid, mid)) == ID_LEN
    # Order matters: the chain is not symmetric.
    assert next_hash_chain(pid, mid) != next_hash_chain(mid, pid)
    with pytest.raises(InvalidIdError, match="message ID"):
        next_hash_chain(pid, b"short")
    with pytest.raises(InvalidIdError, match="previous hashpath"):
        next_hashpath(b"", aid)


def test_address_of() -> None:
    owner = b"\x05" * 32
    expected = base64.urlsafe_b64encode(hashlib.sha256(owner).digest()).decode().rstrip("=")
    assert address_of(owner) == expected
    assert len(address_of(owner)) == 43
    assert decode_id(address_of(owner)) == hashlib.sha256(owner).digest()


def test_dashed_ids_are_shielded_from_option_parsers_and_restored() -> None:
    from aonode.ids import shield_dashed_ids, unshield_arg

    dashed = "-" + "A" * 42
    args = ["send", dashed, "--data", "-short", "--", dashed]
    shielded = shield_dashed_ids(args)
    assert shielded[0] == "send" and shielded[2:5] == ["--data", "-short", "--"]
    assert not shielded[1].startswith("-") and shielded[5] == dashed  # nothing after `--` is touched
    assert [unshield_arg(a) for a in shielded] == args
    assert unshield_arg((shielded[1], 3)) == (dashed, 3)
