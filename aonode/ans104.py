"""ANS-104 data items: AO's own message format, accepted beside aonode's canonical encoding.

API (stable; the HTTP gateway builds on it):

- `parse(raw) -> Ans104Message`: decode, validate and verify a data item; raises `InvalidArgument`
  (`DecodeError` for bytes that are not a data item, `ValidationError` for limits, `SignatureError` for a
  signature that does not verify). What the node accepts from callers.
- `decode(raw) -> Ans104Message`: the structure only, no signature check (stored items, `codec`).
- `verify(item)`: raise `SignatureError` unless the item's signature verifies.
- `build(signer, target=, anchor=, tags=, data=) -> Ans104Message`: make and sign an item (tests, the
  bench, the gateway). `signer` is an `aonode.crypto` signer (an Arweave JWK wallet's `RsaPssSigner`, or an
  `Ed25519Signer`): RSA keys sign as type 1, Ed25519 keys as type 2; an `ethereum.EthereumSigner` as 3.
- `is_ans104(raw)`: whether bytes look like a data item rather than an aonode encoding (`AOM1…`).
- `Ans104Message`: a `Message` (so the scheduler, store, compute, push, replication take it unchanged)
  that also carries `raw`, the item's exact bytes, and `signature_type`. Its `id` is ANS-104's:
  `sha256(signature)`; its `codec.encode_message` is `raw`, so the store keeps and serves the exact bytes
  and `codec.decode_message` gives the item back (the first byte tells the formats apart: `A` for
  `AOM1`, 1-3 for a data item's little-endian signature type).

Layout (ANS-104), all integers little-endian:

    u16 signature type | signature | owner | u8 target flag [32 target] | u8 anchor flag [32 anchor]
    | u64 tag count | u64 tag bytes | tags (Avro array of {name: bytes, value: bytes}) | data (the rest)

Signature types: 1 Arweave (RSA-PSS, SHA-256, MGF1-SHA-256, 512-byte signature and owner = the RSA-4096
modulus, e = 65537, any salt length: aoconnect and arbundles sign with the maximum, `build` with 32);
2 Ed25519 (64-byte signature, 32-byte owner, the same point checks as aonode's own Ed25519, `crypto`);
3 Ethereum (secp256k1
over the EIP-191 keccak-256 hash, 65-byte `r ‖ s ‖ v` signature and uncompressed owner; only the canonical
signature, low `s` and the owner's own `v`, verifies: `aonode.ethereum`). What is signed is the deep hash
(SHA-384) of `["dataitem", "1", "<type>", owner, target, anchor, tag bytes, data]`, where an absent target
or anchor is empty.

The model's view: `target` is the target's base64url ID ("" when absent); `anchor` is the anchor's 32
bytes as UTF-8 text when they are valid UTF-8, else their base64url; tags are decoded as UTF-8 (bytes
that are not UTF-8 are kept as surrogate escapes so decoding never fails, and `validate` refuses them);
the signature's `scheme` is `ans104-rsa-pss-sha256`, `ans104-ed25519` or `ans104-secp256k1`, its owner the
raw owner, so the signer's address (`Owner`, `From`) is base64url(sha256(owner)) as in AO (an Ethereum
signer's is its EIP-55 `0x…` address, as AO shows them).

Limits (`Ans104Message.validate`, beyond `Message.validate`'s 128 tags, names 1-1024 bytes, values at
most 3072 bytes): the Avro tag bytes are at most 4096 (arbundles' verify, which AO's MU applies).
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

from aonode import crypto, ethereum
from aonode.codec import DecodeError
from aonode.errors import InvalidArgument
from aonode.ids import Address, MessageId, b64url_decode, b64url_encode, decode_id, encode_id
from aonode.model import (
    SCHEME_ED25519,
    SCHEME_RSA_PSS_SHA512,
    Message,
    Signature,
    Tag,
    ValidationError,
    _derived,
)

SIG_ARWEAVE = 1
SIG_ED25519 = 2
SIG_ETHEREUM = 3
SCHEME_ANS104_RSA = "ans104-rsa-pss-sha256"
SCHEME_ANS104_ED25519 = "ans104-ed25519"
SCHEME_ANS104_ETHEREUM = "ans104-secp256k1"
FORMAT = "ans104@1.0"
"""The commitment device that names this format (HyperBEAM's)."""

ALGORITHMS = {
    SCHEME_ANS104_RSA: "rsa-pss-sha256",
    SCHEME_ANS104_ED25519: "ed25519",
    SCHEME_ANS104_ETHEREUM: "secp256k1",
}
"""A commitment's `alg` for each scheme (HyperBEAM's names)."""

# signature type -> (signature length, owner length, scheme)
_TYPES: dict[int, tuple[int, int, str]] = {
    SIG_ARWEAVE: (512, 512, SCHEME_ANS104_RSA),
    SIG_ED25519: (64, 32, SCHEME_ANS104_ED25519),
    SIG_ETHEREUM: (65, 65, SCHEME_ANS104_ETHEREUM),
}
_SCHEME_TYPE = {scheme: t for t, (_, _, scheme) in _TYPES.items()}

MAX_TAG_BYTES = 4096
"""Avro tag bytes an item may carry (arbundles' `DataItem.verify`)."""
MAX_DECODE_TAGS = 1024
"""Tags `decode` reads at most (8 times the 128 a valid item may carry, so every stored item decodes): a
bound on the work any input costs. Decoding is a Python loop; a 2 MB item of a million empty tags took
~7 s before this bound."""
ANCHOR_LEN = 32
TARGET_LEN = 32
MIN_ITEM_SIZE = 2 + 64 + 32 + 1 + 1 + 16
"""The smallest item that can parse: an Ed25519 item without target, anchor, tags or data."""

_U64 = struct.Struct("<Q")
_RSA_SALT_SIGN = 32  # arbundles' ArweaveSigner; verification accepts any salt length
_VERIFY_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_SIGN_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_RSA_SALT_SIGN)
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class Ans104Message(Message):
    """A message that is an ANS-104 data item: `raw` is its exact bytes (stored, served and replicated
    unchanged), the other fields its decoded view (module docstring). Build with `decode`, `parse` or
    `build`, never field by field: nothing checks that the fields agree with `raw`."""

    raw: bytes = b""
    signature_type: int = 0

    @_derived
    def id(self) -> MessageId:
        """ANS-104's ID: sha256 of the signature (an item is always signed)."""
        sig = self.signature
        return MessageId(hashlib.sha256(sig.value if sig is not None else b"").digest())

    @_derived
    def owner_address(self) -> Address | None:
        """The signer's address as AO shows it: base64url(sha256(owner)) for Arweave and Ed25519 keys, the
        EIP-55 `0x…` address for Ethereum keys."""
        sig = self.signature
        if sig is None:
            return None
        if self.signature_type == SIG_ETHEREUM:
            return ethereum.address(sig.owner)
        return sig.address

    @property
    def format(self) -> str:
        return FORMAT

    @property
    def algorithm(self) -> str:
        """The commitment's `alg` (HyperBEAM's name for the signature type)."""
        sig = self.signature
        return ALGORITHMS.get(sig.scheme, "") if sig is not None else ""

    def with_signature(self, sig: Signature | None) -> Message:
        # The raw bytes carry the signature: another one makes it a different item, which only
        # `build` can make.
        raise InvalidArgument("an ANS-104 item cannot be re-signed in place; build a new one")

    def validate(self) -> None:
        Message.validate(self)
        lay = self._layout
        size = lay.tags_end - lay.tags_start
        if size > MAX_TAG_BYTES:
            raise ValidationError(f"ans104: tags take {size} bytes (at most {MAX_TAG_BYTES})")

    @_derived
    def signature_data(self) -> bytes:
        """The 48-byte deep hash the signature signs."""
        return _signature_data(self._layout)

    @_derived
    def _layout(self) -> _Layout:
        # `decode` leaves the layout it checked here; an unpickled item computes it again.
        return _Layout.of(self.raw)


