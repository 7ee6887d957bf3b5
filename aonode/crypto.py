"""Signing and verifying messages, assignments and locations.

What is signed is always the 32-byte content digest (`aonode.model`: blake3 of the canonical encoding
without the signature value, which includes the scheme and owner, so neither can be swapped). Two schemes:

- `ed25519`: RFC 8032 Ed25519 over the digest. Owner = the 32-byte public key. Deterministic.
  Owners that are small-order or non-canonically encoded points are refused: OpenSSL accepts a
  small-order key with the all-identity signature for *any* message, which would let one signature value
  (and so one message ID) stand for many contents. Signatures with S ≥ L are refused (malleability).
- `rsa-pss-sha512`: RSA-PSS with SHA-512, MGF1-SHA-512, salt length 64 when signing (the digest is the
  PSS message, so it is hashed once more with SHA-512). Owner = the modulus n, big-endian, no leading zero
  byte; e is always 65537, as in Arweave JWK wallets. Moduli of 2048–4096 bits are accepted (Arweave
  wallets are 4096). Verification accepts any salt length (PSS.AUTO), so signatures made by other
  RSA-PSS-SHA512 implementations with a different salt length (e.g. the maximum, or 32) verify too; this
  does not weaken PSS. The signature must be exactly as long as the modulus.

Ed25519 signing and verification go through libsodium (PyNaCl): verify ~55-75 µs and sign ~19-22 µs here,
against ~105-140 µs and ~31-40 µs with OpenSSL via `cryptography` (which is kept for RSA-PSS and for
generating Ed25519 keys). Both libraries release the GIL for the duration of the call. libsodium's
`crypto_sign_open` itself refuses small-order and non-canonical owners and S ≥ L; the explicit checks here
stay (they cost well under a microsecond and give the reason). libsodium also refuses a signature whose R is
a small-order point, which no honest signer produces. Ed25519 is deterministic, so the signature bytes
are the same with either library.

`verify` answers a bool and never raises, whatever the input; the `verify_*` helpers raise
`SignatureError` with the reason. An RSA public key built afresh from an owner makes its verification
~15-35 µs slower than one with a key already used (building it, then OpenSSL's per-key Montgomery set-up
on first use), so keys are kept in a bounded LRU cache keyed by the owner bytes.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import CryptoError

from aonode.codec import adopt_signed
from aonode.errors import InvalidArgument
from aonode.ids import ID_LEN, Address, b64url_decode, b64url_encode
from aonode.ids import address_of as address_of
from aonode.model import (
    SCHEME_ED25519,
    SCHEME_RSA_PSS_SHA512,
    Assignment,
    Location,
    Message,
    Signature,
)

RSA_PUBLIC_EXPONENT = 65537
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 4096
RSA_SALT_LENGTH = 64
ED25519_OWNER_LEN = 32
ED25519_SIGNATURE_LEN = 64
RSA_KEY_CACHE_SIZE = 1024

_ED25519_L = 2**252 + 27742317777372353535851937790883648493
_ED25519_P = 2**255 - 19
# y-coordinates (sign bit cleared) of the points of order 1, 2, 4 and 8, including the non-canonical
# encodings p and p+1 of 0 and 1: libsodium's small-order blocklist.
_ED25519_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
        _ED25519_P - 1,
        _ED25519_P,
        _ED25519_P + 1,
    }
)
_SIGN_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=RSA_SALT_LENGTH)
_VERIFY_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)
_SHA512 = hashes.SHA512()


class SignatureError(InvalidArgument):
    """A missing, malformed or non-verifying signature."""


class InvalidKeyError(InvalidArgument):
    """Key material that cannot be used (wrong size, wrong exponent, inconsistent JWK fields)."""


class Signer(Protocol):
    """Something that signs content digests under one key."""

    @property
    def scheme(self) -> str: ...

    @property
    def owner(self) -> bytes: ...

    @property
    def address(self) -> Address: ...

    def sign(self, digest: bytes) -> bytes: ...


def _check_digest(digest: bytes) -> None:
    # Signing anything but a 32-byte digest is a caller bug (e.g. passing the encoding itself).
    if len(digest) != ID_LEN:
        raise ValueError(f"expected a {ID_LEN}-byte content digest, got {len(digest)} bytes")


class Ed25519Signer:
    """An Ed25519 key. The node's default: fast, and deterministic signatures. Signs with libsodium."""

    scheme = SCHEME_ED25519

    def __init__(self, key: Ed25519PrivateKey) -> None:
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        owner, secret = crypto_sign_seed_keypair(seed)
        if owner != key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw):
            # RFC 8032 fixes the public key of a seed: only a broken library build could get here.
            raise InvalidKeyError("libsodium and OpenSSL derive different Ed25519 public keys")
        self._seed = seed
        self._secret = secret  # libsodium's secret key: seed ‖ public key
        self.owner: bytes = owner
        self.address: Address = address_of(owner)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, seed: bytes) -> Ed25519Signer:
        """From the 32-byte private seed (RFC 8032's private key)."""
        if len(seed) != 32:
            raise InvalidKeyError(f"an Ed25519 private key is 32 bytes, got {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def private_bytes(self) -> bytes:
        return self._seed

    def sign_raw(self, message: bytes) -> bytes:
        """An Ed25519 signature of `message` as it is (ANS-104 items sign their 48-byte deep hash)."""
        signed: bytes = crypto_sign(bytes(message), self._secret)
        return signed[:ED25519_SIGNATURE_LEN]

    def sign(self, digest: bytes) -> bytes:
        _check_digest(digest)
        # crypto_sign returns signature ‖ message; cffi takes only bytes, not other buffers.
        signed: bytes = crypto_sign(digest if type(digest) is bytes else bytes(digest), self._secret)
        return signed[:ED25519_SIGNATURE_LEN]

    def __repr__(self) -> str:
        return f"Ed25519Signer(address={self.address!r})"


class RsaPssSigner:
    """An RSA key used with RSA-PSS-SHA512, as an Arweave JWK wallet holds it."""

    scheme = SCHEME_RSA_PSS_SHA512

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        numbers = key.private_numbers().public_numbers
        if numbers.e != RSA_PUBLIC_EXPONENT:
            raise InvalidKeyError(f"RSA public exponent must be {RSA_PUBLIC_EXPONENT}, got {numbers.e}")
        if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            raise InvalidKeyError(f"RSA key must be {RSA_MIN_BITS}-{RSA_MAX_BITS} bits, got {key.key_size}")
        self._key = key
        self.owner: bytes = _int_to_bytes(numbers.n)
        self.address: Address = address_of(self.owner)

    @classmethod
    def generate(cls, bits: int = 4096) -> RsaPssSigner:
        return cls(rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=bits))

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> RsaPssSigner:
        """From an Arweave-style JWK (`kty` RSA; `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi` base64url).
        `p`, `q` and the CRT values are recovered when only `n`, `e`, `d` are given. The key is checked
        for consistency (OpenSSL's RSA key check), so a garbled wallet fails here, not at first use."""
        if jwk.get("kty") != "RSA":
            raise InvalidKeyError(f"not an RSA JWK (kty={jwk.get('kty')!r})")
        n, e, d = (_jwk_int(jwk, name) for name in ("n", "e", "d"))
        if e != RSA_PUBLIC_EXPONENT:
            # Signatures carry only n as the owner; verifiers assume e = 65537.
            raise InvalidKeyError(f"RSA public exponent must be {RSA_PUBLIC_EXPONENT}, got {e}")
        if all(name in jwk for name in ("p", "q", "dp", "dq", "qi")):
            p, q, dp, dq, qi = (_jwk_int(jwk, name) for name in ("p", "q", "dp", "dq", "qi"))
        else:
            try:
                p, q = rsa.rsa_recover_prime_factors(n, e, d)
            except ValueError as exc:
                raise InvalidKeyError(f"RSA JWK: cannot recover p and q from n, e, d: {exc}") from None
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        try:
            key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()
        except ValueError as exc:
            raise InvalidKeyError(f"RSA JWK: inconsistent key ({exc})") from None
        return cls(key)

    def to_jwk(self) -> dict[str, str]:
        priv = self._key.private_numbers()
        pub = priv.public_numbers
        fields = {
            "n": pub.n,
            "e": pub.e,
            "d": priv.d,
            "p": priv.p,
            "q": priv.q,
            "dp": priv.dmp1,
            "dq": priv.dmq1,
            "qi": priv.iqmp,
        }
        return {"kty": "RSA", **{k: b64url_encode(_int_to_bytes(v)) for k, v in fields.items()}}

    def sign(self, digest: bytes) -> bytes:
        _check_digest(digest)
        return self._key.sign(digest, _SIGN_PADDING, _SHA512)

    def sign_raw(self, message: bytes, pss: padding.PSS, algorithm: hashes.HashAlgorithm) -> bytes:
        """An RSA-PSS signature of `message` with other parameters (ANS-104: SHA-256 over the deep hash)."""
        return self._key.sign(message, pss, algorithm)

    def __repr__(self) -> str:
        return f"RsaPssSigner(bits={self._key.key_size}, address={self.address!r})"


