"""Small asyncio helpers shared by the domain services."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future


async def durable(future: Future[None]) -> None:
    """Wait, on the event loop, for a store write (`ObjectStore.submit`) to be durable. Cancelling the
    waiter does not cancel the write: a batch handed to the writer commits whatever happens to its caller."""
    await asyncio.shield(asyncio.wrap_future(future))
