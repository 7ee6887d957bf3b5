"""The gateway's view of request bodies that carry a message: ANS-104 data items (what aoconnect and
Arweave wallets sign), parsed and verified by `aonode.ans104` (the gateway never parses items itself).

`parse_item` is called off the event loop (`to_thread`): an RSA-4096 verification takes about a
millisecond, and a body may be as large as `max_message_bytes`.
"""

from __future__ import annotations

import asyncio

from aonode import ans104
from aonode.errors import InvalidArgument
from aonode.model import Message


def parse_item(body: bytes) -> Message:
    """The verified message in `body`; InvalidArgument (400) for anything that is not a valid, correctly
    signed data item within the limits."""
    if not body:
        raise InvalidArgument("body: expected an ANS-104 data item, got nothing")
    if not ans104.is_ans104(body):
        raise InvalidArgument("body: not an ANS-104 data item (unknown signature type)")
    return ans104.parse(body)


async def parse_item_async(body: bytes) -> Message:
    return await asyncio.to_thread(parse_item, body)