def _int_to_bytes(v: int) -> bytes:
    return v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")


def _jwk_int(jwk: dict[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidKeyError(f"RSA JWK: field {name!r} missing or not a string")
    try:
        return int.from_bytes(b64url_decode(value), "big")
    except InvalidArgument:
        raise InvalidKeyError(f"RSA JWK: field {name!r} is not base64url") from None


# -- verification -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=RSA_KEY_CACHE_SIZE)
def _rsa_public_key(owner: bytes) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(RSA_PUBLIC_EXPONENT, int.from_bytes(owner, "big")).public_key()


def rsa_public_key(owner: bytes) -> rsa.RSAPublicKey:
    """The public key of modulus `owner` (e = 65537), from a bounded cache. ValueError if unusable."""
    return _rsa_public_key(owner)


def _ed25519_owner_ok(owner: bytes) -> bool:
    y = int.from_bytes(owner, "little") & ((1 << 255) - 1)
    return y < _ED25519_P and y not in _ED25519_SMALL_ORDER_Y


def ed25519_key_problem(owner: bytes, value: bytes) -> str | None:
    """Why an Ed25519 owner and signature value cannot verify anything (sizes, small-order or
    non-canonical owner, S >= L), or None: the checks made before the signature itself."""
    if len(owner) != ED25519_OWNER_LEN:
        return f"ed25519 owner must be {ED25519_OWNER_LEN} bytes, got {len(owner)}"
    if len(value) != ED25519_SIGNATURE_LEN:
        return f"ed25519 signature must be {ED25519_SIGNATURE_LEN} bytes, got {len(value)}"
    if not _ed25519_owner_ok(owner):
        return "ed25519 owner is a small-order or non-canonical point"
    if int.from_bytes(value[32:], "little") >= _ED25519_L:
        return "ed25519 signature is not canonical (S >= L)"
    return None


def _problem(sig: Signature, digest: bytes) -> str | None:
    """Why `sig` does not verify `digest`, or None when it does."""
    if len(digest) != ID_LEN:
        return f"digest must be {ID_LEN} bytes, got {len(digest)}"
    owner, value = sig.owner, sig.value
    if sig.scheme == SCHEME_ED25519:
        problem = ed25519_key_problem(owner, value)
        if problem is not None:
            return problem
        # The lengths are checked above: libsodium reads exactly 32 bytes of owner (cffi takes only bytes).
        try:
            crypto_sign_open(bytes(value) + bytes(digest), owner if type(owner) is bytes else bytes(owner))
        except CryptoError:
            return "bad signature"
        return None
    if sig.scheme == SCHEME_RSA_PSS_SHA512:
        if not RSA_MIN_BITS // 8 <= len(owner) <= RSA_MAX_BITS // 8:
            return f"rsa owner must be a {RSA_MIN_BITS}-{RSA_MAX_BITS}-bit modulus, got {len(owner)} bytes"
        if owner[0] == 0 or owner[-1] & 1 == 0:
            return "rsa owner is not a canonical odd modulus (leading zero byte or even)"
        # 256 bytes may still hold a 2041-bit number: the bound is on bits, as in the Go and TS clients.
        bits = (len(owner) - 1) * 8 + owner[0].bit_length()
        if bits < RSA_MIN_BITS:
            return f"rsa owner must be a {RSA_MIN_BITS}-{RSA_MAX_BITS}-bit modulus, got {bits} bits"
        if len(value) != len(owner):
            return f"rsa signature must be as long as the modulus ({len(owner)} bytes), got {len(value)}"
        try:
            key = _rsa_public_key(owner)
        except ValueError:
            return "rsa owner is not a usable modulus"
        try:
            key.verify(value, digest, _VERIFY_PADDING, _SHA512)
        except (InvalidSignature, ValueError):
            return "bad signature"
        return None
    return f"unknown signature scheme {sig.scheme[:64]!r}"


def verify(sig: Signature, digest: bytes) -> bool:
    """True when `sig` is a valid signature of `digest` by `sig.owner`. Never raises."""
    try:
        return _problem(sig, digest) is None
    except Exception:
        # Garbage of the wrong types must not crash a caller that asked a yes/no question.
        return False


def _check(kind: str, sig: Signature | None, digest: bytes) -> None:
    if sig is None:
        raise SignatureError(f"{kind} is unsigned")
    try:
        problem = _problem(sig, digest)
    except Exception as exc:
        problem = f"malformed signature ({type(exc).__name__})"
    if problem is not None:
        raise SignatureError(f"{kind} signature: {problem}")


_Signable = TypeVar("_Signable", Message, Assignment, Location)


def _sign(obj: _Signable, signer: Signer) -> _Signable:
    # The content (and so its digest and encoding) covers scheme and owner but not the value: compute it
    # once, for the pending object, and hand it to the signed one (`codec.adopt_signed`).
    pending = obj.with_signature(Signature(signer.scheme, signer.owner, b""))
    signed = obj.with_signature(Signature(signer.scheme, signer.owner, signer.sign(pending.content_digest)))
    adopt_signed(pending, signed)
    return signed


def sign_message(m: Message, signer: Signer) -> Message:
    """`m` signed by `signer` (any existing signature is replaced)."""
    return _sign(m, signer)


def verify_message(m: Message) -> None:
    """Raise `SignatureError` unless `m` carries a valid signature (an ANS-104 item by its own rules)."""
    if type(m) is not Message and isinstance(m, _ans104.Ans104Message):
        _ans104.verify(m)
        return
    _check("message", m.signature, m.content_digest)


def sign_assignment(a: Assignment, signer: Signer) -> Assignment:
    return _sign(a, signer)


def verify_assignment(a: Assignment) -> None:
    _check("assignment", a.signature, a.content_digest)


def sign_location(loc: Location, signer: Signer) -> Location:
    """`loc` signed by `signer`. An empty address is filled in with the signer's; any other address must
    be the signer's, since a location speaks for the key that signs it."""
    if not loc.address:
        loc = replace(loc, address=signer.address)
    elif loc.address != signer.address:
        raise SignatureError(f"location address {loc.address} is not the signer's address {signer.address}")
    return _sign(loc, signer)


def verify_location(loc: Location) -> None:
    """Raise `SignatureError` unless `loc` is validly signed by the key whose address it names."""
    _check("location", loc.signature, loc.content_digest)
    assert loc.signature is not None
    signer_address = address_of(loc.signature.owner)
    if signer_address != loc.address:
        raise SignatureError(
            f"location address {loc.address[:64]!r} is not the signer's address {signer_address}"
        )


# ANS-104 items verify by their own rules (`verify_message`); that module builds on this one, so it is
# imported last, when this module is complete.
from aonode import ans104 as _ans104  # noqa: E402
