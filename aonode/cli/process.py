"""`aonode process status [PROCESS]` and `aonode process resume PROCESS`: whether processes compute or are
stalled (a slot hit the wall-clock backstop: docs/compute.md, Stalls), and lifting a stall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aonode.cli.common import IdCommand, emit, expand, json_option, node_option, report_errors, wallet_option
from aonode.client import NodeClient
from aonode.v1 import types_pb2
from aonode.wallet import load_wallet


def stall_json(stall: types_pb2.ProcessStall) -> dict[str, Any]:
    return {
        "process": stall.process,
        "slot": stall.slot,
        "since_ms": stall.since_ms,
        "wall_seconds": stall.wall_seconds,
        "reason": stall.reason,
    }


def stall_text(stall: types_pb2.ProcessStall) -> str:
    return f"{stall.process}  STALLED at slot {stall.slot} since {stall.since_ms} ms: {stall.reason}"


@click.group()
def process() -> None:
    """Compute status of processes: stalled ones, and lifting a stall."""


@process.command(cls=IdCommand)
@click.argument("process_id", metavar="[PROCESS]", required=False)
@node_option
@json_option
@report_errors
def status(process_id: str | None, node: str, as_json: bool) -> None:
    """Show PROCESS's compute status (tip, last computed slot, stall), or the node's stalled processes."""
    with NodeClient(node) as client:
        if process_id is None:
            reply = client.status()
            stalled = [stall_json(s) for s in reply.stalled]
            lines = [f"node {reply.address}: {len(reply.processes)} processes, {len(stalled)} stalled"]
            lines += [stall_text(s) for s in reply.stalled]
            emit({"address": reply.address, "processes": len(reply.processes), "stalled": stalled}, as_json,
                 "\n".join(lines))  # fmt: skip
            return
        one = client.process_status(process_id)
    computed = one.computed_slot if one.HasField("computed_slot") else None
    document: dict[str, Any] = {
        "process": one.process,
        "current_slot": one.current_slot,
        "computed_slot": computed,
        "state": "stalled" if one.HasField("stall") else "ok",
        "stall": stall_json(one.stall) if one.HasField("stall") else None,
    }
    text = f"{one.process}  tip {one.current_slot}, computed {'-' if computed is None else computed}"
    text += "\n" + stall_text(one.stall) if one.HasField("stall") else ", ok"
    emit(document, as_json, text)


@process.command(cls=IdCommand)
@click.argument("process_id", metavar="PROCESS")
@node_option
@wallet_option
@json_option
@report_errors
def resume(process_id: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Lift PROCESS's stall: its next computation tries the stalled slot again. Signed with --wallet, which
    must be an operator's (the node's own wallet, DATA/node-wallet.json, or one in `[compute] operators`)."""
    signer = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        reply = client.resume_process(signer, process_id)
    emit({"lifted": stall_json(reply.lifted)}, as_json, f"lifted: {stall_text(reply.lifted)}")
