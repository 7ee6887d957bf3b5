"""SubscribeSchedule frames written as protobuf wire bytes, straight from the stored canonical encodings.

A subscriber catching up receives a thousand assignments per frame. Decoding each stored assignment,
building it as a protobuf object (`convert.assignment_to_pb`) and serializing the frame cost ~10 µs per
assignment on the node (on top of the ~4 µs store read), which held a catch-up near 50,000 assignments/s.
Here the stored encodings are split into their fields (`codec.decode_assignment_rows`: no model objects)
and each is written out as the bytes of an `aonode.v1.Assignment` directly (~2 µs):

- fields in field-number order, zero integers and empty strings left out (proto3 implicit presence), the
  signature sub-message present whenever the assignment is signed: what the protobuf library writes, so a
  client parses exactly the `SubscribeScheduleResponse` that `assignment_to_pb` would have built (and,
  with today's runtime, gets the same bytes);
- IDs as their 43-character base64url text (`ids.encode_id`), encoded for the whole frame in one call
  (each 32-byte ID padded with a zero byte to 33, a multiple of 3, so that its text is the first 43 of
  each 44 characters); the process field is the same for every assignment of a subscription and encoded
  once;
- what repeats from one assignment to the next (timestamp and block fields, the signer's scheme and
  owner, the size prefix) is encoded when it changes and reused, so most assignments cost a few slices
  and one tuple of ten pieces.

The rest of a frame (messages, current_slot) is appended after the assignments (field 1 comes first, as
the library writes it). A message is written by `message_wire` around its data: the library serializes
the fields before and after `data` (field 4), and the data itself is only referenced until the frame is
joined, so a 15 MiB message costs one copy in the frame instead of three (decoded, protobuf object,
serialized): the bytes are what `message_to_pb(m).SerializeToString()` gives. The servicer yields the
frame as `bytes`, which `service._serialize` passes through untouched. tests/rpc/test_subscribe_frames.py
checks that the bytes parse equal to the frame the library builds.
"""

from __future__ import annotations

import binascii
import functools
import struct
from collections.abc import Sequence
from itertools import chain
from operator import itemgetter

from aonode import ids
from aonode.ans104 import Ans104Message
from aonode.codec import decode_assignment_rows
from aonode.errors import DataLoss
from aonode.model import Message
from aonode.rpc.convert import scheme_to_pb, signature_to_pb, tags_to_pb
from aonode.v1 import types_pb2

# Field keys (field number << 3 | wire type) of aonode.v1.Assignment, Signature and SubscribeScheduleResponse.
_A_PROCESS = b"\x0a"  # 1, length-delimited
_A_SLOT = b"\x10"  # 2, varint
_A_MESSAGE = b"\x1a"  # 3, length-delimited
_A_TIMESTAMP = b"\x20"  # 4, varint
_A_BLOCK_HEIGHT = b"\x28"  # 5, varint
_A_BLOCK_HASH = b"\x32"  # 6, length-delimited
_A_EPOCH = b"\x38"  # 7, varint
_A_HASH_CHAIN = b"\x42"  # 8, length-delimited
_A_SIGNATURE = b"\x4a"  # 9, length-delimited
_A_ID = b"\x52"  # 10, length-delimited
_S_SCHEME = b"\x08"  # 1, varint
_S_OWNER = b"\x12"  # 2, length-delimited
_S_VALUE = b"\x1a"  # 3, length-delimited
_F_ASSIGNMENTS = b"\x0a"  # SubscribeScheduleResponse 1, length-delimited
_F_CURRENT_SLOT = b"\x18"  # SubscribeScheduleResponse 3, varint
_F_ENCODED = b"\x22"  # SubscribeScheduleResponse 4, length-delimited
_F_MESSAGES = b"\x12"  # SubscribeScheduleResponse 2, length-delimited
_M_DATA = b"\x22"  # Message 4, length-delimited
_M_ANS104 = b"\x32"  # Message 6, length-delimited

_ID_TEXT = ids.ID_TEXT_LEN  # 43
_MESSAGE_HEAD = _A_MESSAGE + bytes([_ID_TEXT])
_CHAIN_HEAD = _A_HASH_CHAIN + bytes([_ID_TEXT])
_ID_FIELD_HEAD = _A_ID + bytes([_ID_TEXT])
_ID_TEXTS = 3 * _ID_TEXT + len(_ID_FIELD_HEAD)  # bytes of an assignment outside its cached pieces

_B64_TO_URL = bytes.maketrans(b"+/", b"-_")
_IDS_OF_ROW = itemgetter(2, 7, 11)  # an AssignmentRow's message, hash chain and ID
_CACHE_MAX = 256  # signature heads kept across frames
_CHUNK = 256  # assignments decoded at a time


