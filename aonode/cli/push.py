"""`aonode push`: deliver a slot's outbox (and spawns) to their targets, recursively, and show the tree.

Text output is one line per delivery, indented by depth: `kind process@slot` plus why delivery stopped
there, if it did; `--json` prints `{"push_id", "state", "delivered", "existing", "undelivered",
"tree"}` (for `--async` only `push_id` and `state`: follow it with the client's `get_push`). The exit
status is 1 when the push failed or is `incomplete` (deliveries not made because a node was
unreachable: the node retries them by itself, GetPush follows the push ID).
"""

from __future__ import annotations

import click

from aonode.cli.common import IdCommand, emit, json_option, node_option, report_errors
from aonode.client import NodeClient
from aonode.push.config import PushNode, PushReport


def tree_lines(node: PushNode, depth: int = 0) -> list[str]:
    where = f"{node.process}@{node.slot}" if node.slot is not None else node.process or "?"
    line = f"{'  ' * depth}{node.kind} {where}"
    if node.existing:
        line += " (existing)"
    if node.node:
        line += f" on {node.node}"
    if node.result is not None and node.result.output.data:
        line += f": {node.result.output.data.splitlines()[-1][:80]}"
    if node.stopped:
        line += f" [stopped: {node.stopped}]"
    out = [line]
    for child in node.children:
        out.extend(tree_lines(child, depth + 1))
    return out


def report_json(report: PushReport, with_tree: bool) -> dict[str, object]:
    out: dict[str, object] = {"push_id": report.push_id, "state": report.state}
    if with_tree:
        out.update(
            delivered=report.delivered,
            existing=report.existing,
            undelivered=report.undelivered,
            tree=report.tree.to_json(),
        )
        if report.error:
            out["error"] = report.error
    return out


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--slot", type=click.IntRange(min=0), required=True, help="The slot whose outbox to push.")
@click.option("--async", "async_", is_flag=True, help="Return the push ID at once instead of the tree.")
@click.option(
    "--result-depth",
    type=click.IntRange(0, 2),
    default=1,
    show_default=True,
    help="Of each result in the tree: 0 nothing, 1 output and error, 2 all.",
)
@node_option
@json_option
@report_errors
def push(process: str, slot: int, async_: bool, result_depth: int, node: str, as_json: bool) -> None:
    """Push PROCESS's --slot: schedule its outbox and spawns on their targets, then theirs, recursively."""
    with NodeClient(node) as client:
        report = client.push(process, slot, async_=async_, result_depth=result_depth)
    if async_:
        emit(report_json(report, False), as_json, f"push {report.push_id} started")
        return
    summary = f"{report.state}: {report.delivered} delivered, {report.existing} existing"
    if report.undelivered:
        summary += (
            f", {report.undelivered} undelivered (a node was unreachable); the node retries push "
            f"{report.push_id} by itself"
        )
    emit(report_json(report, True), as_json, lambda: "\n".join([*tree_lines(report.tree), summary]))
    if report.state in ("failed", "incomplete") or report.undelivered:
        raise SystemExit(1)  # something is not delivered (yet)
