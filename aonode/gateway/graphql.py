"""`POST /graphql`: the one Arweave gateway query AO clients make of a node holding their modules and
processes, `transactions(ids: [...])`, answered from the store (no GraphQL engine: the query is not
interpreted beyond finding its IDs).

aoconnect's legacy `spawn` reads a module's tags there and checks `Data-Protocol=ao`, `Type=Module`,
`Module-Format`, `Input-Encoding` and `Output-Encoding`. The IDs come from the request's `variables`
(any list of strings, as aoconnect sends `transactionIds`) or, failing that, from `ids: [...]` written in
the query. Each held message is a node `{id, owner {address, key}, tags, data {size, type}, recipient,
anchor, signature, block}`; `block` is null (the node has no chain). IDs the node does not hold are left
out, as a gateway leaves out transactions it does not know.

The built-in AOS runtime is listed as a module under its ID (GetInfo's `runtime_module`) with its own
tags, to which `Input-Encoding` and `Output-Encoding` (`JSON-1`) are added when missing: these are what AO
modules declare, and adding them to the runtime message itself would change its ID (processes name it).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from aonode import ids
from aonode.compute.definition import builtin_runtime_module
from aonode.errors import InvalidArgument, NotFound
from aonode.gateway.common import get_message, json_response, read_json
from aonode.model import Message, Tag
from aonode.node import Node

MAX_IDS = 100
_IDS = re.compile(r"ids\s*:\s*\[([^\]]*)\]")
_ID = re.compile(r"[A-Za-z0-9_-]{43}")
_MODULE_DEFAULTS = (("Input-Encoding", "JSON-1"), ("Output-Encoding", "JSON-1"))


def requested_ids(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise InvalidArgument('body: a GraphQL request, {"query": ..., "variables": {...}}')
    found: list[str] = []
    variables = body.get("variables")
    if isinstance(variables, dict):
        for value in variables.values():
            if isinstance(value, list):
                found += [v for v in value if isinstance(v, str)]
            elif isinstance(value, str) and ids.is_id(value):
                found.append(value)
    if not found:
        for group in _IDS.findall(body["query"]):
            found += _ID.findall(group)
    if len(found) > MAX_IDS:
        raise InvalidArgument(f"at most {MAX_IDS} ids per query")
    return found


def runtime_view() -> Message | None:
    runtime = builtin_runtime_module()
    if runtime is None:
        return None
    extra = tuple(Tag(n, v) for n, v in _MODULE_DEFAULTS if runtime.tag(n) is None)
    return Message(tags=runtime.tags + extra, data=runtime.data) if extra else runtime


def transaction_node(message_id: str, message: Message) -> dict[str, Any]:
    sig = message.signature
    return {
        "id": message_id,
        "owner": {
            "address": "" if sig is None else str(sig.address),
            "key": "" if sig is None else ids.b64url_encode(sig.owner),
        },
        "recipient": message.target,
        "anchor": message.anchor,
        "signature": "" if sig is None else ids.b64url_encode(sig.value),
        "tags": [{"name": t.name, "value": t.value} for t in message.tags],
        "data": {"size": str(len(message.data)), "type": message.tag("Content-Type")},
        "block": None,
    }


async def answer(node: Node, request: web.Request) -> web.Response:
    wanted = requested_ids(await read_json(request))
    runtime = builtin_runtime_module()
    runtime_id = ids.encode_id(runtime.id) if runtime is not None else None
    edges = []
    for text in wanted:
        message: Message | None
        if text == runtime_id:
            message = runtime_view()
        else:
            try:
                message = await get_message(node, ids.decode_id(text, "id"))
            except (NotFound, InvalidArgument):
                message = None
        if message is not None:
            edges.append({"cursor": text, "node": transaction_node(text, message)})
    return json_response({"data": {"transactions": {"pageInfo": {"hasNextPage": False}, "edges": edges}}})
