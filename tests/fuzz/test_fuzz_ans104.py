"""Property-based fuzzing of the ANS-104 parser (`aonode.ans104`), which takes bytes from anyone over gRPC
(the `ans104` form of a message) and HTTP:

- random bytes, random bytes behind a valid signature-type prefix, and valid items (from npm arbundles,
  aoconnect and our builder) with bytes spliced in, cut off or flipped: `parse` either returns an item or
  raises `InvalidArgument`, never anything else; `decode_message` likewise raises only `DecodeError`;
- whatever parses re-encodes to exactly its bytes, and its ID is sha256 of its signature;
- built items with random fields always parse back to the same fields (the builder and the parser
  agree), and the Avro tag codec round-trips any tag list.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aonode import ans104
from aonode.codec import DecodeError, decode_message, encode_message
from aonode.crypto import Ed25519Signer
from aonode.errors import InvalidArgument
from aonode.ids import encode_id

ED = Ed25519Signer.from_private_bytes(b"z" * 32)
VECTORS = [
    base64.b64decode(v["raw"])
    for v in json.loads((Path(__file__).parents[1] / "vectors" / "ans104.json").read_text())["vectors"]
]
SAMPLES = [
    *VECTORS,
    ans104.build(ED, target=encode_id(b"\x01" * 32), anchor=b"\x02" * 32, tags=[("A", "b")], data=b"xy").raw,
    ans104.build(ED).raw,
]


def _check(raw: bytes) -> None:
    try:
        item = ans104.parse(raw)
    except InvalidArgument:
        pass
    else:
        assert encode_message(item) == raw
        assert item.signature is not None and item.id == hashlib.sha256(item.signature.value).digest()
    with contextlib.suppress(DecodeError):
        decode_message(raw)


@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    _check(raw)


@given(st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00"]), st.binary(max_size=1500))
def test_random_bodies_behind_a_known_type(prefix: bytes, body: bytes) -> None:
    _check(prefix + body)


@given(
    st.sampled_from(SAMPLES),
    st.integers(0, 10**6),
    st.integers(0, 12),
    st.binary(max_size=24),
)
def test_spliced_items(sample: bytes, at: int, cut: int, insert: bytes) -> None:
    pos = at % (len(sample) + 1)
    _check(sample[:pos] + insert + sample[pos + cut :])


@given(st.sampled_from(SAMPLES), st.integers(0, 10**6), st.integers(1, 255))
def test_flipped_bytes_never_verify(sample: bytes, at: int, mask: int) -> None:
    pos = at % len(sample)
    mutated = sample[:pos] + bytes([sample[pos] ^ mask]) + sample[pos + 1 :]
    try:
        ans104.parse(mutated)
    except InvalidArgument:
        return
    # Only a change the signature does not cover may still verify: none exists in ANS-104 (every byte
    # is the type, the signature, or signed), except a different but equivalent Avro block layout,
    # which a single flip cannot make.
    raise AssertionError(f"a flipped byte at {pos} still verifies")


@settings(deadline=None)
@given(
    st.one_of(st.just(""), st.just(encode_id(b"\x07" * 32))),
    st.one_of(st.just(b""), st.binary(min_size=32, max_size=32)),
    st.lists(
        st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=40)),
        max_size=12,
    ),
    st.binary(max_size=300),
)
def test_built_items_parse_back(target: str, anchor: bytes, tags: list[tuple[str, str]], data: bytes) -> None:
    try:
        item = ans104.build(ED, target=target, anchor=anchor, tags=tags, data=data)
    except InvalidArgument:
        return  # e.g. a lone surrogate in the text: not encodable, refused up front
    again = ans104.parse(item.raw)
    assert again == item
    assert [(t.name, t.value) for t in again.tags] == tags
    assert (again.target, again.data) == (target, data)


@given(st.lists(st.tuples(st.binary(max_size=70), st.binary(max_size=200)), max_size=20))
def test_avro_tags_round_trip(tags: list[tuple[bytes, bytes]]) -> None:
    assert ans104.decode_tags(ans104.encode_tags(tags)) == tags
