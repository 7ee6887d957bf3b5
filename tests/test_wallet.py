"""Wallet files: create/load for both kinds, file mode, no overwrite, clear errors for bad files.

One RSA-4096 key is generated per session (the `rsa_wallet` fixture); other RSA cases load the key kept in
tests/vectors/ids.json."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aonode.crypto import Ed25519Signer, RsaPssSigner, Signer, sign_message, verify_message
from aonode.errors import InvalidArgument
from aonode.model import Message
from aonode.wallet import (
    WalletError,
    create_wallet,
    load_or_create_wallet,
    load_wallet,
    signer_from_jwk,
    signer_to_jwk,
)

VECTORS = Path(__file__).parent / "vectors" / "ids.json"


@pytest.fixture(scope="session")
def rsa_wallet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer]:
    path = tmp_path_factory.mktemp("rsa") / "wallet.json"
    return path, create_wallet(path, "rsa")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ed25519_create_and_load(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wallet.json"
    signer = create_wallet(path)
    assert isinstance(signer, Ed25519Signer)
    assert _mode(path) == 0o600
    jwk = json.loads(path.read_text())
    assert set(jwk) == {"kty", "crv", "x", "d"} and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    loaded = load_wallet(path)
    assert loaded.owner == signer.owner and loaded.address == signer.address
    verify_message(sign_message(Message(data=b"x"), loaded))
    assert os.listdir(path.parent) == ["wallet.json"]  # no temp file left behind


def test_rsa_create_and_load(rsa_wallet: tuple[Path, Signer]) -> None:
    path, signer = rsa_wallet
    assert isinstance(signer, RsaPssSigner)
    assert len(signer.owner) == 512
    assert _mode(path) == 0o600
    jwk = json.loads(path.read_text())
    assert set(jwk) == {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"} and jwk["e"] == "AQAB"
    loaded = load_wallet(path)
    assert loaded.owner == signer.owner and loaded.address == signer.address
    verify_message(sign_message(Message(data=b"x"), loaded))


def test_arweave_wallet_file_loads_with_its_address(tmp_path: Path) -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    path = tmp_path / "arweave-keyfile.json"
    path.write_text(json.dumps(vectors["keys"]["rsa"]["jwk"]))
    path.chmod(0o644)  # as downloaded: loading does not insist on 0600
    signer = load_wallet(path)
    assert signer.address == vectors["keys"]["rsa"]["address"]
    assert signer_to_jwk(signer) == vectors["keys"]["rsa"]["jwk"]


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    create_wallet(path)
    before = path.read_bytes()
    with pytest.raises(WalletError, match="already exists"):
        create_wallet(path)
    with pytest.raises(WalletError, match="already exists"):
        create_wallet(path, "rsa")
    assert path.read_bytes() == before


def test_refuses_to_overwrite_any_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("precious")
    with pytest.raises(WalletError, match="already exists"):
        create_wallet(path)
    assert path.read_text() == "precious"


def test_load_or_create(tmp_path: Path) -> None:
    path = tmp_path / "node" / "wallet.json"
    first = load_or_create_wallet(path)
    second = load_or_create_wallet(path)
    assert first.owner == second.owner


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="unknown wallet kind"):
        create_wallet(tmp_path / "w.json", "secp256k1")
    assert not (tmp_path / "w.json").exists()


def test_kind_aliases(tmp_path: Path) -> None:
    assert isinstance(create_wallet(tmp_path / "a.json", "ED25519"), Ed25519Signer)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="no such file") as info:
        load_wallet(tmp_path / "nope.json")
    assert "nope.json" in str(info.value)
    assert isinstance(info.value, InvalidArgument)


def _ed_jwk() -> dict[str, str]:
    return signer_to_jwk(Ed25519Signer.from_private_bytes(b"\x01" * 32))


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JWK"),
        (b'"string"', "not a JWK"),
        (b'{"kty": "EC", "crv": "P-256"}', "unsupported key type"),
        (b"{}", "unsupported key type"),
        (b'{"kty": "OKP", "crv": "X25519", "x": "", "d": ""}', "unsupported OKP curve"),
        (json.dumps({**_ed_jwk(), "d": "AAAA"}).encode(), "32 bytes"),
        (json.dumps({**_ed_jwk(), "d": "!!!"}).encode(), "'d' is not base64url"),
        (json.dumps({**_ed_jwk(), "x": "A" * 43}).encode(), "does not match"),
        (json.dumps({k: v for k, v in _ed_jwk().items() if k != "d"}).encode(), "'d' missing"),
        (json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB"}).encode(), "'d' missing"),
        (b"{" + b" " * (70 * 1024) + b"}", "larger than"),
    ],
)
def test_garbled_files(tmp_path: Path, content: bytes, text: str) -> None:
    path = tmp_path / "wallet.json"
    path.write_bytes(content)
    with pytest.raises(WalletError, match=text) as info:
        load_wallet(path)
    assert str(path) in str(info.value)


def test_garbled_rsa_file(tmp_path: Path) -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    jwk = dict(vectors["keys"]["rsa"]["jwk"])
    jwk["d"] = jwk["p"]
    path = tmp_path / "wallet.json"
    path.write_text(json.dumps(jwk))
    with pytest.raises(WalletError, match="inconsistent"):
        load_wallet(path)


def test_load_or_create_does_not_replace_a_garbled_wallet(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    path.write_text("garbage")
    with pytest.raises(WalletError, match="not JSON"):
        load_or_create_wallet(path)
    assert path.read_text() == "garbage"


def test_signer_jwk_round_trip() -> None:
    signer = Ed25519Signer.from_private_bytes(b"\x02" * 32)
    assert signer_from_jwk(signer_to_jwk(signer)).owner == signer.owner


def test_signer_to_jwk_refuses_unknown_signers() -> None:
    class Other:
        scheme = "x"
        owner = b""
        address = "a"

        def sign(self, digest: bytes) -> bytes:
            return b""

    with pytest.raises(WalletError):
        signer_to_jwk(Other())  # type: ignore[arg-type]
