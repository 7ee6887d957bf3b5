"""`aonode schedule` (list a range of assignments) and `aonode watch` (follow the schedule live)."""

from __future__ import annotations

import json

import click

from aonode.cli.common import IdCommand, emit, fail, json_option, node_option, report_errors
from aonode.client import ClientError, NodeClient, assignment_json
from aonode.rpc.convert import assignment_from_pb


def _line(document: dict[str, object]) -> str:
    return f"{document['slot']:>8}  {document['message']}  {document['timestamp']}  {document['hash-chain']}"


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--from", "from_slot", type=click.IntRange(min=0), help="First slot [0].")
@click.option("--to", "to_slot", type=click.IntRange(min=0), help="Last slot [the current one].")
@node_option
@json_option
@report_errors
def schedule(process: str, from_slot: int | None, to_slot: int | None, node: str, as_json: bool) -> None:
    """List PROCESS's assignments (slot, message, timestamp, hash chain)."""
    with NodeClient(node) as client:
        assignments = [assignment_json(a) for a in client.iter_schedule(process, from_slot, to_slot)]
    emit(
        {"process": process, "assignments": assignments, "has_next": False},
        as_json,
        lambda: "\n".join(_line(a) for a in assignments) or "(no assignments in range)",
    )


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--from", "from_slot", type=click.IntRange(min=0), default=0, help="First slot [0].")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many assignments.")
@node_option
@json_option
@report_errors
def watch(process: str, from_slot: int, count: int | None, node: str, as_json: bool) -> None:
    """Follow PROCESS's schedule live: catch up from --from, then print assignments as they commit."""
    seen = 0
    with NodeClient(node) as client:
        try:
            for frame in client.subscribe(process, from_slot):
                for pb_assignment in frame.assignments:
                    document = assignment_json(assignment_from_pb(pb_assignment))
                    click.echo(json.dumps(document) if as_json else _line(document))
                    seen += 1
                    if count is not None and seen >= count:
                        return
        except ClientError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            return
