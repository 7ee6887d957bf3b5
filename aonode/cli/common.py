"""What the CLI commands share: output (`--json` or text), error reporting, wallet and node options."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from aonode.client import ClientError
from aonode.errors import AonodeError
from aonode.ids import shield_dashed_ids, unshield_arg
from aonode.wallet import WalletError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NODE = "127.0.0.1:7400"

DEFAULT_WALLET = Path("~/.aonode/wallet")


class IdCommand(click.Command):
    """A command whose arguments may be IDs beginning with "-" (1 in 64 are): such a word, before any
    `--`, is passed through the parser as a value and restored before the command runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, shield_dashed_ids(args))
        for name, value in ctx.params.items():
            ctx.params[name] = unshield_arg(value)
        return [str(unshield_arg(arg)) for arg in rest]


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(f)


def wallet_option(f: F) -> F:
    return click.option(
        "--wallet",
        "wallet_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="AONODE_WALLET",
        default=DEFAULT_WALLET,
        show_default=True,
        help="Wallet (JWK) file that signs. Env: AONODE_WALLET.",
    )(f)


def node_option(f: F) -> F:
    return click.option(
        "--node",
        envvar="AONODE_NODE",
        default=DEFAULT_NODE,
        show_default=True,
        help="Node address HOST:PORT. Env: AONODE_NODE.",
    )(f)


def emit(document: Any, as_json: bool, text: str | Callable[[], str]) -> None:
    """Print `document` as JSON, or the human text."""
    if as_json:
        click.echo(json.dumps(document, indent=2, sort_keys=False))
    else:
        click.echo(text() if callable(text) else text)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def expand(path: Path) -> Path:
    return Path(os.path.expanduser(path))


INTERRUPTED = 130
"""Exit status after Ctrl-C: 128 + SIGINT, as shells report it."""


def unreachable(exc: ClientError) -> bool:
    """Whether the node could not be reached at all (nothing listening, unknown host), as opposed to an
    answer: gRPC reports both as UNAVAILABLE, the details tell them apart."""
    details = exc.details.lower()
    return exc.code == "UNAVAILABLE" and any(
        hint in details
        for hint in ("connection refused", "failed to connect", "dns resolution failed", "name resolution")
    )


def start_node_hint(node: str | None) -> str:
    where = node or DEFAULT_NODE
    return (
        f"no aonode node is answering at {where}.\n"
        "Start one in another terminal: `make run` (in the aonode checkout) or `aonode serve`,\n"
        "or point the command at a running node with --node HOST:PORT (or AONODE_NODE)."
    )


def local_error_hint(exc: AonodeError) -> str:
    """A hint for a local error a newcomer meets (the status names are for errors a node answers)."""
    if not isinstance(exc, WalletError):
        return ""
    if "already exists" in str(exc):
        return (
            "\nhint: `aonode wallet show` prints the address of the wallet you already have; "
            "`aonode wallet new --out OTHER_PATH` creates another one."
        )
    if not any(w in str(exc) for w in ("not a JWK", "cannot store")):
        return "\nhint: create one with `aonode wallet new` (or pass --wallet PATH / AONODE_WALLET)."
    return ""


def report_errors(f: F) -> F:
    """Turn errors answered by the node (ClientError) into `error: CODE: details`, local errors (a wallet,
    a file, an ID) into `error: message` with a hint where there is one, a node that cannot be reached
    into how to start one, all on stderr with exit status 1; Ctrl-C exits 130. Never a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except ClientError as exc:
            fail(start_node_hint(kwargs.get("node")) if unreachable(exc) else str(exc))
        except AonodeError as exc:
            fail(f"{exc}{local_error_hint(exc)}")
        except OSError as exc:
            fail(str(exc))
        except (KeyboardInterrupt, RuntimeError) as exc:
            exit_if_interrupted(exc)
            raise

    return wrapper  # type: ignore[return-value]


def exit_if_interrupted(exc: BaseException) -> None:
    """Exit 130 (no traceback) when `exc` is a Ctrl-C or was raised while one was being handled. A SIGINT
    that lands inside `threading.Condition.wait` (a gRPC stream waiting for its next frame) can leave the
    condition's lock released, so its `__exit__` raises "cannot release un-acquired lock" with the
    KeyboardInterrupt as its context: that is still the user's Ctrl-C, not a failure."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return
        if isinstance(seen, KeyboardInterrupt):
            click.echo("", err=True)
            sys.exit(INTERRUPTED)
        seen = seen.__context__
