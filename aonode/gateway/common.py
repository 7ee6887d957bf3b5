"""Helpers shared by the gateway's route modules: parsing a request's numbers and IDs, reading bodies,
JSON answers, and leased reads of message bodies (the read budget, as the gRPC reads use it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web

from aonode import ids
from aonode.crypto import Ed25519Signer, sign_message
from aonode.errors import InvalidArgument
from aonode.metrics.http import ROUTE_KEY as ROUTE_KEY
from aonode.model import Message
from aonode.node import Node
from aonode.scheduler.budget import ReadLease, read_leased

T = TypeVar("T")

MAX_U63 = (1 << 63) - 1
BODY_SECONDS = 60.0
"""How long a request body may take to arrive by default (`[gateway] body_seconds`): a client that
trickles one holds a handler, not more."""
BODY_SECONDS_KEY = web.AppKey("body_seconds", float)
# ROUTE_KEY (aonode.metrics.http): the route a request was served by, a fixed name (`process/compute`,
# `results`, ...), never text from the request; the metrics middleware labels request counts with it.
JSON_BODY_LIMIT = 1 << 20
"""Bytes of a JSON request body (GraphQL queries, dry-runs): far above what a real one takes."""


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return encoded_json_response(json_bytes(body), status, headers)


def encoded_json_response(
    encoded: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An answer whose JSON is already encoded (off the event loop, for the large ones: schedule pages,
    result lists)."""
    return web.Response(body=encoded, status=status, content_type="application/json", headers=headers)


def text_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain")


def parse_int(value: str | None, what: str, default: int | None = None) -> int | None:
    """A non-negative decimal within 2^63-1, `default` when absent. InvalidArgument otherwise."""
    if value is None or value == "":
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > MAX_U63:
        raise InvalidArgument(f"{what}: expected a number from 0 to 2^63-1, got {value[:40]!r}")
    return int(text)


def parse_id(text: str | None, what: str) -> bytes:
    if not text:
        raise InvalidArgument(f"{what}: required (a 43-character ID)")
    return ids.decode_id(text, what)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes (413) before reading it when the length is
    declared; aiohttp's `client_max_size` bounds a chunked one while it is read."""
    length = request.content_length
    if length is not None and length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
    seconds = request.config_dict.get(BODY_SECONDS_KEY, BODY_SECONDS)
    try:
        async with asyncio.timeout(seconds):
            body = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text=f"the body did not arrive within {seconds:g} s") from None
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return body


async def read_json(request: web.Request) -> Any:
    """The JSON body (at most JSON_BODY_LIMIT bytes)."""
    body = await read_body(request, JSON_BODY_LIMIT)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"body: not JSON ({exc})") from None


async def leased(node: Node, read: Callable[[ReadLease], T]) -> tuple[T, ReadLease]:
    """`read(lease)` on the scheduler's read executor, charged to the read budget (`read_leased`). The
    caller closes the lease once its answer is written."""
    scheduler = node.scheduler
    return await read_leased(scheduler.read_executor, scheduler.read_budget, read)


async def get_message(node: Node, message_id: bytes) -> Message:
    """A stored message, charged to the read budget while it is held (released on return: the caller
    turns it into its answer at once)."""
    message, lease = await leased(node, lambda lease: node.scheduler.get_message(message_id, lease))
    lease.close()
    return message


def anonymous(message: Message) -> Message:
    """A dry-run's message signed by a key made for this request alone. The process then sees a sender
    (AOS trusts a message signed by its own sender, and refuses one with no owner at all) whose key
    nobody holds: never an address the requester claims (a dry-run's `Owner` is not proven, and no
    request may make a process see a `From` whose key the requester does not hold)."""
    return sign_message(message, Ed25519Signer.generate())


def owner_text(message: Message) -> str:
    return "" if message.owner_address is None else str(message.owner_address)
