"""Live schedule subscriptions: catch up from the store, then follow commits, without a buffer.

A subscription holds only a cursor (`next_slot`). Each step compares it with the process's committed slot
(kept in memory by the scheduler, advanced on the event loop after each durable commit):
- behind: read the next committed assignments from the store (at most `max_frame`, and at most
  `max_frame_bytes` of stored encodings, messages included when asked for; a larger message goes alone)
  and yield them as one batch (a backlog goes out several assignments per frame; reads of large frames,
  and every read of messages, run on a worker thread so the event loop stays responsive);
- caught up: park one waiter future on the process, woken by the next commit, or after
  `heartbeat_seconds` yield an empty batch (progress).
Commits only *notify*; the data always comes from the store. So nothing grows per subscriber: a slow
consumer simply reads a bigger backlog next time (the catch-up path), and there is no way to see a gap, a
duplicate or a reordering. The waiter is removed in a `finally`, so cancelling a consumer leaves nothing
behind; closing the scheduler ends every subscription.

Message bodies are charged to the node-wide read budget (`budget.py`) through the subscription's one
`ReadLease`: a batch's messages stay charged until the consumer asks for the next batch (the wire layer
does so only once the previous frame was sent) or closes the subscription. A frame whose first message
finds no room waits for it (`read_wait_seconds`; then RESOURCE_EXHAUSTED ends the subscription).
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from aonode.scheduler.budget import NeedBudget, ReadLease
from aonode.scheduler.config import ScheduleBatch

if TYPE_CHECKING:
    from aonode.scheduler.core import Scheduler
    from aonode.scheduler.pipeline import Proc

# Frames larger than this are read on a worker thread (decoding ~1,000 assignments takes milliseconds).
_INLINE_READ = 64


class Subscription:
    """An async iterator of `ScheduleBatch`es for one process. `next_slot` is the first slot not yet
    delivered. Ends when the scheduler closes; `close()` ends it early."""

    def __init__(
        self,
        scheduler: Scheduler,
        proc: Proc,
        from_slot: int,
        encoded: bool = False,
        include_messages: bool = False,
        raw: bool = False,
    ) -> None:
        self._scheduler = scheduler
        self._raw = raw
        self._proc = proc
        self.next_slot = from_slot
        self._encoded = encoded
        self._include_messages = include_messages
        self._lease = ReadLease(scheduler.read_budget)
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ScheduleBatch:
        sched, proc = self._scheduler, self._proc
        loop = asyncio.get_running_loop()
        self._lease.release()  # the previous batch was consumed
        while True:
            if self._closed or sched.closed:
                raise StopAsyncIteration
            head = proc.committed
            if self.next_slot <= head:
                count = min(head - self.next_slot + 1, sched.config.max_frame)
                assignments, messages = await self._read(count)
                self.next_slot += len(assignments)
                if self._raw:
                    return ScheduleBatch((), head, encoded=assignments, raw_messages=messages)
                if self._encoded:
                    return ScheduleBatch((), head, encoded=assignments, messages=messages)
                return ScheduleBatch(assignments, head, messages=messages)
            waiter: asyncio.Future[None] = loop.create_future()
            timer = loop.call_later(sched.config.heartbeat_seconds, _wake, waiter)
            proc.waiters.add(waiter)
            self._waiter = waiter
            try:
                await waiter
            finally:
                timer.cancel()
                proc.waiters.discard(waiter)
                self._waiter = None
            if proc.committed < self.next_slot and not (self._closed or sched.closed):
                return ScheduleBatch((), proc.committed)  # idle: progress heartbeat

    async def _read(self, count: int) -> tuple[list[Any], list[Any]]:
        sched = self._scheduler
        read = functools.partial(
            sched.read_frame,
            self._proc.pid,
            self.next_slot,
            count,
            encoded=self._encoded,
            include_messages=self._include_messages,
            max_bytes=sched.config.max_frame_bytes,
            lease=self._lease if self._include_messages else None,
            raw=self._raw,
        )
        if count <= _INLINE_READ and not self._include_messages:
            return read()
        loop = asyncio.get_running_loop()
        while True:
            try:
                return await loop.run_in_executor(
                    sched.read_executor if self._include_messages else None, read
                )
            except NeedBudget as need:
                await self._lease.take(need.size)  # ReadBudgetExhausted after read_wait_seconds

    def close(self) -> None:
        """End the subscription (a consumer parked in `__anext__` wakes and stops)."""
        self._closed = True
        self._lease.close()
        if self._waiter is not None:
            _wake(self._waiter)

    async def aclose(self) -> None:
        self.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
