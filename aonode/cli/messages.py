"""`aonode spawn` and `aonode send`: sign messages with your wallet and schedule them on a node."""

from __future__ import annotations

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
from aonode.client import NodeClient, assignment_json, build_message, build_module, build_process
from aonode.ids import encode_id, is_id
from aonode.model import Message
from aonode.wallet import load_wallet

DEVICES = ("lua@5.3a", "wasm64@1.0")
CONTENT_TYPES = {"lua@5.3a": "text/x-lua", "wasm64@1.0": "application/wasm"}


def parse_tags(values: tuple[str, ...]) -> list[tuple[str, str]]:
    tags = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--tag")
        tags.append((name, value))
    return tags


def tag_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--tag", "tag_items", multiple=True, metavar="NAME=VALUE", help="Add a tag (repeatable)."
    )(f)


def message_options(f: click.decorators.FC) -> click.decorators.FC:
    """--action, --data, --data-file and --tag: what a message to a process is made of."""
    f = tag_option(f)
    f = click.option(
        "--data-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Data from a file."
    )(f)
    f = click.option("--data", "data_text", help="Message data (text).")(f)
    return click.option("--action", help="The Action tag.")(f)


def signed_message(
    process: str,
    action: str | None,
    data_text: str | None,
    data_file: Path | None,
    tag_items: tuple[str, ...],
    wallet_path: Path,
) -> Message:
    """The message that `message_options` describe, signed with the wallet."""
    if data_text is not None and data_file is not None:
        fail("give --data or --data-file, not both", code=2)
    data = data_file.read_bytes() if data_file else (data_text or "").encode()
    signer = load_wallet(expand(wallet_path))
    return build_message(signer, process, action=action, data=data, tags=parse_tags(tag_items))


def _device_for(module: str, device: str | None) -> str:
    if device:
        return device
    if module.endswith(".wasm"):
        return "wasm64@1.0"
    return "lua@5.3a"


@click.command()
@click.option(
    "--module",
    "module",
    metavar="FILE|ID",
    help="Module: a .lua/.wasm file (published first) or an ID. Default: the built-in AOS runtime.",
)
@click.option("--device", type=click.Choice(DEVICES), help="Execution device [from the file type; lua@5.3a].")
@tag_option
@node_option
@wallet_option
@json_option
@report_errors
def spawn(
    module: str | None,
    device: str | None,
    tag_items: tuple[str, ...],
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Publish a module (if a file) and schedule a new Process; print its process ID.

    Without --module the process runs the built-in AOS runtime (Handlers, Send, Eval, ...: docs/runtime.md).
    Without an Authority tag (--tag Authority=ADDRESS) the process trusts the node's address, which signs
    what the node relays to it (pushed messages of other processes, cron ticks), as aos trusts its MU.
    """
    signer = load_wallet(expand(wallet_path))
    tags = parse_tags(tag_items)
    chosen = _device_for(module or "", device)
    with NodeClient(node) as client:
        if module is None:
            from aonode.devices.aos import runtime_module

            module_id = encode_id(runtime_module().id)
        elif Path(module).is_file():
            code = Path(module).read_bytes()
            module_id = client.publish(build_module(signer, code, CONTENT_TYPES[chosen]))
        elif is_id(module):
            module_id = module
        else:
            fail(f"--module: {module!r} is neither a file nor a 43-character module ID", code=2)
        scheduler = client.info().address
        if not any(name.lower() == "authority" for name, _ in tags):
            tags.append(("Authority", scheduler))
        process = build_process(signer, module=module_id, scheduler=scheduler, device=chosen, tags=tags)
        assignment = client.schedule(process)
    process_id = encode_id(process.id)
    emit(
        {
            "process": process_id,
            "module": module_id,
            "device": chosen,
            "assignment": assignment_json(assignment),
        },
        as_json,
        process_id,
    )


@click.command(cls=IdCommand)
@click.argument("process")
@message_options
@click.option("--wait", is_flag=True, help="Also compute the slot and print its result.")
@node_option
@wallet_option
@json_option
@report_errors
def send(
    process: str,
    action: str | None,
    data_text: str | None,
    data_file: Path | None,
    tag_items: tuple[str, ...],
    wait: bool,
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Sign a message to PROCESS with your wallet, schedule it, print its assignment (with --wait, and
    its result)."""
    message = signed_message(process, action, data_text, data_file, tag_items, wallet_path)
    with NodeClient(node) as client:
        assignment = client.schedule(message)
        computed = client.compute(process, assignment.slot) if wait else None
    document = assignment_json(assignment)
    text = f"slot {assignment.slot}  message {document['message']}"
    if computed is not None:
        document["result"] = computed.to_json()
        text += "\n" + computed.result.output.data
        if computed.result.error:
            text += f"\nerror: {computed.result.error}"
    emit(document, as_json, text)


@click.command(cls=IdCommand)
@click.argument("process")
@click.argument("message")
@click.option("--wait", is_flag=True, help="Also compute the slot and print its result.")
@node_option
@json_option
@report_errors
def assign(process: str, message: str, wait: bool, node: str, as_json: bool) -> None:
    """Assign MESSAGE (held by the node, sent to another process) to PROCESS: its next slot holds it
    (ao's assignments; idempotent). The process takes it only if it declared it assignable
    (`ao.addAssignable`, docs/runtime.md); print the assignment (with --wait, and its result)."""
    with NodeClient(node) as client:
        assignment = client.assign(process, message)
        computed = client.compute(process, assignment.slot) if wait else None
    document = assignment_json(assignment)
    text = f"slot {assignment.slot}  message {document['message']}  assignment {document['id']}"
    if computed is not None:
        document["result"] = computed.to_json()
        text += "\n" + computed.result.output.data
        if computed.result.error:
            text += f"\nerror: {computed.result.error}"
    emit(document, as_json, text)