# -- deep hash ----------------------------------------------------------------------------------------------

DeepHashable = bytes | Sequence["DeepHashable"]


def deep_hash(value: DeepHashable) -> bytes:
    """Arweave's deep hash (SHA-384): a blob hashes as sha384(sha384("blob" ‖ len) ‖ sha384(blob)); a list
    folds acc = sha384(acc ‖ deep_hash(item)) from acc = sha384("list" ‖ count)."""
    if isinstance(value, bytes | bytearray | memoryview):
        blob = bytes(value)
        tag = hashlib.sha384(b"blob" + str(len(blob)).encode()).digest()
        return hashlib.sha384(tag + hashlib.sha384(blob).digest()).digest()
    acc = hashlib.sha384(b"list" + str(len(value)).encode()).digest()
    for item in value:
        acc = hashlib.sha384(acc + deep_hash(item)).digest()
    return acc


# -- layout -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """Offsets of an item's parts (all checked)."""

    raw: bytes
    sig_type: int
    sig_end: int
    owner_end: int
    target: bytes
    anchor: bytes
    tag_count: int
    tags_start: int
    tags_end: int

    @staticmethod
    def of(raw: bytes) -> _Layout:
        n = len(raw)
        if n < 2:
            raise DecodeError("ans104: truncated in signature type")
        sig_type = raw[0] | raw[1] << 8
        spec = _TYPES.get(sig_type)
        if spec is None:
            raise DecodeError(
                f"ans104: unsupported signature type {sig_type} (1 Arweave, 2 Ed25519 and 3 Ethereum are)"
            )
        sig_len, owner_len, _ = spec
        sig_end = 2 + sig_len
        owner_end = sig_end + owner_len
        if owner_end > n:
            raise DecodeError("ans104: truncated in signature or owner")
        pos = owner_end
        target, pos = _optional(raw, pos, TARGET_LEN, "target")
        anchor, pos = _optional(raw, pos, ANCHOR_LEN, "anchor")
        if pos + 16 > n:
            raise DecodeError("ans104: truncated in tag count")
        tag_count = _U64.unpack_from(raw, pos)[0]
        tag_len = _U64.unpack_from(raw, pos + 8)[0]
        tags_start = pos + 16
        if tag_len > n - tags_start:
            raise DecodeError(f"ans104: {tag_len} tag bytes exceed the item")
        return _Layout(raw, sig_type, sig_end, owner_end, target, anchor, tag_count, tags_start,
                       tags_start + tag_len)  # fmt: skip


