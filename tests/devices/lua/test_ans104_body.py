"""lua@5.3a sees an ANS-104 item as AO does: its ID is ANS-104's, its commitment names the signer, the
ans104@1.0 device and the signature type's alg (rsa-pss-sha256 for Arweave keys, ed25519, secp256k1 with the
signer's 0x address for Ethereum keys)."""

from __future__ import annotations

import pytest

from aonode import ans104, ethereum
from aonode.crypto import Ed25519Signer, RsaPssSigner
from aonode.ids import encode_id
from tests.devices.lua.helpers import RUNNER, LuaProc
from tests.devices.lua.test_abi import COMMITMENTS

ED = Ed25519Signer.from_private_bytes(b"f" * 32)
ETH = ethereum.EthereumSigner(b"\x05" * 32)


@pytest.fixture(scope="module")
def rsa() -> RsaPssSigner:
    return RsaPssSigner.generate(4096)


@pytest.mark.parametrize("kind", ["ed25519", "rsa-pss-sha256", "secp256k1"])
def test_item_commitment(kind: str, rsa: RsaPssSigner) -> None:
    signers: dict[str, ans104.ItemSigner] = {"ed25519": ED, "rsa-pss-sha256": rsa, "secp256k1": ETH}
    signer = signers[kind]
    item = ans104.build(
        signer, tags=[("Action", "X"), ("Content-Type", "text/plain")], data=COMMITMENTS.encode()
    )
    r = LuaProc(RUNNER).send(item)
    assert not r.error, r.error
    commitment, tags = r.output.data.split("#")
    assert commitment == f"{encode_id(item.id)}|{signer.address}|{kind}|ans104@1.0"
    assert tags == "Action=X,Content-Type=text/plain"
