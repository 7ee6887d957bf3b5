"""Property-based fuzzing of the decoders that take bytes or text from outside, beyond what
tests/test_codec.py covers (random bytes and mutations of each codec, round trips):

- `decode_assignment_rows` (the subscription path) on batches of random and spliced encodings: only
  `DecodeError`, and it agrees with `decode_assignment` element by element;
- one kind's encoding given to another kind's decoder, and a valid encoding with random bytes spliced
  in anywhere: only `DecodeError`, and whatever decodes re-encodes to the same bytes;
- `decode_id` on random text (request fields carry IDs as text): only `InvalidIdError`, and it
  round-trips every 32-byte value;
- `message_from_pb` + `Message.validate` + `verify_message` on random protobuf messages (the
  Schedule path before the store): only `AonodeError` subclasses, never a bare Python exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aonode.codec import (
    DecodeError,
    decode_assignment,
    decode_assignment_rows,
    decode_location,
    decode_message,
    decode_result,
    encode_assignment,
    encode_location,
    encode_message,
    encode_result,
)
from aonode.crypto import verify_message
from aonode.errors import AonodeError
from aonode.ids import InvalidIdError, decode_id, encode_id
from aonode.model import Assignment
from aonode.rpc.convert import message_from_pb
from aonode.v1 import types_pb2
from tests.test_codec import SAMPLES

CODECS: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "message": (encode_message, decode_message),
    "assignment": (encode_assignment, decode_assignment),
    "location": (encode_location, decode_location),
    "result": (encode_result, decode_result),
}
ENCODED = {kind: CODECS[kind][0](SAMPLES[kind]) for kind in CODECS}


def _spliced(kind: str) -> st.SearchStrategy[bytes]:
    """The sample encoding of `kind` with random bytes inserted, or a stretch replaced, anywhere."""
    valid = ENCODED[kind]
    return st.tuples(st.integers(0, len(valid)), st.integers(0, 8), st.binary(max_size=40)).map(
        lambda a: valid[: a[0]] + a[2] + valid[a[0] + a[1] :]
    )


@given(
    st.lists(
        st.one_of(st.binary(max_size=120), _spliced("assignment"), st.just(ENCODED["assignment"])), max_size=6
    )
)
def test_assignment_rows_raise_only_decode_error_and_agree(batch: list[bytes]) -> None:
    singles: list[Assignment | None] = []
    for raw in batch:
        try:
            singles.append(decode_assignment(raw))
        except DecodeError:
            singles.append(None)
    try:
        rows = decode_assignment_rows(batch)
    except DecodeError:
        assert None in singles  # the batch fails only if one of its encodings does
        return
    assert None not in singles
    assert [row[1] for row in rows] == [a.slot for a in singles if a is not None]


@given(st.sampled_from(list(CODECS)), st.sampled_from(list(CODECS)), st.data())
def test_any_decoder_on_any_spliced_encoding(source: str, decoder: str, data: st.DataObject) -> None:
    raw = data.draw(st.one_of(st.just(ENCODED[source]), _spliced(source)))
    encode, decode = CODECS[decoder]
    try:
        value = decode(raw)
    except DecodeError:
        return
    assert encode(value) == raw  # anything that decodes is canonical


@given(
    st.text(max_size=60)
    | st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/",
        min_size=42,
        max_size=44,
    )
)
def test_decode_id_raises_only_invalid_id(text: str) -> None:
    with contextlib.suppress(InvalidIdError):
        raw = decode_id(text, "process")
        assert encode_id(raw) == text


@given(st.binary(min_size=32, max_size=32))
def test_ids_round_trip(raw: bytes) -> None:
    assert decode_id(encode_id(raw)) == raw


_tags = st.lists(st.builds(types_pb2.Tag, name=st.text(max_size=30), value=st.text(max_size=30)), max_size=5)
_signatures = st.builds(
    types_pb2.Signature,
    scheme=st.integers(-2, 5),
    owner=st.binary(max_size=600),
    value=st.binary(max_size=600),
)


@given(
    target=st.text(max_size=50),
    anchor=st.text(max_size=50),
    tags=_tags,
    data=st.binary(max_size=100),
    signature=st.none() | _signatures,
)
def test_message_from_pb_then_checks_raise_only_aonode_errors(
    target: str, anchor: str, tags: list[types_pb2.Tag], data: bytes, signature: types_pb2.Signature | None
) -> None:
    pb = types_pb2.Message(target=target, anchor=anchor, tags=tags, data=data)
    if signature is not None:
        pb.signature.CopyFrom(signature)
    with contextlib.suppress(AonodeError):
        message = message_from_pb(pb)
        message.validate()
        verify_message(message)
        assert decode_message(encode_message(message)) == message