def _optional(raw: bytes, pos: int, size: int, what: str) -> tuple[bytes, int]:
    if pos >= len(raw):
        raise DecodeError(f"ans104: truncated in {what} flag")
    flag = raw[pos]
    if flag == 0:
        return b"", pos + 1
    if flag != 1:
        raise DecodeError(f"ans104: {what} flag is {flag} (0 or 1)")
    end = pos + 1 + size
    if end > len(raw):
        raise DecodeError(f"ans104: truncated in {what}")
    return raw[pos + 1 : end], end


def _fold(acc: bytes, items: Sequence[DeepHashable]) -> bytes:
    for item in items:
        acc = hashlib.sha384(acc + deep_hash(item)).digest()
    return acc


# The deep hash of the signed list up to its first three (constant) entries, for each signature type: the
# fold goes on from there (it saves a third of the hashing).
_PREFIX = {t: _fold(hashlib.sha384(b"list8").digest(), [b"dataitem", b"1", str(t).encode()]) for t in _TYPES}


def _signature_data(lay: _Layout) -> bytes:
    """deep_hash(["dataitem", "1", type, owner, target, anchor, tag bytes, data])."""
    raw = lay.raw
    return _fold(
        _PREFIX[lay.sig_type],
        [
            raw[lay.sig_end : lay.owner_end],
            lay.target,
            lay.anchor,
            raw[lay.tags_start : lay.tags_end],
            raw[lay.tags_end :],
        ],
    )


# -- Avro tags ----------------------------------------------------------------------------------------------


