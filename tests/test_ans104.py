"""aonode.ans104: data items made by the real npm arbundles and aoconnect (tests/vectors/ans104.json) parse,
verify and keep their IDs; items we build round-trip; every malformed or tampered item is a clean
InvalidArgument naming what is wrong; the codec stores items as their exact bytes."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aonode import ans104, ethereum
from aonode.codec import DecodeError, decode_message, encode_message
from aonode.crypto import Ed25519Signer, RsaPssSigner, SignatureError, verify_message
from aonode.errors import InvalidArgument
from aonode.ids import encode_id
from aonode.model import Message, Tag, ValidationError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ans104.json").read_text())["vectors"]
ED = Ed25519Signer.from_private_bytes(b"a" * 32)
TARGET = encode_id(b"\x05" * 32)


@pytest.fixture(scope="module")
def rsa() -> RsaPssSigner:
    return RsaPssSigner.generate(4096)


@pytest.mark.parametrize("first", ["aonode.crypto", "aonode.codec", "aonode.ans104"])
def test_any_of_the_signing_modules_can_be_imported_first(first: str) -> None:
    # crypto imports codec, which imports ans104 last, which uses crypto: no import order may break it.
    done = subprocess.run(
        [sys.executable, "-c", f"import {first}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]


def raw_of(v: dict[str, Any]) -> bytes:
    return base64.b64decode(v["raw"])


# -- vectors from npm arbundles and aoconnect -------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_npm_vectors_parse_verify_and_keep_their_id(v: dict[str, Any]) -> None:
    raw = raw_of(v)
    item = ans104.parse(raw)
    assert encode_id(item.id) == v["id"]
    assert item.owner_address == v.get("ethereum_address", v["owner_address"])
    assert item.signature_type == v["signature_type"]
    assert item.target == v["target"]
    assert [(t.name, t.value) for t in item.tags] == [(t["name"], t["value"]) for t in v["tags"]]
    assert item.data == base64.b64decode(v["data"])
    assert item.signature_data == base64.b64decode(v["signature_data"])
    assert item.raw == raw and encode_message(item) == raw and decode_message(raw) == item


def test_vectors_cover_both_libraries_and_types() -> None:
    sources = {(v["source"].split()[0], v["signature_type"]) for v in VECTORS}
    assert {("@dha-team/arbundles", t) for t in (1, 2, 3)} <= sources
    assert ("@permaweb/aoconnect", 1) in sources


def test_aoconnect_item_carries_its_tags_and_anchor_as_text() -> None:
    (v,) = [v for v in VECTORS if v["name"] == "aoconnect-message"]
    item = ans104.parse(raw_of(v))
    assert item.tag("Action") == "Eval" and item.tag("Data-Protocol") == "ao"
    assert item.anchor == "anchor-0123456789abcdef-01234567"
    assert item.data == b"return 1 + 1"
    assert item.signature is not None and item.signature.scheme == ans104.SCHEME_ANS104_RSA


def test_only_the_canonical_ethereum_signature_verifies() -> None:
    (v,) = [v for v in VECTORS if v["signature_type"] == 3]
    raw = raw_of(v)
    item = ans104.parse(raw)
    assert item.signature is not None and item.algorithm == "secp256k1"
    sig = item.signature.value
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = sig[:32] + (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes([55 - sig[64]])
    other_v = sig[:64] + bytes([55 - sig[64]])
    # Each of these verifies with arbundles (it ignores v and accepts either s) and would be another ID.
    for forged, why in (
        (other_v, "bad signature"),
        (high_s, "not canonical"),
        (sig[:64] + b"\x00", "27 or 28"),
    ):
        with pytest.raises(SignatureError, match=why):
            ans104.parse(raw[:2] + forged + raw[67:])
    with pytest.raises(SignatureError, match="uncompressed"):
        ans104.parse(raw[:67] + b"\x02" + raw[68:])


def test_ethereum_build_and_address() -> None:
    signer = ethereum.EthereumSigner(bytes.fromhex("11" * 32))
    assert signer.address == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # ethers' address for this key
    item = ans104.build(signer, target=TARGET, tags=[("Action", "Eval")], data=b"x")
    assert ans104.parse(item.raw) == item and item.owner_address == signer.address


def test_unknown_signature_types_are_refused_cleanly() -> None:
    with pytest.raises(DecodeError, match="unsupported signature type 4"):
        ans104.parse(b"\x04\x00" + bytes(300))


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_tampering_with_any_signed_part_fails_verification(v: dict[str, Any]) -> None:
    raw = raw_of(v)
    sig_len, owner_len, _ = ans104._TYPES[v["signature_type"]]
    # The last byte of the signature, of the owner, and of the whole item (data or tags).
    for pos in (1 + sig_len, 1 + sig_len + owner_len, len(raw) - 1):
        bad = bytearray(raw)
        bad[pos] ^= 0x01
        with pytest.raises(InvalidArgument):
            ans104.parse(bytes(bad))


# -- deep hash and Avro -----------------------------------------------------------------------------------


def test_deep_hash_of_blobs_and_lists() -> None:
    import hashlib

    def h(b: bytes) -> bytes:
        return hashlib.sha384(b).digest()

    assert ans104.deep_hash(b"abc") == h(h(b"blob3") + h(b"abc"))
    acc = h(b"list2")
    acc = h(acc + ans104.deep_hash(b"a"))
    acc = h(acc + ans104.deep_hash([b"b"]))
    assert ans104.deep_hash([b"a", [b"b"]]) == acc


def test_avro_tags_round_trip_and_refuse_garbage() -> None:
    tags = [(b"Action", b"Eval"), (b"", b""), (b"x" * 300, b"y" * 70)]
    encoded = ans104.encode_tags(tags)
    assert ans104.decode_tags(encoded) == tags
    # A block with a negative count carries its byte size (Avro allows it; arbundles never writes it).
    block = b"".join(ans104._zigzag(len(x)) + x for pair in tags[:1] for x in pair)
    assert ans104.decode_tags(ans104._zigzag(-1) + ans104._zigzag(len(block)) + block + b"\x00") == tags[:1]
    for bad in (
        encoded[:-1],  # no terminating block
        encoded + b"\x00",  # trailing byte
        b"\x02\x7f",  # negative length
        b"\xff" * 11,  # varint too long
        ans104._zigzag(10**6) + b"\x00\x00",  # forged count
    ):
        with pytest.raises(DecodeError):
            ans104.decode_tags(bad)


# -- build ------------------------------------------------------------------------------------------------


def test_build_ed25519_round_trips(rsa: RsaPssSigner) -> None:
    for signer in (ED, rsa):
        item = ans104.build(
            signer, target=TARGET, anchor="a" * 32, tags=[("Action", "Eval"), Tag("K", "V")], data=b"1 + 1"
        )
        again = ans104.parse(item.raw)
        assert again == item
        assert again.target == TARGET and again.anchor == "a" * 32 and again.data == b"1 + 1"
        assert again.owner_address == signer.address
        verify_message(again)


def test_ed25519_items_are_deterministic_and_ids_are_sha256_of_the_signature() -> None:
    import hashlib

    a = ans104.build(ED, tags=[("A", "1")])
    b = ans104.build(ED, tags=[("A", "1")])
    assert a.raw == b.raw
    assert a.signature is not None and a.id == hashlib.sha256(a.signature.value).digest()


def test_from_message_keeps_fields() -> None:
    m = Message(target=TARGET, anchor="z" * 32, tags=(Tag("Type", "Message"),), data=b"d")
    item = ans104.from_message(m, ED)
    assert (item.target, item.anchor, item.tags, item.data) == (m.target, m.anchor, m.tags, m.data)


def test_build_refuses_bad_fields() -> None:
    with pytest.raises(InvalidArgument, match="anchor"):
        ans104.build(ED, anchor="short")
    with pytest.raises(InvalidArgument):
        ans104.build(ED, target="not-an-id")


def test_an_item_cannot_be_re_signed_in_place() -> None:
    item = ans104.build(ED)
    with pytest.raises(InvalidArgument):
        item.with_signature(None)


# -- limits -----------------------------------------------------------------------------------------------


def test_tag_limits() -> None:
    ans104.parse(ans104.build(ED, tags=[(f"T{i}", "v") for i in range(128)]).raw)
    with pytest.raises(ValidationError, match="too many tags"):
        ans104.parse(ans104.build(ED, tags=[(f"T{i}", "v") for i in range(129)]).raw)
    with pytest.raises(ValidationError, match="name"):
        ans104.parse(ans104.build(ED, tags=[("N" * 1025, "v")]).raw)
    with pytest.raises(ValidationError, match="value"):
        ans104.parse(ans104.build(ED, tags=[("N", "v" * 3073)]).raw)
    with pytest.raises(ValidationError, match="empty"):
        ans104.parse(ans104.build(ED, tags=[("", "v")]).raw)
    # Avro tag bytes beyond 4096 (arbundles' verify) although each tag is within its own limits.
    with pytest.raises(ValidationError, match="4096"):
        ans104.parse(ans104.build(ED, tags=[("A", "v" * 3000), ("B", "v" * 1200)]).raw)


def test_tags_that_are_not_utf8_decode_but_do_not_validate() -> None:
    item = ans104.build(ED, tags=[(b"Name", b"\xff\xfe")])
    assert ans104.decode(item.raw).tags[0].name == "Name"
    with pytest.raises(ValidationError, match="UTF-8"):
        ans104.parse(item.raw)


def test_a_non_utf8_anchor_shows_as_base64url_and_builds_back() -> None:
    item = ans104.build(ED, anchor=b"\xff" * 32)
    assert item.anchor == encode_id(b"\xff" * 32)
    assert ans104.build(ED, anchor=item.anchor).raw == item.raw


# -- structure --------------------------------------------------------------------------------------------


def _item_parts(item: ans104.Ans104Message) -> tuple[bytes, bytes]:
    """(signature type ‖ signature ‖ owner, the rest)."""
    sig_len, owner_len, _ = ans104._TYPES[item.signature_type]
    n = 2 + sig_len + owner_len
    return item.raw[:n], item.raw[n:]


def test_malformed_items_are_decode_errors() -> None:
    item = ans104.build(ED, target=TARGET, tags=[("A", "b")], data=b"xyz")
    head, rest = _item_parts(item)
    cases = {
        "empty": b"",
        "one byte": b"\x02",
        "unknown type": b"\x09\x00" + item.raw[2:],
        "truncated owner": item.raw[:80],
        "bad target flag": head + b"\x02" + rest[1:],
        "truncated target": head + b"\x01" + b"\x05" * 10,
        "truncated tag header": head + b"\x00\x00" + b"\x00" * 8,
        "tag bytes past end": head + b"\x00\x00" + struct.pack("<QQ", 1, 10**9),
        "count mismatch": head + b"\x00\x00" + struct.pack("<QQ", 2, 0) + b"data",
        "tag count without bytes": head + b"\x00\x00" + struct.pack("<QQ", 1, 0),
    }
    for name, raw in cases.items():
        with pytest.raises(DecodeError):
            ans104.decode(raw)
        with pytest.raises(DecodeError):
            ans104.parse(raw)
        with pytest.raises(DecodeError):
            decode_message(raw)  # stored bytes that are neither format
        assert name


def test_a_valid_structure_with_a_wrong_signature_is_a_signature_error(rsa: RsaPssSigner) -> None:
    for signer in (ED, rsa):
        item = ans104.build(signer, data=b"abc")
        forged = item.raw[:-1] + b"d"
        with pytest.raises(SignatureError, match="bad signature"):
            ans104.parse(forged)


def test_small_order_ed25519_owners_and_non_canonical_s_are_refused() -> None:
    item = ans104.build(ED, data=b"abc")
    head, rest = _item_parts(item)
    identity_owner = (1).to_bytes(32, "little")
    forged = b"\x02\x00" + bytes(32) + bytes(32) + identity_owner + rest
    with pytest.raises(SignatureError, match="small-order"):
        ans104.parse(forged)
    sig = bytearray(head[2:66])
    s = int.from_bytes(sig[32:], "little") + 2**252 + 27742317777372353535851937790883648493
    if s < 2**256:
        forged2 = b"\x02\x00" + bytes(sig[:32]) + s.to_bytes(32, "little") + head[66:] + rest
        with pytest.raises(SignatureError, match="S >= L"):
            ans104.parse(forged2)


def test_is_ans104_tells_the_formats_apart() -> None:
    ours = encode_message(Message(tags=(Tag("A", "b"),)))
    assert not ans104.is_ans104(ours)
    assert ans104.is_ans104(ans104.build(ED).raw)
    assert type(decode_message(ours)) is Message


def test_decoding_work_is_bounded_by_the_header_count() -> None:
    head = ans104.build(ED).raw[:98]
    n = 100_000
    tags = ans104._zigzag(n) + b"\x00\x00" * n + b"\x00"
    for header in (n, 3):
        raw = head + b"\x00\x00" + struct.pack("<QQ", header, len(tags)) + tags
        with pytest.raises(DecodeError, match="tags"):
            ans104.decode(raw)
    # Up to MAX_DECODE_TAGS decode (a stored item always does); validation then refuses more than 128.
    many = ans104.encode_tags([(b"T", b"")] * ans104.MAX_DECODE_TAGS)
    raw = head + b"\x00\x00" + struct.pack("<QQ", ans104.MAX_DECODE_TAGS, len(many)) + many
    assert len(ans104.decode(raw).tags) == ans104.MAX_DECODE_TAGS
