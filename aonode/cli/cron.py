"""`aonode cron`: timers on the node that schedule messages to processes.

`every --interval I --process P`, `once --at TIME|--in I --process P` (both with `--action`, `--data`,
`--data-file`, `--tag NAME=VALUE`) print the task created (`--json`: the task object, its ID under
`task`); `stop TASK` prints the stopped task; `list [--process P] [--creator ADDRESS]` prints one line per
task (`--json`: `{"tasks": [...]}`), following pages. `every`, `once` and `stop` sign their request with
the wallet (`--wallet`, else `AONODE_WALLET`, else ~/.aonode/wallet): the ticks reach the process with
the wallet's address as `From`, and only that wallet can stop the task (docs/cron.md).
TIME is ms since the Unix epoch or an ISO 8601 date-time (UTC when it names no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from aonode.cli.common import (
    IdCommand,
    emit,
    expand,
    fail,
    json_option,
    node_option,
    report_errors,
    wallet_option,
)
from aonode.cli.messages import message_options, parse_tags
from aonode.client import NodeClient
from aonode.cron import CronTask
from aonode.wallet import load_wallet


def parse_time(text: str) -> int:
    """ms since the epoch, from digits or an ISO 8601 date-time."""
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"expected ms since the epoch or an ISO 8601 date-time, got {text!r}", param_hint="--at"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def task_line(t: CronTask) -> str:
    what = f"every {t.interval}" if t.interval else "once"
    call = f" calls {t.path} (cursor {t.cursor})" if t.path else ""
    line = f"{t.task} {t.process}{call} {what} next {_iso(t.due)} runs {t.runs}"
    if t.origin == "process":
        line += " (process)"
    elif t.creator:
        line += f" by {t.creator}"
    if t.skipped:
        line += f" skipped {t.skipped}"
    if t.failures:
        line += f" failures {t.failures}: {t.last_error}"
    return line


def _tags(action: str | None, tag_items: tuple[str, ...]) -> list[tuple[str, str]]:
    return ([("Action", action)] if action else []) + parse_tags(tag_items)


def _no_message_with_path(path: str, tags: list[tuple[str, str]], data: bytes) -> None:
    if path and (tags or data):
        fail("--path calls a path on the process and sends no message: drop --action/--tag/--data", code=2)


PATH_HELP = "Call this path on the process instead of sending it a message: now, or push."


def _data(data_text: str | None, data_file: Path | None) -> bytes:
    if data_text is not None and data_file is not None:
        fail("give --data or --data-file, not both", code=2)
    return data_file.read_bytes() if data_file else (data_text or "").encode()


@click.group()
def cron() -> None:
    """Timers that schedule messages to processes (or call now/push on them), kept across restarts."""


@cron.command()
@click.option("--interval", required=True, help="N-milliseconds|seconds|minutes|hours|days.")
@click.option("--process", required=True, help="The process the messages go to.")
@click.option("--path", default="", help=PATH_HELP)
@message_options
@node_option
@wallet_option
@json_option
@report_errors
def every(
    interval: str,
    process: str,
    path: str,
    action: str | None,
    data_text: str | None,
    data_file: Path | None,
    tag_items: tuple[str, ...],
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Schedule a message to --process every --interval (or call --path on it), from your wallet."""
    tags, data = _tags(action, tag_items), _data(data_text, data_file)
    _no_message_with_path(path, tags, data)
    signer = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        task = client.cron_every(signer, process, interval, tags=tags, data=data, path=path)
    emit(task.to_json(), as_json, lambda: task_line(task))


@cron.command()
@click.option("--at", "at_text", help="When: ms since the epoch or an ISO 8601 date-time.")
@click.option("--in", "in_", help="When: after this interval (e.g. 10-seconds).")
@click.option("--process", required=True, help="The process the message goes to.")
@click.option("--path", default="", help=PATH_HELP)
@message_options
@node_option
@wallet_option
@json_option
@report_errors
def once(
    at_text: str | None,
    in_: str | None,
    process: str,
    path: str,
    action: str | None,
    data_text: str | None,
    data_file: Path | None,
    tag_items: tuple[str, ...],
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Schedule one message to --process (or call --path on it), --at a time or --in an interval from
    now, from your wallet."""
    if (at_text is None) == (in_ is None):
        fail("give exactly one of --at or --in", code=2)
    at = parse_time(at_text) if at_text is not None else None
    tags, data = _tags(action, tag_items), _data(data_text, data_file)
    _no_message_with_path(path, tags, data)
    signer = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        task = client.cron_once(signer, process, at=at, in_=in_, tags=tags, data=data, path=path)
    emit(task.to_json(), as_json, lambda: task_line(task))


@cron.command(cls=IdCommand)
@click.argument("task")
@node_option
@wallet_option
@json_option
@report_errors
def stop(task: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Stop TASK (one your wallet created)."""
    signer = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        stopped = client.cron_stop(signer, task)
    emit(stopped.to_json(), as_json, f"stopped {stopped.task}")


@cron.command(name="list")
@click.option("--process", default="", help="Only the tasks of this process.")
@click.option("--creator", default="", help="Only the tasks this address created.")
@node_option
@json_option
@report_errors
def list_(process: str, creator: str, node: str, as_json: bool) -> None:
    """List the node's cron tasks (anyone may)."""
    with NodeClient(node) as client:
        tasks = client.cron_list(process=process, creator=creator)
    emit(
        {"tasks": [t.to_json() for t in tasks]},
        as_json,
        lambda: "\n".join(task_line(t) for t in tasks) or "no cron tasks",
    )
