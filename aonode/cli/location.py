"""`aonode location`: the signed scheduler location records a node knows (docs/network.md).

`get ADDRESS` prints one record (`--json`: all its fields, signature included, and `expired`); `list`
prints one line per record: address, URL, nonce, and when it expires (or expired). The node gossips
these with its peers; an expired record is shown but never used for a redirect.
"""

from __future__ import annotations

import time
from typing import Any

import click

from aonode.cli.common import IdCommand, emit, json_option, node_option, report_errors
from aonode.client import NodeClient
from aonode.ids import b64url_encode
from aonode.model import Location


def location_json(loc: Location, now: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "address": loc.address,
        "url": loc.url,
        "nonce": loc.nonce,
        "ttl_ms": loc.ttl_ms,
        "timestamp": loc.timestamp,
        "expires_at": loc.expires_at,
        "expired": loc.expires_at <= now,
    }
    if loc.signature is not None:
        doc["signature"] = {
            "scheme": loc.signature.scheme,
            "owner": b64url_encode(loc.signature.owner),
            "value": b64url_encode(loc.signature.value),
        }
    return doc


def location_line(loc: Location, now: int) -> str:
    left = (loc.expires_at - now) // 1000
    when = f"expires in {left} s" if left > 0 else f"EXPIRED {-left} s ago (not used)"
    return f"{loc.address} {loc.url} nonce {loc.nonce} {when}"


@click.group()
def location() -> None:
    """Scheduler location records: where each scheduler address can be reached."""


@location.command(cls=IdCommand)
@click.argument("address")
@node_option
@json_option
@report_errors
def get(address: str, node: str, as_json: bool) -> None:
    """Show the record the node knows for scheduler ADDRESS."""
    with NodeClient(node) as client:
        loc = client.get_location(address)
    now = int(time.time() * 1000)
    emit(location_json(loc, now), as_json, lambda: location_line(loc, now))


@location.command(name="list")
@click.option("--valid", "valid_only", is_flag=True, help="Leave out expired records.")
@node_option
@json_option
@report_errors
def list_(valid_only: bool, node: str, as_json: bool) -> None:
    """List every location record the node knows."""
    with NodeClient(node) as client:
        records = client.locations(valid_only=valid_only)
    now = int(time.time() * 1000)
    emit(
        {"locations": [location_json(r, now) for r in records]},
        as_json,
        lambda: "\n".join(location_line(r, now) for r in records) or "no location records",
    )
