"""The `aonode` command line: one click group, a module per command family.

Conventions every command follows (DESIGN §8): the node address comes from `--node`, else `AONODE_NODE`,
else 127.0.0.1:7400; commands that sign take `--wallet` (else `AONODE_WALLET`, else ~/.aonode/wallet);
`--json` prints exactly one JSON document on stdout (`watch --json`: JSON lines, one per assignment);
errors go to stderr with a non-zero exit status (1 for an error answered by the node or the command, 2 for
bad usage, 130 after Ctrl-C).
"""

from __future__ import annotations

from typing import Any

import click

from aonode import __version__
from aonode.cli.bench import bench
from aonode.cli.common import exit_if_interrupted
from aonode.cli.compute import compute, dryrun, eval_, now
from aonode.cli.console import console
from aonode.cli.cron import cron
from aonode.cli.info import info
from aonode.cli.location import location
from aonode.cli.messages import assign, send, spawn
from aonode.cli.module import module
from aonode.cli.peer import peer
from aonode.cli.process import process
from aonode.cli.push import push
from aonode.cli.relay import relay
from aonode.cli.replica import replica
from aonode.cli.schedule import schedule, watch
from aonode.cli.serve import serve
from aonode.cli.wallet import wallet


class AonodeGroup(click.Group):
    """The command group: Ctrl-C in any command exits with status 130 (128 + SIGINT, as shells report it)
    and no traceback, where click alone would print "Aborted!" and exit 1. Commands that report errors
    (`report_errors`) do the same themselves; this covers the others (bench, a prompt)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, RuntimeError) as exc:
            exit_if_interrupted(exc)
            raise


@click.group(
    cls=AonodeGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="aonode")
def cli() -> None:
    """aonode: a node for AO processes (scheduler, compute, push, cron) over gRPC.

    Start a node with `aonode serve`; the other commands talk to a running node.
    """


for command in (
    serve, info, wallet, spawn, send, schedule, watch, eval_, console, now, compute, dryrun, push, cron,
    process, replica, peer, location, relay, bench, module, assign
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    cli(prog_name="aonode")
