"""`aonode peer`: the nodes this node gossips location records with and asks about processes
(docs/network.md).

`add HOST:PORT` and `remove HOST:PORT` are operator actions, signed with `--wallet` (the node's own wallet,
DATA/node-wallet.json, or an address in `[network] operators`); `add` exchanges records with the peer
before it answers and prints what it learned. `list` prints one line per peer: URL, origin, address,
when it last answered, its last error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from aonode.cli.common import emit, expand, json_option, node_option, report_errors, wallet_option
from aonode.client import NodeClient
from aonode.v1 import network_pb2 as pb
from aonode.wallet import load_wallet


def peer_json(p: pb.Peer) -> dict[str, Any]:
    return {
        "url": p.url,
        "origin": p.origin,
        "address": p.address,
        "last_seen_ms": p.last_seen_ms,
        "last_error": p.last_error,
        "added_ms": p.added_ms,
    }


def peer_line(p: pb.Peer) -> str:
    seen = (
        f"seen {max(0, int(time.time() * 1000) - p.last_seen_ms) // 1000} s ago"
        if p.last_seen_ms
        else "never seen"
    )
    line = f"{p.url} ({p.origin}) {p.address or '?'} {seen}"
    if p.last_error:
        line += f" error: {p.last_error}"
    return line


@click.group()
def peer() -> None:
    """Peers: nodes this node exchanges location records with and asks about unknown processes."""


@peer.command()
@click.argument("url", metavar="HOST:PORT")
@node_option
@wallet_option
@json_option
@report_errors
def add(url: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Add the node at HOST:PORT as a peer (an operator action: the node's wallet)."""
    with NodeClient(node) as client:
        reply = client.add_peer(load_wallet(expand(wallet_path)), url)
    doc = {**peer_json(reply.peer), "learned": reply.learned}
    emit(doc, as_json, lambda: f"added {peer_line(reply.peer)}; {reply.learned} location record(s) learned")


@peer.command()
@click.argument("url", metavar="HOST:PORT")
@node_option
@wallet_option
@json_option
@report_errors
def remove(url: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Stop gossiping with HOST:PORT (an operator action)."""
    with NodeClient(node) as client:
        p = client.remove_peer(load_wallet(expand(wallet_path)), url)
    emit(peer_json(p), as_json, lambda: f"removed {p.url}")


@peer.command(name="list")
@node_option
@json_option
@report_errors
def list_(node: str, as_json: bool) -> None:
    """List the node's peers."""
    with NodeClient(node) as client:
        peers = client.peers()
    emit(
        {"peers": [peer_json(p) for p in peers]},
        as_json,
        lambda: "\n".join(peer_line(p) for p in peers) or "no peers",
    )
