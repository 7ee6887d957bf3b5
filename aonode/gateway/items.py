"""The gateway's view of request bodies that carry a message: ANS-104 data items (what aoconnect and
Arweave wallets sign), parsed and verified by `aonode.ans104` (the gateway never parses items itself).

`parse_item` decodes and checks the limits; the signature is verified where the message goes (the
scheduler verifies everything it schedules or stores, by format, as for gRPC), so an item is verified
once, not twice; `verify=True` verifies here, for routes that only read an item (monitor).
"""

from __future__ import annotations

import asyncio

from aonode import ans104
from aonode.errors import InvalidArgument
from aonode.model import Message


def parse_item(body: bytes, verify: bool = False) -> Message:
    """The message in `body`; InvalidArgument (400) for anything that is not a data item within the
    limits (or, with `verify`, not correctly signed)."""
    if not body:
        raise InvalidArgument("body: expected an ANS-104 data item, got nothing")
    if not ans104.is_ans104(body):
        raise InvalidArgument("body: not an ANS-104 data item (unknown signature type)")
    item = ans104.decode(body)
    item.validate()
    if verify:
        ans104.verify(item)
    return item


async def parse_item_async(body: bytes, verify: bool = False) -> Message:
    """`parse_item` off the event loop when the body is large (decoding copies it)."""
    if len(body) < 1 << 16 and not verify:
        return parse_item(body)
    return await asyncio.to_thread(parse_item, body, verify)