def _read_long(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """A zigzag varint (Avro long) at `pos`; at most 10 bytes."""
    shift = 0
    value = 0
    for i in range(10):
        if pos + i >= end:
            raise DecodeError("ans104: truncated in a tag length")
        b = buf[pos + i]
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return (value >> 1) ^ -(value & 1), pos + i + 1
        shift += 7
    raise DecodeError("ans104: a tag length varint is longer than 10 bytes")


def _read_bytes(buf: bytes, pos: int, end: int) -> tuple[bytes, int]:
    size, pos = _read_long(buf, pos, end)
    if size < 0 or size > end - pos:
        raise DecodeError(f"ans104: tag length {size} does not fit the tag bytes")
    return buf[pos : pos + size], pos + size


def decode_tags(
    buf: bytes, start: int = 0, end: int | None = None, max_count: int = MAX_DECODE_TAGS
) -> list[tuple[bytes, bytes]]:
    """The (name, value) pairs of an Avro array of {name: bytes, value: bytes} filling buf[start:end]
    exactly (any block structure Avro allows; trailing bytes are refused). No bytes at all are no tags
    (what arbundles writes for an item without tags). More than `max_count` tags is a DecodeError before
    they are read, so no input costs more than `max_count` steps."""
    end = len(buf) if end is None else end
    pos = start
    out: list[tuple[bytes, bytes]] = []
    if pos == end:
        return out
    while True:
        count, pos = _read_long(buf, pos, end)
        if count == 0:
            break
        if count < 0:  # a block with its byte size: the size is only a hint to skip it
            count = -count
            _, pos = _read_long(buf, pos, end)
        if count > (end - pos) // 2:  # each tag takes at least two bytes: a forged count costs nothing
            raise DecodeError(f"ans104: tag block of {count} exceeds the tag bytes")
        if len(out) + count > max_count:
            raise DecodeError(f"ans104: more than {max_count} tags")
        for _ in range(count):
            name, pos = _read_bytes(buf, pos, end)
            value, pos = _read_bytes(buf, pos, end)
            out.append((name, value))
    if pos != end:
        raise DecodeError(f"ans104: {end - pos} bytes after the tags")
    return out


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_tags(tags: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Avro bytes of `tags` as arbundles writes them (one block; empty when there are no tags)."""
    if not tags:
        return b""
    parts = [_zigzag(len(tags))]
    for name, value in tags:
        parts += (_zigzag(len(name)), name, _zigzag(len(value)), value)
    parts.append(b"\x00")
    return b"".join(parts)


# -- decode, verify, parse ----------------------------------------------------------------------------------


def is_ans104(raw: bytes | bytearray | memoryview) -> bool:
    """Whether `raw` starts like a data item (a known signature type) rather than an aonode encoding."""
    return len(raw) >= 2 and raw[1] == 0 and raw[0] in _TYPES


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _anchor_text(anchor: bytes) -> str:
    try:
        return anchor.decode("utf-8")
    except UnicodeDecodeError:
        return b64url_encode(anchor)


def decode(raw: bytes | bytearray | memoryview) -> Ans104Message:
    """The item in `raw` (structure only: see `parse`). `DecodeError` for bytes that are not one."""
    buf = bytes(raw)
    lay = _Layout.of(buf)
    if lay.tag_count > MAX_DECODE_TAGS:
        raise DecodeError(
            f"ans104: {lay.tag_count} tags (no item this node holds has more than {MAX_DECODE_TAGS})"
        )
    pairs = decode_tags(buf, lay.tags_start, lay.tags_end, lay.tag_count)
    if len(pairs) != lay.tag_count:
        raise DecodeError(f"ans104: header says {lay.tag_count} tags, the tag bytes hold {len(pairs)}")
    _, _, scheme = _TYPES[lay.sig_type]
    sig = Signature(scheme, buf[lay.sig_end : lay.owner_end], buf[2 : lay.sig_end])
    item = Ans104Message(
        target=encode_id(lay.target) if lay.target else "",
        anchor=_anchor_text(lay.anchor) if lay.anchor else "",
        tags=tuple(Tag(_text(k), _text(v)) for k, v in pairs),
        data=buf[lay.tags_end :],
        signature=sig,
        raw=buf,
        signature_type=lay.sig_type,
    )
    item.__dict__["_layout"] = lay
    return item


def _problem(item: Ans104Message) -> str | None:
    sig = item.signature
    if sig is None:
        return "item is unsigned"
    message = item.signature_data
    owner, value = sig.owner, sig.value
    if item.signature_type == SIG_ARWEAVE:
        if owner[0] == 0 or owner[-1] & 1 == 0:
            return "rsa owner is not a canonical odd 4096-bit modulus"
        try:
            key = crypto.rsa_public_key(owner)
            key.verify(value, message, _VERIFY_PADDING, _SHA256)
        except (InvalidSignature, ValueError):
            return "bad signature"
        return None
    if item.signature_type == SIG_ED25519:
        problem = crypto.ed25519_key_problem(owner, value)
        if problem is not None:
            return problem
        try:
            crypto_sign_open(value + message, owner)
        except CryptoError:
            return "bad signature"
        return None
    if item.signature_type == SIG_ETHEREUM:
        return ethereum.problem(owner, value, message)
    return f"unsupported signature type {item.signature_type}"


def verify(item: Ans104Message) -> None:
    """Raise `SignatureError` unless the item's signature verifies its deep hash."""
    try:
        problem = _problem(item)
    except Exception as exc:  # garbage must give a clean error, never a crash
        problem = f"malformed signature ({type(exc).__name__})"
    if problem is not None:
        raise crypto.SignatureError(f"ans104 item signature: {problem}")


def parse(raw: bytes | bytearray | memoryview) -> Ans104Message:
    """A data item from a caller: decoded, validated (limits) and verified. `InvalidArgument` otherwise."""
    item = decode(raw)
    item.validate()
    verify(item)
    return item


# -- building -----------------------------------------------------------------------------------------------


def _raw_field(value: str | bytes, size: int, what: str) -> bytes:
    if not value:
        return b""
    if isinstance(value, bytes):
        raw = value
    elif what == "target":
        raw = decode_id(value, "target")
    else:
        raw = value.encode()
        if len(raw) != size:
            # A 43-character base64url anchor (how `decode` shows a non-UTF-8 one) goes back to its bytes.
            with contextlib.suppress(InvalidArgument):
                raw = b64url_decode(value)
    if len(raw) != size:
        raise InvalidArgument(f"ans104 {what}: must be {size} bytes, got {len(raw)}")
    return raw


# A string: `aonode.crypto` may still be importing (crypto → codec → this module) when this line runs.
ItemSigner: TypeAlias = "crypto.Signer | ethereum.EthereumSigner"
"""What `build` signs with: an aonode key (RSA-4096 → type 1, Ed25519 → type 2) or an Ethereum key (3)."""


def _signer_type(signer: ItemSigner) -> int:
    if isinstance(signer, ethereum.EthereumSigner):
        return SIG_ETHEREUM
    t = _SCHEME_TYPE.get(ALGORITHMS_BY_CRYPTO.get(signer.scheme, ""))
    if t is None:
        raise InvalidArgument(f"ans104: cannot sign with a {signer.scheme} key")
    return t


ALGORITHMS_BY_CRYPTO = {SCHEME_RSA_PSS_SHA512: SCHEME_ANS104_RSA, SCHEME_ED25519: SCHEME_ANS104_ED25519}


def _sign(signer: ItemSigner, sig_type: int, message: bytes) -> bytes:
    if isinstance(signer, ethereum.EthereumSigner):
        return signer.sign_raw(message)
    if sig_type == SIG_ARWEAVE:
        assert isinstance(signer, crypto.RsaPssSigner)
        if len(signer.owner) != 512:
            raise InvalidArgument("ans104: Arweave signatures need an RSA-4096 key")
        return signer.sign_raw(message, _SIGN_PADDING, _SHA256)
    assert isinstance(signer, crypto.Ed25519Signer)
    return signer.sign_raw(message)


def build(
    signer: ItemSigner,
    *,
    target: str | bytes = "",
    anchor: str | bytes = "",
    tags: Iterable[Tag | tuple[str, str] | tuple[bytes, bytes]] = (),
    data: bytes | str = b"",
) -> Ans104Message:
    """A data item signed by `signer` (an RSA-4096 key signs as type 1, Ed25519 as type 2, an
    `ethereum.EthereumSigner` as type 3). `target` is a
    43-character ID or 32 raw bytes; `anchor` 32 bytes (or 32 bytes of UTF-8 text)."""
    sig_type = _signer_type(signer)
    sig_len, owner_len, _ = _TYPES[sig_type]
    owner = signer.owner
    if len(owner) != owner_len:
        raise InvalidArgument(f"ans104: owner must be {owner_len} bytes, got {len(owner)}")
    raw_target = _raw_field(target, TARGET_LEN, "target")
    raw_anchor = _raw_field(anchor, ANCHOR_LEN, "anchor")
    pairs: list[tuple[bytes, bytes]] = []
    for t in tags:
        name, value = (t.name, t.value) if isinstance(t, Tag) else t
        pairs.append((name if isinstance(name, bytes) else name.encode(),
                      value if isinstance(value, bytes) else value.encode()))  # fmt: skip
    tag_bytes = encode_tags(pairs)
    body = b"".join(
        [
            b"\x01" + raw_target if raw_target else b"\x00",
            b"\x01" + raw_anchor if raw_anchor else b"\x00",
            _U64.pack(len(pairs)),
            _U64.pack(len(tag_bytes)),
            tag_bytes,
            data.encode() if isinstance(data, str) else bytes(data),
        ]
    )
    unsigned = struct.pack("<H", sig_type) + bytes(sig_len) + owner + body
    message = _signature_data(_Layout.of(unsigned))
    value = _sign(signer, sig_type, message)
    return decode(struct.pack("<H", sig_type) + value + owner + body)


def item_id(raw: bytes) -> str:
    """The 43-character ID of the item in `raw` (not verified)."""
    return encode_id(decode(raw).id)


def from_message(m: Message, signer: ItemSigner) -> Ans104Message:
    """`m`'s target, anchor, tags and data as a data item signed by `signer` (its signature is ignored).
    The anchor must be empty or 32 bytes (`client.new_anchor()` makes such anchors)."""
    return build(signer, target=m.target, anchor=m.anchor, tags=m.tags, data=m.data)
