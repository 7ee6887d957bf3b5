"""`aonode schedule` (list a range of assignments, checked) and `aonode watch` (follow the schedule live).

`aonode schedule` trusts nothing the node sends: for every assignment in the range it checks the
assignment's signature, its process and slot, its link `hash_chain = blake3(previous link ‖ message ID)`
(from the process ID at slot 0, else from the link of the slot before the range), and it fetches the
assigned message (GetSchedule with messages, GetMessage for one a page lacks) and checks that the
message's own ID is the assigned one and that its signature verifies (a signed message's ID is the digest
of its signature, so only the signature binds its content). Any problem is listed (`problems` in --json,
`verified: false`) and the command exits 1; text output ends with the verdict line.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
from blake3 import blake3

from aonode.cli.common import IdCommand, emit, json_option, node_option, report_errors
from aonode.client import ClientError, NodeClient, assignment_json
from aonode.crypto import verify_assignment, verify_message
from aonode.errors import AonodeError
from aonode.ids import decode_id, encode_id
from aonode.model import Assignment, Message
from aonode.rpc.convert import assignment_from_pb

HEADER = f"{'SLOT':>8}  {'MESSAGE':<43}  {'TIME (UTC)':<23}  HASH CHAIN"


def utc_time(milliseconds: object) -> str:
    """An assignment's timestamp (Unix milliseconds) as `YYYY-MM-DD HH:MM:SS.mmm`, UTC."""
    if not isinstance(milliseconds, int):
        return str(milliseconds)
    try:
        moment = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return str(milliseconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{milliseconds % 1000:03d}"


def _line(document: dict[str, object]) -> str:
    time = utc_time(document["timestamp"])
    return f"{document['slot']:>8}  {document['message']}  {time:<23}  {document['hash-chain']}"


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--from", "from_slot", type=click.IntRange(min=0), help="First slot [0].")
@click.option("--to", "to_slot", type=click.IntRange(min=0), help="Last slot [the current one].")
@node_option
@json_option
@report_errors
def schedule(process: str, from_slot: int | None, to_slot: int | None, node: str, as_json: bool) -> None:
    """List PROCESS's assignments (slot, message, timestamp, hash chain), checking signatures, the hash
    chain and every assigned message's digest."""
    with NodeClient(node) as client:
        checked, problems = _checked_schedule(client, process, from_slot, to_slot)
    assignments = [assignment_json(a) for a in checked]
    verdict = (
        f"chain ok: {len(checked)} assignments, their messages' digests and signatures verified"
        if not problems
        else f"SCHEDULE FAILED VERIFICATION: {len(problems)} problem(s):\n" + "\n".join(problems)
    )
    emit(
        {
            "process": process,
            "assignments": assignments,
            "has_next": False,
            "verified": not problems,
            "problems": problems,
        },
        as_json,
        lambda: (
            "\n".join([HEADER, *(_line(a) for a in assignments), verdict])
            if assignments
            else "(no assignments in range)"
        ),
    )
    if problems:
        sys.exit(1)


def _checked_schedule(
    client: NodeClient, process: str, from_slot: int | None, to_slot: int | None
) -> tuple[list[Assignment], list[str]]:
    pid = decode_id(process, "process")
    first = from_slot or 0
    problems: list[str] = []
    link: bytes | None = pid
    if first > 0:
        before = client.get_schedule(process, first - 1, first - 1).assignments
        link = before[0].hash_chain if before else None
    out: list[Assignment] = []
    token = ""
    expected = first
    while True:
        page = client.get_schedule(process, from_slot, to_slot, page_token=token, include_messages=True)
        messages: dict[bytes, Message] = {m.id: m for m in page.messages}
        for a in page.assignments:
            problems += _check(client, pid, a, expected, link, messages)
            out.append(a)
            expected, link = a.slot + 1, a.hash_chain
        if not page.has_next:
            return out, problems
        token = page.next_page_token


def _check(
    client: NodeClient,
    pid: bytes,
    a: Assignment,
    expected: int,
    link: bytes | None,
    messages: dict[bytes, Message],
) -> list[str]:
    where = f"slot {a.slot}"
    found: list[str] = []
    if a.process != pid or a.slot != expected:
        found.append(f"{where}: expected process {encode_id(pid)} slot {expected}")
    try:
        verify_assignment(a)
    except AonodeError as exc:
        found.append(f"{where}: assignment signature: {exc}")
    if link is not None and a.hash_chain != blake3(link + a.message).digest():
        found.append(f"{where}: hash chain does not follow from the previous link")
    message = messages.get(a.message)
    if message is None:
        try:
            message = client.get_message(encode_id(a.message))
        except ClientError as exc:
            return [*found, f"{where}: message {encode_id(a.message)} could not be fetched: {exc}"]
    if message.id != a.message:
        found.append(
            f"{where}: message digest mismatch: assigned {encode_id(a.message)}, got {encode_id(message.id)}"
        )
    elif message.signature is not None:
        try:
            verify_message(message)
        except AonodeError as exc:
            found.append(f"{where}: message {encode_id(a.message)} does not match its signature: {exc}")
    return found


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--from", "from_slot", type=click.IntRange(min=0), default=0, help="First slot [0].")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many assignments.")
@node_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON lines: one JSON object per assignment, one per line, as they arrive.",
)
@report_errors
def watch(process: str, from_slot: int, count: int | None, node: str, as_json: bool) -> None:
    """Follow PROCESS's schedule live: catch up from --from, then print assignments as they commit (a
    table with a header row; with --json, JSON lines: one JSON object per assignment, one per line).
    Ctrl-C stops it (exit status 130)."""
    seen = 0
    with NodeClient(node) as client:
        for frame in client.subscribe(process, from_slot):
            for pb_assignment in frame.assignments:
                document = assignment_json(assignment_from_pb(pb_assignment))
                if not as_json and seen == 0:
                    click.echo(HEADER)
                click.echo(json.dumps(document) if as_json else _line(document))
                seen += 1
                if count is not None and seen >= count:
                    return
