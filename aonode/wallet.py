"""Wallet files: signing keys stored as JSON Web Keys.

Two formats, told apart by `kty`:
- Ed25519 (RFC 8037): `{"kty": "OKP", "crv": "Ed25519", "x": <public key>, "d": <32-byte seed>}`;
- RSA, as Arweave wallets are: `{"kty": "RSA", "n", "e", "d", "p", "q", "dp", "dq", "qi"}`, so an
  existing Arweave wallet file loads as is and signs with RSA-PSS-SHA512 under its Arweave address.
All binary fields are unpadded base64url. Loading checks that the fields agree (Ed25519: `x` matches
`d`; RSA: OpenSSL's key check), so a garbled file fails at load, not at the first signature.

A new wallet is written so that it is either wholly there or not at all, and never replaces a key:
write a temp file (mode 0600) in the target directory, fsync it, hard-link it to the final name (link
fails if the name exists, where rename would silently replace), remove the temp name, fsync the
directory. Existing files are loaded whatever their mode (Arweave wallets are often 0644).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from aonode.crypto import Ed25519Signer, InvalidKeyError, RsaPssSigner, Signer
from aonode.errors import InvalidArgument
from aonode.ids import b64url_decode, b64url_encode

KIND_ED25519 = "ed25519"
KIND_RSA = "rsa"
# The scheme names are accepted as kinds too, so a caller can pass either.
_KINDS = {"ed25519": KIND_ED25519, "rsa": KIND_RSA, "rsa-pss-sha512": KIND_RSA}
MAX_WALLET_BYTES = 64 * 1024


class WalletError(InvalidArgument):
    """A wallet file that is missing, unreadable, garbled or of an unknown kind."""


def signer_to_jwk(signer: Signer) -> dict[str, str]:
    """The JWK holding `signer`'s private key."""
    if isinstance(signer, Ed25519Signer):
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(signer.owner),
            "d": b64url_encode(signer.private_bytes()),
        }
    if isinstance(signer, RsaPssSigner):
        return signer.to_jwk()
    raise WalletError(f"cannot store a {type(signer).__name__} in a wallet file")


def signer_from_jwk(jwk: Any) -> Signer:
    """The signer a JWK holds; raises `WalletError` saying what is wrong."""
    if not isinstance(jwk, dict):
        raise WalletError("not a JWK (expected a JSON object)")
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            return RsaPssSigner.from_jwk(jwk)
        if kty == "OKP":
            return _ed25519_from_jwk(jwk)
    except InvalidKeyError as exc:
        raise WalletError(str(exc)) from None
    raise WalletError(f"unsupported key type kty={kty!r} (expected 'OKP' with crv 'Ed25519', or 'RSA')")


def _ed25519_from_jwk(jwk: dict[str, Any]) -> Ed25519Signer:
    if jwk.get("crv") != "Ed25519":
        raise WalletError(f"unsupported OKP curve {jwk.get('crv')!r} (expected 'Ed25519')")
    fields: dict[str, bytes] = {}
    for name in ("d", "x"):
        value = jwk.get(name)
        if not isinstance(value, str):
            raise WalletError(f"Ed25519 JWK: field {name!r} missing or not a string")
        try:
            fields[name] = b64url_decode(value)
        except InvalidArgument:
            raise WalletError(f"Ed25519 JWK: field {name!r} is not base64url") from None
    signer = Ed25519Signer.from_private_bytes(fields["d"])
    if signer.owner != fields["x"]:
        raise WalletError("Ed25519 JWK: public key 'x' does not match private key 'd'")
    return signer


def load_wallet(path: str | os.PathLike[str]) -> Signer:
    """The signer stored at `path`."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_WALLET_BYTES + 1)
    except FileNotFoundError:
        raise WalletError(f"wallet {p}: no such file") from None
    except OSError as exc:
        raise WalletError(f"wallet {p}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_WALLET_BYTES:
        raise WalletError(f"wallet {p}: larger than {MAX_WALLET_BYTES} bytes, not a key file")
    try:
        jwk = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WalletError(f"wallet {p}: not JSON ({exc})") from None
    try:
        return signer_from_jwk(jwk)
    except WalletError as exc:
        raise WalletError(f"wallet {p}: {exc}") from None


def create_wallet(path: str | os.PathLike[str], kind: str = KIND_ED25519) -> Signer:
    """Generate a key of `kind` ("ed25519" or "rsa"), store it at `path` (mode 0600; parent directories
    created) and return it. Refuses to replace an existing file."""
    normalized = _KINDS.get(kind.lower())
    if normalized is None:
        raise WalletError(f"unknown wallet kind {kind!r} (expected 'ed25519' or 'rsa')")
    p = Path(path)
    if p.exists():
        raise WalletError(f"wallet {p}: already exists; refusing to overwrite it")
    signer: Signer = Ed25519Signer.generate() if normalized == KIND_ED25519 else RsaPssSigner.generate()
    body = (json.dumps(signer_to_jwk(signer)) + "\n").encode()
    try:
        _write_new_file(p, body)
    except FileExistsError:
        raise WalletError(f"wallet {p}: already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise WalletError(f"wallet {p}: cannot write ({exc.strerror or exc})") from None
    return signer


def load_or_create_wallet(path: str | os.PathLike[str], kind: str = KIND_ED25519) -> Signer:
    """The wallet at `path`, created first if there is none (the node's own key on first start)."""
    p = Path(path)
    if not p.exists():
        try:
            return create_wallet(p, kind)
        except WalletError:
            # Lost a race with another creator: fall through and load theirs (or report why not).
            if not p.exists():
                raise
    return load_wallet(p)


def _write_new_file(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # os.open filtered the mode through the umask; make it exactly 0600
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:
            # Filesystems without hard links: rename, after the best no-overwrite check we can make.
            if path.exists():
                raise FileExistsError(str(path)) from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
