"""`aonode eval`, `now`, `compute` and `dryrun`: run a process's code and show what it produced."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aonode.cli.common import (
    IdCommand,
    emit,
    expand,
    json_option,
    node_option,
    report_errors,
    wallet_option,
)
from aonode.cli.messages import message_options, signed_message
from aonode.client import ComputedSlot, NodeClient, build_message
from aonode.ids import _ARG_SHIELD
from aonode.model import Result
from aonode.wallet import load_wallet


def console_text(result: Result) -> str:
    """What the AOS console shows for a result: its output data (the error goes to stderr)."""
    return result.output.data


def show_result(computed: ComputedSlot | Result, as_json: bool) -> None:
    result = computed.result if isinstance(computed, ComputedSlot) else computed
    document = computed.to_json() if isinstance(computed, ComputedSlot) else result.to_json()
    emit(document, as_json, lambda: console_text(result))
    if result.error and not as_json:
        click.echo(f"error: {result.error}", err=True)
        raise SystemExit(1)


class EvalCommand(IdCommand):
    """`eval PROCESS CODE`: CODE is Lua and is read as CODE even when it begins with "-" (`-- comment`,
    `-x`), unless it is exactly one of the command's options. Any word after PROCESS that is not an
    option (nor an option's value) is the code."""

    _FLAGS = frozenset({"--json", "--help"})
    _VALUED = frozenset({"--node", "--wallet", "--file"})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        positional = 0
        skip_value = False
        for index, arg in enumerate(args):
            if skip_value:
                skip_value = False
            elif arg == "--":
                out.extend(args[index:])
                break
            elif arg in self._VALUED:
                skip_value = True
            elif arg in self._FLAGS or arg.split("=", 1)[0] in self._VALUED:
                pass
            else:
                positional += 1
                if positional == 2 and arg.startswith("-") and arg != "-":
                    arg = _ARG_SHIELD + arg
            out.append(arg)
        return super().parse_args(ctx, out)


@click.command("eval", cls=EvalCommand)
@click.argument("process")
@click.argument("code", required=False)
@click.option(
    "--file",
    "code_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the Lua code from this file instead of CODE.",
)
@node_option
@wallet_option
@json_option
@report_errors
def eval_(
    process: str, code: str | None, code_file: Path | None, node: str, wallet_path: Path, as_json: bool
) -> None:
    """Evaluate Lua CODE in PROCESS (Action=Eval, owner only), wait, print its output.

    CODE may begin with "-" (`-- a comment`); `-` reads the code from stdin; --file F reads it from F."""
    if (code is None) == (code_file is None):
        raise click.UsageError("give the Lua code as CODE, `-` (stdin) or --file F (exactly one of them)")
    if code_file is not None:
        code = code_file.read_text(encoding="utf-8")
    elif code == "-":
        code = sys.stdin.read()
    assert code is not None
    signer = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        assignment = client.schedule(build_message(signer, process, action="Eval", data=code.encode()))
        computed = client.compute(process, assignment.slot)
    show_result(computed, as_json)


@click.command(cls=IdCommand)
@click.argument("process")
@node_option
@json_option
@report_errors
def now(process: str, node: str, as_json: bool) -> None:
    """Compute every assigned slot of PROCESS and print the latest result."""
    with NodeClient(node) as client:
        computed = client.now(process)
    show_result(computed, as_json)


@click.command(cls=IdCommand)
@click.argument("process")
@click.option("--slot", type=click.IntRange(min=0), required=True, help="The slot whose result to show.")
@node_option
@json_option
@report_errors
def compute(process: str, slot: int, node: str, as_json: bool) -> None:
    """Print PROCESS's result at --slot (computing what is missing)."""
    with NodeClient(node) as client:
        computed = client.compute(process, slot)
    show_result(computed, as_json)


@click.command(cls=IdCommand)
@click.argument("process")
@message_options
@node_option
@wallet_option
@json_option
@report_errors
def dryrun(
    process: str,
    action: str | None,
    data_text: str | None,
    data_file: Path | None,
    tag_items: tuple[str, ...],
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Evaluate a message against PROCESS's latest state without scheduling it or changing anything."""
    message = signed_message(process, action, data_text, data_file, tag_items, wallet_path)
    with NodeClient(node) as client:
        result = client.dryrun(message)
    show_result(result, as_json)