def varint(v: int) -> bytes:
    """A protobuf base-128 varint (v in 0 .. 2**64 - 1)."""
    if v < 0x80:
        return _SMALL[v]
    if v < 0x4000:
        return bytes((v & 0x7F | 0x80, v >> 7))
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_SMALL = [bytes((i,)) for i in range(0x80)]


def _b64url(raw: bytes) -> bytes:
    """Unpadded base64url, as `ids.b64url_encode`, as ASCII bytes."""
    return binascii.b2a_base64(raw, newline=False).translate(_B64_TO_URL).rstrip(b"=")


class FrameWriter:
    """Writes the frames of one subscription to `process` starting at `from_slot`. Checks, as the decoded
    reads do, that each stored assignment is the next slot of this process (DataLoss otherwise)."""

    def __init__(self, process: bytes, from_slot: int) -> None:
        self._process = process
        self._process_slot_low, self._process_slot_high = _process_slot_heads(process)
        self.next_slot = from_slot
        self._signature_heads: dict[tuple[str | None, bytes | None, int], bytes] = {}

    def fields(self, encoded: Sequence[bytes], current_slot: int, messages: Sequence[Message] = ()) -> bytes:
        """A SubscribeScheduleResponse with `encoded` as `assignments` (FIELDS format)."""
        parts = self._assignments(encoded) if encoded else []
        parts += _tail(messages, current_slot)
        return b"".join(parts)

    def canonical(
        self, encoded: Sequence[bytes], current_slot: int, messages: Sequence[Message] = ()
    ) -> bytes:
        """A SubscribeScheduleResponse with `encoded` as `encoded_assignments` (CANONICAL format), as
        stored: nothing is decoded."""
        parts = _tail(messages, current_slot)
        add = parts.append
        small = _SMALL
        for e in encoded:
            n = len(e)
            add(_F_ENCODED + (small[n] if n < 0x80 else varint(n)))
            add(e)
        self.next_slot += len(encoded)
        return b"".join(parts)

    def _assignments(self, encoded: Sequence[bytes]) -> list[bytes]:
        """The pieces of the frame's `assignments` field (field 1, first on the wire)."""
        process, expected = self._process, self.next_slot
        sig_heads = self._signature_heads
        if len(sig_heads) > _CACHE_MAX:
            sig_heads.clear()
        pf_low, pf_high = self._process_slot_low, self._process_slot_high
        # Each assignment goes out as ten pieces; all but the slot's, the IDs' texts and the signature
        # value are cached and rebuilt only when a field in them changes (consecutive assignments mostly
        # share timestamp, block and signer), and so is the size of all but the value:
        #   size prefix | process, slot key and low byte | rest of the slot varint, message key |
        #   message text | timestamp, block height, block hash, epoch, hash chain key | hash chain text |
        #   signature up to its value's bytes | value | ID key | ID text
        high, rest = -1, _MESSAGE_HEAD
        stamp, height_, hash_, epoch_ = -1, -1, b"", -1
        middle = b""
        last_sig: tuple[str | None, bytes | None, int] = (None, None, -1)
        sig_head = b""
        size_of: dict[int, bytes] = {}  # assignment size -> its key and length prefix
        varying = -1  # len(head) + len(tail) + len(middle) + len(sig), -1 when to be recomputed
        value_len, prefix = -1, b""
        parts: list[bytes] = []
        # In chunks: the decoded rows of one chunk are freed before the next is decoded into the same
        # memory, which in a long-running node's fragmented heap is ~25% faster than a frame at once.
        for start in range(0, len(encoded), _CHUNK):
            rows = decode_assignment_rows(encoded[start : start + _CHUNK])
            # Every ID of the chunk in one base64 call: message, hash chain and ID of each row, each 32
            # bytes and a zero pad byte -> 44 characters, of which the first 43 are the ID's text.
            text = _b64url(b"\0".join(chain(chain.from_iterable(map(_IDS_OF_ROW, rows)), (b"",))))
            texts = _id_texts(len(rows)).unpack(text)
            for row, message_text, chain_text, id_text in zip(
                rows, texts[0::3], texts[1::3], texts[2::3], strict=True
            ):
                p, slot, _, timestamp, height, block_hash, epoch, _, scheme, owner, value, _ = row
                if slot != expected or p != process:
                    raise _misplaced(process, expected)
                expected += 1
                # A slot's varint is its low 7 bits (with the continuation bit) and then the rest, which
                # changes every 128 slots.
                if slot < 0x80:
                    head, tail = pf_low[slot], _MESSAGE_HEAD
                    varying = -1
                else:
                    if slot >> 7 != high:
                        high = slot >> 7
                        rest = varint(high) + _MESSAGE_HEAD
                        varying = -1
                    head, tail = pf_high[slot & 0x7F], rest
                if timestamp != stamp or block_hash != hash_ or height != height_ or epoch != epoch_:
                    stamp, hash_, height_, epoch_ = timestamp, block_hash, height, epoch
                    middle = _middle(timestamp, height, block_hash, epoch)
                    varying = -1
                if value is None:
                    sig, value = b"", b""
                    last_sig, varying = (None, None, -1), -1
                else:
                    if owner is not last_sig[1] or scheme is not last_sig[0] or len(value) != last_sig[2]:
                        last_sig = (scheme, owner, len(value))
                        known = sig_heads.get(last_sig)
                        if known is None:
                            known = sig_heads[last_sig] = _signature_head(scheme, owner, len(value))
                        sig_head = known
                        varying = -1
                    sig = sig_head
                if varying < 0 or len(value) != value_len:
                    if varying < 0:
                        varying = len(head) + len(tail) + len(middle) + len(sig)
                    value_len = len(value)
                    size = varying + value_len + _ID_TEXTS
                    known = size_of.get(size)
                    if known is None:
                        known = size_of[size] = _F_ASSIGNMENTS + varint(size)
                    prefix = known
                parts += (
                    prefix,
                    head,
                    tail,
                    message_text,
                    middle,
                    chain_text,
                    sig,
                    value,
                    _ID_FIELD_HEAD,
                    id_text,
                )
        self.next_slot = expected
        return parts


