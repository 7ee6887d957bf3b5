"""What the CLI commands share: output (`--json` or text), error reporting, wallet and node options."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from aonode.client import ClientError
from aonode.errors import AonodeError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NODE = "127.0.0.1:7400"

DEFAULT_WALLET = Path("~/.aonode/wallet")


# A 43-character base64url ID (32 bytes) that begins with "-": click would read it as a cluster of short
# options (e.g. `-0fJ...h...` holds `-h`), so IdCommand shields such words from the option parser.
_DASHED_ID = re.compile(r"-[A-Za-z0-9_-]{42}")
_SHIELD = "\x00"


def _unshield(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_SHIELD):
        return value[len(_SHIELD) :]
    if isinstance(value, tuple):
        return tuple(_unshield(item) for item in value)
    if isinstance(value, list):
        return [_unshield(item) for item in value]
    return value


class IdCommand(click.Command):
    """A command whose arguments may be IDs beginning with "-" (1 in 64 are): such a word, before any
    `--`, is passed through the parser as a value and restored before the command runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        shielded: list[str] = []
        for index, arg in enumerate(args):
            if arg == "--":
                shielded.extend(args[index:])
                break
            shielded.append(_SHIELD + arg if _DASHED_ID.fullmatch(arg) else arg)
        rest = super().parse_args(ctx, shielded)
        for name, value in ctx.params.items():
            ctx.params[name] = _unshield(value)
        return [_unshield(arg) for arg in rest]


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


def report_errors(f: F) -> F:
    """Turn errors answered by the node (ClientError) and domain errors into `error: ...` on stderr with
    exit status 1 (never a traceback)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except ClientError as exc:
            fail(str(exc))
        except AonodeError as exc:
            fail(f"{exc.status}: {exc}")
        except OSError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]
