"""`aonode module publish`: a module (Lua source or a WASM binary) as an ANS-104 data item signed by your
wallet, with the tags AO's clients look for (`Data-Protocol=ao`, `Type=Module`, `Module-Format`,
`Input-Encoding`, `Output-Encoding`, `Content-Type`, and `Memory-Limit`/`Compute-Limit` when given), stored
on the node without being scheduled. Its ID is what `spawn --module` (or aoconnect's `spawn({module})`)
takes. Over HTTP the same item can be posted to `POST /` or `POST /modules` (docs/http.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from aonode import ans104
from aonode.cli.common import emit, expand, fail, json_option, node_option, report_errors, wallet_option
from aonode.cli.messages import parse_tags, tag_option
from aonode.client import NodeClient
from aonode.model import Tag
from aonode.wallet import load_wallet

LUA_FORMAT = "lua@5.3a"


def module_tags(
    fmt: str, memory_limit: str | None, compute_limit: str | None, extra: list[tuple[str, str]]
) -> list[Tag]:
    content_type = "text/x-lua" if fmt.startswith("lua") else "application/wasm"
    tags = [
        Tag("Data-Protocol", "ao"),
        Tag("Variant", "ao.TN.1"),
        Tag("Type", "Module"),
        Tag("Module-Format", fmt),
        Tag("Input-Encoding", "JSON-1"),
        Tag("Output-Encoding", "JSON-1"),
        Tag("Content-Type", content_type),
    ]
    if memory_limit:
        tags.append(Tag("Memory-Limit", memory_limit))
    if compute_limit:
        tags.append(Tag("Compute-Limit", compute_limit))
    return tags + [Tag(n, v) for n, v in extra]


@click.group()
def module() -> None:
    """Publish modules for processes to run."""


@module.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    help="Module-Format: lua@5.3a (default for .lua), or a WASM one such as "
    "wasm64-unknown-emscripten-draft_2024_02_15 or wasm32-unknown-emscripten4 (required for .wasm).",
)
@click.option("--memory-limit", help="Memory-Limit tag, e.g. 1-gb.")
@click.option("--compute-limit", help="Compute-Limit tag (instructions per message).")
@tag_option
@wallet_option
@node_option
@json_option
@report_errors
def publish(
    file: Path,
    fmt: str | None,
    memory_limit: str | None,
    compute_limit: str | None,
    tag_items: tuple[str, ...],
    wallet_path: Path,
    node: str,
    as_json: bool,
) -> None:
    """Publish FILE as a module (an ANS-104 item signed by your wallet); print its ID."""
    code = file.read_bytes()
    is_wasm = code.startswith(b"\0asm")
    if fmt is None:
        if is_wasm:
            fail(
                "--format is required for a WASM module (e.g. wasm64-unknown-emscripten-draft_2024_02_15)", 2
            )
        fmt = LUA_FORMAT
    if is_wasm != fmt.lower().startswith("wasm"):
        fail(f"--format {fmt} does not match the file ({'a WASM binary' if is_wasm else 'not WASM'})", 2)
    signer = load_wallet(expand(wallet_path))
    item = ans104.build(
        signer, tags=module_tags(fmt, memory_limit, compute_limit, parse_tags(tag_items)), data=code
    )
    with NodeClient(node) as client:
        module_id = client.publish(item.raw)
    emit({"id": module_id, "format": fmt, "bytes": len(code)}, as_json, module_id)