@functools.lru_cache(maxsize=256)
def _process_slot_heads(process: bytes) -> tuple[list[bytes], list[bytes]]:
    """The process field followed by the slot's key and first varint byte, for each low 7 bits: of a slot
    < 128 (slot 0 is left out), and of a larger one (the continuation bit set). ~20 KiB, shared by every
    subscriber of the process instead of built for each (an idle subscription's largest part)."""
    process_field = _A_PROCESS + bytes([_ID_TEXT]) + ids.encode_id(process).encode("ascii")
    low = [process_field] + [process_field + _A_SLOT + bytes((b,)) for b in range(1, 0x80)]
    high = [process_field + _A_SLOT + bytes((b | 0x80,)) for b in range(0x80)]
    return low, high


@functools.lru_cache(maxsize=64)
def _id_texts(rows: int) -> struct.Struct:
    """Splits the base64 text of `rows` * 3 padded IDs into the 43-character texts."""
    return struct.Struct("43sx" * (3 * rows))


def _middle(timestamp: int, height: int, block_hash: bytes, epoch: int) -> bytes:
    """The fields between the message and the hash chain texts, and the hash chain's key and length."""
    out = _A_TIMESTAMP + varint(timestamp) if timestamp else b""
    if height:
        out += _A_BLOCK_HEIGHT + varint(height)
    if block_hash:
        text = _b64url(block_hash)
        out += _A_BLOCK_HASH + varint(len(text)) + text
    if epoch:
        out += _A_EPOCH + varint(epoch)
    return out + _CHAIN_HEAD


def _signature_head(scheme: str | None, owner: bytes | None, value_len: int) -> bytes:
    """The Signature field up to its value's bytes: key, length, scheme, owner, the value's key and length."""
    enum = scheme_to_pb(scheme) if scheme else 0  # UNSPECIFIED (0) is left out on the wire
    body = b""
    if enum:
        body += _S_SCHEME + varint(enum)
    if owner:
        body += _S_OWNER + varint(len(owner)) + owner
    if value_len:
        body += _S_VALUE + varint(value_len)
    return _A_SIGNATURE + varint(len(body) + value_len) + body


def _tail(messages: Sequence[Message], current_slot: int) -> list[bytes]:
    """Fields 2 (messages) and 3 (current_slot) of a SubscribeScheduleResponse."""
    parts: list[bytes] = []
    for m in messages:
        parts += field(_F_MESSAGES, message_wire(m))
    if current_slot:
        parts.append(_F_CURRENT_SLOT + varint(current_slot))
    return parts


def message_wire(m: Message) -> list[bytes]:
    """`m` as the wire bytes of an `aonode.v1.Message` (those of `message_to_pb(m)`), in pieces: the
    library writes the fields before and after `data`, the data is referenced, not copied. An ANS-104
    item is its `ans104` field alone, its bytes referenced."""
    if type(m) is not Message and isinstance(m, Ans104Message):
        return [_M_ANS104 + varint(len(m.raw)), m.raw]
    head = types_pb2.Message(target=m.target, anchor=m.anchor, tags=tags_to_pb(m.tags)).SerializeToString()
    parts = [head]
    if m.data:
        parts += (_M_DATA + varint(len(m.data)), m.data)
    if m.signature is not None:
        parts.append(types_pb2.Message(signature=signature_to_pb(m.signature)).SerializeToString())
    return parts


def field(key: bytes, pieces: list[bytes]) -> list[bytes]:
    """A length-delimited field holding `pieces` (an embedded message's wire bytes), in pieces."""
    return [key + varint(sum(map(len, pieces))), *pieces]


def _misplaced(process: bytes, slot: int) -> DataLoss:
    return DataLoss(f"process {ids.encode_id(process)}: the stored assignment at slot {slot} is misplaced")
