"""Ethereum keys for ANS-104 signature type 3 (secp256k1), as npm arbundles' EthereumSigner signs with
ethers' `Wallet.signMessage`: an ECDSA signature over keccak-256("\\x19Ethereum Signed Message:\\n" ‖ len ‖
message), where the message is the item's 48-byte deep hash.

- owner: the 65-byte uncompressed public key (`04 ‖ X ‖ Y`);
- signature: 65 bytes `r ‖ s ‖ v` with `v` 27 or 28 (ethers' form).

arbundles verifies with `r ‖ s` only and ignores `v`, so anyone could turn one signature into others (flip
`v`, or replace `s` by `n - s`) and so give one content several IDs. Here a signature must be the single
canonical one: `s` in the lower half of the group order (what libsecp256k1 and ethers produce) and `v` the
recovery ID of the owner, checked by recovering the public key from the signature and comparing it with
the owner (which also proves the signature valid). The signer's address is Ethereum's, EIP-55
checksummed: `0x` + the last 20 bytes of keccak-256(X ‖ Y), as AO shows Ethereum signers.

libsecp256k1 through `coincurve` does the recovery and signing; keccak-256 (Ethereum's, not NIST SHA3-256)
comes from `pycryptodome`: neither hashlib nor `cryptography` has it.
"""

from __future__ import annotations

import coincurve
from Crypto.Hash import keccak

from aonode.ids import Address

OWNER_LEN = 65
SIGNATURE_LEN = 65
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def message_hash(message: bytes) -> bytes:
    """What an Ethereum personal signature signs (EIP-191 version 0x45)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def address(owner: bytes) -> Address:
    """The EIP-55 checksummed address of an uncompressed public key."""
    raw = keccak256(owner[1:])[-20:].hex()
    check = keccak256(raw.encode()).hex()
    return Address(
        "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(raw, check[:40], strict=True))
    )


def problem(owner: bytes, value: bytes, message: bytes) -> str | None:
    """Why `value` is not the canonical signature of `message` by `owner`, or None."""
    if len(owner) != OWNER_LEN or owner[0] != 4:
        return "ethereum owner must be a 65-byte uncompressed secp256k1 public key"
    if len(value) != SIGNATURE_LEN:
        return f"ethereum signature must be {SIGNATURE_LEN} bytes, got {len(value)}"
    r = int.from_bytes(value[:32], "big")
    s = int.from_bytes(value[32:64], "big")
    v = value[64]
    if not (0 < r < _N and 0 < s <= _N // 2):
        return "ethereum signature is not canonical (r or s out of range, or s in the upper half)"
    if v not in (27, 28):
        return f"ethereum signature recovery byte must be 27 or 28, got {v}"
    try:
        recovered = coincurve.PublicKey.from_signature_and_message(
            bytes(value[:64]) + bytes([v - 27]), message_hash(message), hasher=None
        )
    except Exception:  # libsecp256k1 found no key: the signature is garbage
        return "bad signature"
    if recovered.format(compressed=False) != owner:
        return "bad signature"
    return None


class EthereumSigner:
    """A secp256k1 key that signs ANS-104 items as type 3 (tests; AO users sign with their wallets)."""

    def __init__(self, secret: bytes) -> None:
        self._key = coincurve.PrivateKey(secret)
        self.owner: bytes = self._key.public_key.format(compressed=False)
        self.address: Address = address(self.owner)

    @classmethod
    def generate(cls) -> EthereumSigner:
        return cls(coincurve.PrivateKey().secret)

    def sign_raw(self, message: bytes) -> bytes:
        """`r ‖ s ‖ v` over `message_hash(message)`, low-s, v = 27 + recovery ID (as ethers signs)."""
        sig = self._key.sign_recoverable(message_hash(message), hasher=None)
        return sig[:64] + bytes([27 + sig[64]])

    def __repr__(self) -> str:
        return f"EthereumSigner(address={self.address!r})"
