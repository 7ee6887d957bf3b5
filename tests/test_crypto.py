"""Signatures: both schemes, tamper-evidence of every field, garbage never raising, key handling.

The RSA key comes from tests/vectors/ids.json (loading a JWK is fast; generating RSA-4096 takes ~1 s)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from aonode import crypto
from aonode.crypto import (
    Ed25519Signer,
    InvalidKeyError,
    RsaPssSigner,
    SignatureError,
    Signer,
    address_of,
    sign_assignment,
    sign_location,
    sign_message,
    verify,
    verify_assignment,
    verify_location,
    verify_message,
)
from aonode.ids import b64url_encode, encode_id
from aonode.model import SCHEME_ED25519, SCHEME_RSA_PSS_SHA512, Assignment, Location, Message, Signature, Tag

VECTORS = Path(__file__).parent / "vectors" / "ids.json"
PID = encode_id(bytes(range(32)))
OTHER_ID = encode_id(bytes(range(1, 33)))
DIGEST = bytes(range(32))
L = 2**252 + 27742317777372353535851937790883648493


@pytest.fixture(scope="session")
def rsa_signer() -> RsaPssSigner:
    jwk = json.loads(VECTORS.read_text(encoding="utf-8"))["keys"]["rsa"]["jwk"]
    return RsaPssSigner.from_jwk(jwk)


@pytest.fixture(scope="session")
def ed_signer() -> Ed25519Signer:
    return Ed25519Signer.from_private_bytes(b"\x42" * 32)


@pytest.fixture(params=[SCHEME_ED25519, SCHEME_RSA_PSS_SHA512])
def signer(request: pytest.FixtureRequest, ed_signer: Ed25519Signer, rsa_signer: RsaPssSigner) -> Signer:
    return ed_signer if request.param == SCHEME_ED25519 else rsa_signer


def test_signers_satisfy_the_protocol(ed_signer: Ed25519Signer, rsa_signer: RsaPssSigner) -> None:
    signers: list[Signer] = [ed_signer, rsa_signer]
    for s in signers:
        assert s.address == address_of(s.owner)
        assert verify(Signature(s.scheme, s.owner, s.sign(DIGEST)), DIGEST)


def test_ed25519_is_deterministic_and_owner_is_raw_key(ed_signer: Ed25519Signer) -> None:
    assert len(ed_signer.owner) == 32
    assert ed_signer.sign(DIGEST) == ed_signer.sign(DIGEST)
    assert len(ed_signer.sign(DIGEST)) == 64
    again = Ed25519Signer.from_private_bytes(ed_signer.private_bytes())
    assert again.owner == ed_signer.owner


def test_ed25519_rfc8032_public_key() -> None:
    # RFC 8032 §7.1, test 1.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    owner = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert Ed25519Signer.from_private_bytes(seed).owner == owner


def test_rsa_owner_is_modulus_and_signatures_are_randomized(rsa_signer: RsaPssSigner) -> None:
    assert len(rsa_signer.owner) == 512 and rsa_signer.owner[0] != 0
    a, b = rsa_signer.sign(DIGEST), rsa_signer.sign(DIGEST)
    assert a != b and len(a) == 512
    assert verify(Signature(SCHEME_RSA_PSS_SHA512, rsa_signer.owner, a), DIGEST)
    assert verify(Signature(SCHEME_RSA_PSS_SHA512, rsa_signer.owner, b), DIGEST)


@pytest.mark.parametrize("salt", [0, 32, 64, padding.PSS.MAX_LENGTH])
def test_rsa_verify_accepts_any_salt_length(rsa_signer: RsaPssSigner, salt: int) -> None:
    key = rsa_signer._key
    value = key.sign(DIGEST, padding.PSS(padding.MGF1(hashes.SHA512()), salt), hashes.SHA512())
    assert verify(Signature(SCHEME_RSA_PSS_SHA512, rsa_signer.owner, value), DIGEST)


def test_rsa_rejects_other_paddings_and_hashes(rsa_signer: RsaPssSigner) -> None:
    key = rsa_signer._key
    pkcs1 = key.sign(DIGEST, padding.PKCS1v15(), hashes.SHA512())
    sha256 = key.sign(DIGEST, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    for value in (pkcs1, sha256):
        assert not verify(Signature(SCHEME_RSA_PSS_SHA512, rsa_signer.owner, value), DIGEST)


def test_rsa_key_cache(rsa_signer: RsaPssSigner) -> None:
    crypto._rsa_public_key.cache_clear()
    sig = Signature(SCHEME_RSA_PSS_SHA512, rsa_signer.owner, rsa_signer.sign(DIGEST))
    assert verify(sig, DIGEST) and verify(sig, DIGEST)
    info = crypto._rsa_public_key.cache_info()
    assert info.misses == 1 and info.hits == 1
    assert info.maxsize == crypto.RSA_KEY_CACHE_SIZE


def test_sign_requires_a_digest(ed_signer: Ed25519Signer, rsa_signer: RsaPssSigner) -> None:
    for s in (ed_signer, rsa_signer):
        with pytest.raises(ValueError, match="32-byte"):
            s.sign(b"not a digest")


def test_repr_shows_no_key_material(ed_signer: Ed25519Signer, rsa_signer: RsaPssSigner) -> None:
    assert ed_signer.private_bytes().hex() not in repr(ed_signer)
    assert ed_signer.address in repr(ed_signer)
    assert rsa_signer.address in repr(rsa_signer)


# -- garbage never raises -----------------------------------------------------------------------------------


def _garbage_signatures(ed: Ed25519Signer, rsa: RsaPssSigner) -> list[Any]:
    good_ed = ed.sign(DIGEST)
    return [
        Signature("", b"", b""),
        Signature("unknown", ed.owner, good_ed),
        Signature("ED25519", ed.owner, good_ed),  # scheme names are exact
        Signature(SCHEME_ED25519, ed.owner[:31], good_ed),
        Signature(SCHEME_ED25519, ed.owner + b"\x00", good_ed),
        Signature(SCHEME_ED25519, ed.owner, good_ed[:63]),
        Signature(SCHEME_ED25519, ed.owner, b""),
        Signature(SCHEME_ED25519, b"\xff" * 32, good_ed),  # not a point / non-canonical
        Signature(SCHEME_RSA_PSS_SHA512, rsa.owner, b""),
        Signature(SCHEME_RSA_PSS_SHA512, rsa.owner, b"\x00" * 512),
        Signature(SCHEME_RSA_PSS_SHA512, rsa.owner, b"\xff" * 512),  # >= n
        Signature(SCHEME_RSA_PSS_SHA512, rsa.owner, rsa.sign(DIGEST)[:-1]),
        Signature(SCHEME_RSA_PSS_SHA512, b"\x00" + rsa.owner[1:], b"\x01" * 512),
        Signature(SCHEME_RSA_PSS_SHA512, rsa.owner[:-1] + b"\x00", b"\x01" * 512),  # even modulus
        Signature(SCHEME_RSA_PSS_SHA512, b"\x01" * 100, b"\x01" * 100),  # too small
        Signature(SCHEME_RSA_PSS_SHA512, b"\x01" * 513, b"\x01" * 513),  # too large
        Signature(SCHEME_RSA_PSS_SHA512, ed.owner, good_ed),
        Signature(None, None, None),  # type: ignore[arg-type]
        Signature(SCHEME_ED25519, "x" * 32, "y" * 64),  # type: ignore[arg-type]
        None,
        42,
    ]


def test_verify_never_raises_on_garbage(ed_signer: Ed25519Signer, rsa_signer: RsaPssSigner) -> None:
    for sig in _garbage_signatures(ed_signer, rsa_signer):
        assert verify(sig, DIGEST) is False, sig
    good = Signature(SCHEME_ED25519, ed_signer.owner, ed_signer.sign(DIGEST))
    for digest in (b"", DIGEST[:31], DIGEST + b"\x00", None, "x" * 32):
        assert verify(good, digest) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(("bits", "accepted"), [(2041, False), (2047, False), (2048, True)])
def test_rsa_modulus_bound_is_on_bits_not_bytes(bits: int, accepted: bool) -> None:
    # A 2041-bit modulus still fills 256 bytes; the bound (as in the Go and TS clients) is 2048 bits.
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    n = key.public_key().public_numbers().n
    owner = n.to_bytes((n.bit_length() + 7) // 8, "big")
    assert len(owner) == 256
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    sig = Signature(SCHEME_RSA_PSS_SHA512, owner, key.sign(DIGEST, pss, hashes.SHA512()))
    assert verify(sig, DIGEST) is accepted
    if not accepted:
        assert f"got {bits} bits" in (crypto._problem(sig, DIGEST) or "")


@given(st.text(max_size=20), st.binary(max_size=600), st.binary(max_size=600), st.binary(max_size=40))
def test_verify_random_input_is_false(scheme: str, owner: bytes, value: bytes, digest: bytes) -> None:
    assert verify(Signature(scheme, owner, value), digest) is False


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64))
def test_verify_random_ed25519_is_false(owner: bytes, value: bytes) -> None:
    assert verify(Signature(SCHEME_ED25519, owner, value), DIGEST) is False


# -- Ed25519 edge cases that OpenSSL alone lets through -----------------------------------------------------

_P = 2**255 - 19
_SMALL_ORDER_Y = [
    0,
    1,
    2707385501144840649318225287225658788936804267575313519463743609750303402022,
    55188659117513257062467267217118295137698188065244968500265048394206261417927,
    _P - 1,
    _P,
    _P + 1,
]


@pytest.mark.parametrize("y", _SMALL_ORDER_Y)
@pytest.mark.parametrize("sign_bit", [0, 1])
def test_small_order_owners_are_refused(y: int, sign_bit: int) -> None:
    owner = (y | (sign_bit << 255)).to_bytes(32, "little")
    identity = (1).to_bytes(32, "little")
    # R = identity, S = 0 satisfies [S]B = R + [k]A for the identity key and any message.
    forged = Signature(SCHEME_ED25519, owner, identity + bytes(32))
    assert not verify(forged, DIGEST)
    with pytest.raises(SignatureError, match="small-order"):
        verify_message(Message(data=b"anything").with_signature(forged))


# -- libsodium (PyNaCl) against OpenSSL (`cryptography`) ------------------------------------------------


def _openssl_verifies(owner: bytes, value: bytes, digest: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(owner).verify(value, digest)
    except (InvalidSignature, ValueError):
        return False
    return True


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_ed25519_signatures_are_openssls_byte_for_byte(seed: bytes, digest: bytes) -> None:
    signer = Ed25519Signer.from_private_bytes(seed)
    openssl = Ed25519PrivateKey.from_private_bytes(seed)
    value = signer.sign(digest)
    assert value == openssl.sign(digest)
    assert verify(Signature(SCHEME_ED25519, signer.owner, value), digest)


@given(st.binary(min_size=32, max_size=32), st.integers(0, 64 * 8 - 1))
def test_ed25519_verify_agrees_with_openssl_on_corrupted_signatures(seed: bytes, bit: int) -> None:
    signer = Ed25519Signer.from_private_bytes(seed)
    good = signer.sign(DIGEST)
    bad = bytearray(good)
    bad[bit // 8] ^= 1 << (bit % 8)
    for value in (good, bytes(bad)):
        assert verify(Signature(SCHEME_ED25519, signer.owner, value), DIGEST) == _openssl_verifies(
            signer.owner, value, DIGEST
        )


def test_ed25519_small_order_r_is_refused() -> None:
    # The key holder can make R the identity point: with S = k·a (k = H(R ‖ A ‖ M)) the equation
    # [S]B = R + [k]A holds, so OpenSSL accepts it; libsodium refuses small-order R. No honest signer
    # produces such a signature (R = [r]B for a secret nonce r).
    seed = b"\x42" * 32
    signer = Ed25519Signer.from_private_bytes(seed)
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    r = (1).to_bytes(32, "little")  # the identity point
    k = int.from_bytes(hashlib.sha512(r + signer.owner + DIGEST).digest(), "little") % L
    value = r + (k * a % L).to_bytes(32, "little")
    assert _openssl_verifies(signer.owner, value, DIGEST)
    assert not verify(Signature(SCHEME_ED25519, signer.owner, value), DIGEST)


def test_ed25519_accepts_other_buffers(ed_signer: Ed25519Signer) -> None:
    # cffi takes only bytes; callers that pass other buffers (as OpenSSL allowed) still work.
    buffers: list[Any] = [bytearray(DIGEST), memoryview(DIGEST)]
    value = ed_signer.sign(DIGEST)
    assert all(ed_signer.sign(b) == value for b in buffers)
    owner: Any = bytearray(ed_signer.owner)
    value_buffer: Any = bytearray(value)
    assert verify(Signature(SCHEME_ED25519, owner, value_buffer), buffers[0])


def test_ed25519_private_bytes_is_the_seed() -> None:
    signer = Ed25519Signer.generate()
    again = Ed25519Signer.from_private_bytes(signer.private_bytes())
    assert again.owner == signer.owner and again.sign(DIGEST) == signer.sign(DIGEST)


def test_non_canonical_s_is_refused(ed_signer: Ed25519Signer) -> None:
    value = ed_signer.sign(DIGEST)
    s = int.from_bytes(value[32:], "little") + L
    malleated = value[:32] + s.to_bytes(32, "little")
    assert not verify(Signature(SCHEME_ED25519, ed_signer.owner, malleated), DIGEST)


# -- message signing and tampering --------------------------------------------------------------------------


def _message() -> Message:
    return Message(
        target=PID,
        anchor="anchor",
        tags=(Tag("Action", "Eval"), Tag("Data-Protocol", "ao"), Tag("Note", "ünïcode")),
        data=b"return 1 + 1",
    )


def _set_tag(m: Message, i: int, name: str | None = None, value: str | None = None) -> Message:
    tags = list(m.tags)
    t = tags[i]
    tags[i] = Tag(t.name if name is None else name, t.value if value is None else value)
    return replace(m, tags=tuple(tags))


def _swap_sig(obj: Any, **change: Any) -> Any:
    return obj.with_signature(replace(obj.signature, **change))


OTHER_ED = Ed25519Signer.from_private_bytes(b"\x43" * 32)

MESSAGE_TAMPERS: dict[str, Callable[[Message], Message]] = {
    "target": lambda m: replace(m, target=OTHER_ID),
    "target-emptied": lambda m: replace(m, target=""),
    "anchor": lambda m: replace(m, anchor="anchoR"),
    "tag0-name": lambda m: _set_tag(m, 0, name="action"),
    "tag0-value": lambda m: _set_tag(m, 0, value="Eval2"),
    "tag1-name": lambda m: _set_tag(m, 1, name="Data-Protocol "),
    "tag1-value": lambda m: _set_tag(m, 1, value="ao "),
    "tag2-name": lambda m: _set_tag(m, 2, name="Notes"),
    "tag2-value": lambda m: _set_tag(m, 2, value="unicode"),
    "tag-order": lambda m: replace(m, tags=(m.tags[1], m.tags[0], m.tags[2])),
    "tag-added": lambda m: replace(m, tags=(*m.tags, Tag("Extra", ""))),
    "tag-removed": lambda m: replace(m, tags=m.tags[:-1]),
    "tag-boundary": lambda m: _set_tag(_set_tag(m, 0, name="Actio"), 0, value="nEval"),
    "data": lambda m: replace(m, data=m.data + b" "),
    "data-emptied": lambda m: replace(m, data=b""),
    "scheme": lambda m: _swap_sig(
        m,
        scheme=SCHEME_RSA_PSS_SHA512
        if m.signature and m.signature.scheme == SCHEME_ED25519
        else SCHEME_ED25519,
    ),
    "owner": lambda m: _swap_sig(m, owner=OTHER_ED.owner),
    "value": lambda m: _swap_sig(
        m, value=bytes([m.signature.value[0] ^ 1]) + m.signature.value[1:] if m.signature else b""
    ),
}


@pytest.mark.parametrize("field", list(MESSAGE_TAMPERS))
def test_tampering_with_any_message_field_breaks_the_signature(signer: Signer, field: str) -> None:
    signed = sign_message(_message(), signer)
    verify_message(signed)
    tampered = MESSAGE_TAMPERS[field](signed)
    assert tampered != signed
    with pytest.raises(SignatureError):
        verify_message(tampered)


def test_owner_swap_to_a_key_that_signs_the_same_content_gives_a_new_id(ed_signer: Ed25519Signer) -> None:
    a = sign_message(_message(), ed_signer)
    b = sign_message(_message(), OTHER_ED)
    verify_message(a)
    verify_message(b)
    assert a.id != b.id and a.content_digest != b.content_digest


def test_verify_message_reasons(ed_signer: Ed25519Signer) -> None:
    with pytest.raises(SignatureError, match="message is unsigned"):
        verify_message(_message())
    with pytest.raises(SignatureError, match="unknown signature scheme 'secp256k1'"):
        verify_message(_message().with_signature(Signature("secp256k1", b"x", b"y")))
    with pytest.raises(SignatureError, match="bad signature"):
        verify_message(_swap_sig(sign_message(_message(), ed_signer), value=bytes(64)))
    with pytest.raises(SignatureError, match="owner must be 32 bytes"):
        verify_message(_message().with_signature(Signature(SCHEME_ED25519, b"x", bytes(64))))


def test_sign_message_replaces_an_existing_signature(ed_signer: Ed25519Signer) -> None:
    first = sign_message(_message(), OTHER_ED)
    second = sign_message(first, ed_signer)
    verify_message(second)
    assert second.owner_address == ed_signer.address
    assert second.signature is not None and second.signature.owner == ed_signer.owner


def test_signed_message_id_is_blake3_of_value(ed_signer: Ed25519Signer) -> None:
    from blake3 import blake3

    m = sign_message(_message(), ed_signer)
    assert m.signature is not None
    assert m.id == blake3(m.signature.value).digest()


# -- assignments --------------------------------------------------------------------------------------------


def _assignment() -> Assignment:
    return Assignment(
        process=bytes(range(32)),
        slot=5,
        message=b"\x05" * 32,
        timestamp=1_700_000_000_000,
        block_height=100,
        block_hash=b"\x06" * 48,
        epoch=2,
        hash_chain=b"\x07" * 32,
    )


def _flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:] if b else b"\x01"


ASSIGNMENT_TAMPERS: dict[str, Callable[[Assignment], Assignment]] = {
    "process": lambda a: replace(a, process=_flip(a.process)),
    "slot": lambda a: replace(a, slot=a.slot + 1),
    "message": lambda a: replace(a, message=_flip(a.message)),
    "timestamp": lambda a: replace(a, timestamp=a.timestamp + 1),
    "block_height": lambda a: replace(a, block_height=a.block_height + 1),
    "block_hash": lambda a: replace(a, block_hash=_flip(a.block_hash)),
    "block_hash-emptied": lambda a: replace(a, block_hash=b""),
    "epoch": lambda a: replace(a, epoch=a.epoch + 1),
    "hash_chain": lambda a: replace(a, hash_chain=_flip(a.hash_chain)),
    "scheme": lambda a: _swap_sig(a, scheme="ed25519ph"),
    "owner": lambda a: _swap_sig(a, owner=OTHER_ED.owner),
    "value": lambda a: _swap_sig(a, value=_flip(a.signature.value if a.signature else b"")),
}


@pytest.mark.parametrize("field", list(ASSIGNMENT_TAMPERS))
def test_tampering_with_any_assignment_field_breaks_the_signature(signer: Signer, field: str) -> None:
    signed = sign_assignment(_assignment(), signer)
    verify_assignment(signed)
    tampered = ASSIGNMENT_TAMPERS[field](signed)
    assert tampered != signed
    with pytest.raises(SignatureError):
        verify_assignment(tampered)


def test_unsigned_assignment_is_refused() -> None:
    with pytest.raises(SignatureError, match="assignment is unsigned"):
        verify_assignment(_assignment())


# -- locations ----------------------------------------------------------------------------------------------

LOCATION_TAMPERS: dict[str, Callable[[Location], Location]] = {
    "address": lambda loc: replace(loc, address=OTHER_ED.address),
    "url": lambda loc: replace(loc, url=loc.url + "/"),
    "nonce": lambda loc: replace(loc, nonce=loc.nonce + 1),
    "ttl_ms": lambda loc: replace(loc, ttl_ms=loc.ttl_ms + 1),
    "timestamp": lambda loc: replace(loc, timestamp=loc.timestamp - 1),
    "scheme": lambda loc: _swap_sig(loc, scheme="x"),
    "owner": lambda loc: _swap_sig(loc, owner=OTHER_ED.owner),
    "value": lambda loc: _swap_sig(loc, value=_flip(loc.signature.value if loc.signature else b"")),
}


def _location(signer: Signer) -> Location:
    return sign_location(Location("", "https://su.example:7400", 3, 60_000, 1_700_000_000_000), signer)


@pytest.mark.parametrize("field", list(LOCATION_TAMPERS))
def test_tampering_with_any_location_field_breaks_the_signature(signer: Signer, field: str) -> None:
    signed = _location(signer)
    assert signed.address == signer.address
    verify_location(signed)
    tampered = LOCATION_TAMPERS[field](signed)
    with pytest.raises(SignatureError):
        verify_location(tampered)


def test_location_must_name_its_signer(ed_signer: Ed25519Signer) -> None:
    with pytest.raises(SignatureError, match="not the signer's address"):
        sign_location(Location(OTHER_ED.address, "https://x", 1, 1, 1), ed_signer)
    # A record signed by one key but naming another key's address never verifies.
    loc = Location(OTHER_ED.address, "https://x", 1, 1, 1)
    pending = loc.with_signature(Signature(ed_signer.scheme, ed_signer.owner, b""))
    forged = loc.with_signature(
        Signature(ed_signer.scheme, ed_signer.owner, ed_signer.sign(pending.content_digest))
    )
    with pytest.raises(SignatureError, match="not the signer's address"):
        verify_location(forged)
    with pytest.raises(SignatureError, match="location is unsigned"):
        verify_location(loc)


# -- RSA JWK ------------------------------------------------------------------------------------------------


def test_rsa_jwk_round_trip(rsa_signer: RsaPssSigner) -> None:
    jwk = rsa_signer.to_jwk()
    assert set(jwk) == {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"}
    assert jwk["e"] == "AQAB" and jwk["n"] == b64url_encode(rsa_signer.owner)
    assert RsaPssSigner.from_jwk(jwk).owner == rsa_signer.owner


def test_rsa_jwk_with_only_n_e_d_recovers_the_primes(rsa_signer: RsaPssSigner) -> None:
    jwk = rsa_signer.to_jwk()
    minimal = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"], "d": jwk["d"]}
    again = RsaPssSigner.from_jwk(minimal)
    assert again.owner == rsa_signer.owner
    assert verify(Signature(again.scheme, again.owner, again.sign(DIGEST)), DIGEST)


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"kty": "EC"}, "not an RSA JWK"),
        ({"e": "Aw"}, "exponent must be 65537"),
        ({"n": None}, "'n' missing"),
        ({"d": "!!"}, "'d' is not base64url"),
        ({"q": "AQAB"}, "inconsistent"),
    ],
)
def test_rsa_jwk_errors(rsa_signer: RsaPssSigner, change: dict[str, Any], text: str) -> None:
    jwk: dict[str, Any] = {**rsa_signer.to_jwk(), **change}
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(InvalidKeyError, match=text):
        RsaPssSigner.from_jwk(jwk)


def test_ed25519_seed_length() -> None:
    with pytest.raises(InvalidKeyError):
        Ed25519Signer.from_private_bytes(b"short")
