"""`aonode wallet new|show`: create or inspect a signing key (a JWK file)."""

from __future__ import annotations

from pathlib import Path

import click

from aonode.cli.common import DEFAULT_WALLET, emit, expand, json_option, report_errors, wallet_option
from aonode.crypto import Signer
from aonode.ids import b64url_encode
from aonode.wallet import create_wallet, load_wallet


def _describe(signer: Signer, path: Path) -> dict[str, str]:
    return {
        "address": str(signer.address),
        "scheme": signer.scheme,
        "owner": b64url_encode(signer.owner),
        "path": str(path),
    }


@click.group()
def wallet() -> None:
    """Create or show a wallet (the key that signs messages)."""


@wallet.command("new")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["ed25519", "rsa"]),
    default="ed25519",
    show_default=True,
    help="Key type: ed25519 (fast) or rsa (RSA-4096, Arweave-compatible JWK).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="AONODE_WALLET",
    default=DEFAULT_WALLET,
    show_default=True,
    help="Where to write the wallet; an existing file is never overwritten.",
)
@json_option
@report_errors
def new(kind: str, out: Path, as_json: bool) -> None:
    """Create a new wallet file and print its address."""
    path = expand(out)
    signer = create_wallet(path, kind)
    emit(_describe(signer, path), as_json, lambda: f"{signer.address}\n(wallet written to {path})")


@wallet.command("show")
@wallet_option
@json_option
@report_errors
def show(wallet_path: Path, as_json: bool) -> None:
    """Print a wallet's address and key type."""
    path = expand(wallet_path)
    signer = load_wallet(path)
    emit(_describe(signer, path), as_json, lambda: f"{signer.address} ({signer.scheme}, {path})")
