"""`aonode serve`: run a node. Settings: flags > AONODE_* environment > --config TOML file > defaults."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from aonode.cli.common import fail
from aonode.config import load_config
from aonode.errors import AonodeError
from aonode.logs import setup_logging


@click.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="Data directory [./data].")
@click.option("--listen", help="HOST:PORT to listen on [127.0.0.1:7400].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="TOML file.")
@click.option("--http", help="HOST:PORT of the HTTP gateway (HyperPATHs, aoconnect; docs/http.md) [off].")
@click.option("--node-wallet", type=click.Path(dir_okay=False, path_type=Path), help="The node's key file.")
@click.option("--public-url", help="URL other nodes reach this node at.")
@click.option("--accept-unsigned/--refuse-unsigned", default=None, help="Schedule unsigned messages.")
@click.option(
    "--follow-redirects/--no-follow-redirects", default=None, help="Forward other nodes' processes."
)
@click.option(
    "--replicate-from",
    help="HOST:PORT[,HOST:PORT...] of nodes to replicate every process of (docs/replication.md).",
)
@click.option(
    "--peer",
    "peer",
    multiple=True,
    help="HOST:PORT of a peer to gossip location records with (repeatable; docs/network.md).",
)
@click.option("--metrics", help="HOST:PORT to serve Prometheus /metrics on (docs/metrics.md) [off].")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="[info]")
@click.option("--log-format", type=click.Choice(["json", "text"]), help="[json]")
def serve(config_file: Path | None, peer: tuple[str, ...], **flags: object) -> None:
    """Run a node: gRPC on --listen, LMDB under --data (every setting: docs/config.md)."""
    if peer:
        flags["peers"] = ",".join(peer)
    try:
        config = load_config(file=config_file, env=os.environ, flags=flags)
    except AonodeError as exc:
        fail(str(exc), code=2)
    setup_logging(config.log_level, config.log_format)
    from aonode.rpc.server import serve as run  # grpc loads only for the commands that need it
    from store.lock import DirectoryLockedError

    try:
        asyncio.run(run(config))
    except (OSError, DirectoryLockedError) as exc:
        fail(str(exc))
