"""`aonode relay`: the nodes whose relayed messages (carrying `From-Process` from their pushes, or
`Cron-From` from their cron ticks) this node schedules (docs/network.md, docs/security.md).

`trust ADDRESS` and `untrust ADDRESS` are operator actions signed with `--wallet` (the node's own wallet
or an address in `[network] operators`); relays from the configuration (`trusted_relays`) are listed too,
and changed only there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aonode.cli.common import IdCommand, emit, expand, json_option, node_option, report_errors, wallet_option
from aonode.client import NodeClient
from aonode.v1 import network_pb2 as pb
from aonode.wallet import load_wallet


def relay_json(r: pb.TrustedRelay) -> dict[str, Any]:
    return {"address": r.address, "origin": r.origin, "added_ms": r.added_ms}


@click.group()
def relay() -> None:
    """Trusted relays: nodes allowed to deliver messages carrying From-Process or Cron-From here."""


@relay.command(cls=IdCommand)
@click.argument("address")
@node_option
@wallet_option
@json_option
@report_errors
def trust(address: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Trust the node with ADDRESS as a relay (an operator action: the node's wallet)."""
    with NodeClient(node) as client:
        r = client.trust_relay(load_wallet(expand(wallet_path)), address)
    emit(relay_json(r), as_json, lambda: f"trusted {r.address} ({r.origin})")


@relay.command(cls=IdCommand)
@click.argument("address")
@node_option
@wallet_option
@json_option
@report_errors
def untrust(address: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Stop trusting ADDRESS as a relay (an operator action)."""
    with NodeClient(node) as client:
        r = client.untrust_relay(load_wallet(expand(wallet_path)), address)
    emit(relay_json(r), as_json, lambda: f"untrusted {r.address}")


@relay.command(name="list")
@node_option
@json_option
@report_errors
def list_(node: str, as_json: bool) -> None:
    """List the trusted relays (this node first, then configured ones, then added ones)."""
    with NodeClient(node) as client:
        relays = client.relays()
    emit(
        {"relays": [relay_json(r) for r in relays]},
        as_json,
        lambda: "\n".join(f"{r.address} ({r.origin})" for r in relays),
    )
