"""Live schedule subscriptions: catch up from the store, then follow commits, without a buffer.

A subscription holds only a cursor (`next_slot`). Each step compares it with the process's committed slot
(kept in memory by the scheduler, advanced on the event loop after each durable commit):
- behind: read the next `max_frame` committed assignments from the store and yield them as one batch
  (a backlog goes out several assignments per frame; reads of large frames run on a worker thread so the
  event loop stays responsive);
- caught up: park one waiter future on the process, woken by the next commit, or after
  `heartbeat_seconds` yield an empty batch (progress).
Commits only *notify*; the data always comes from the store. So nothing grows per subscriber: a slow
consumer simply reads a bigger backlog next time (the catch-up path), and there is no way to see a gap, a
duplicate or a reordering. The waiter is removed in a `finally`, so cancelling a consumer leaves nothing
behind; closing the scheduler ends every subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from aonode.scheduler.config import ScheduleBatch

if TYPE_CHECKING:
    from aonode.scheduler.core import Scheduler
    from aonode.scheduler.pipeline import Proc

# Frames larger than this are read on a worker thread (decoding ~1,000 assignments takes milliseconds).
_INLINE_READ = 64

T = TypeVar("T")


class Subscription:
    """An async iterator of `ScheduleBatch`es for one process. `next_slot` is the first slot not yet
    delivered. Ends when the scheduler closes; `close()` ends it early."""

    def __init__(self, scheduler: Scheduler, proc: Proc, from_slot: int, encoded: bool = False) -> None:
        self._scheduler = scheduler
        self._proc = proc
        self.next_slot = from_slot
        self._encoded = encoded
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ScheduleBatch:
        sched, proc = self._scheduler, self._proc
        loop = asyncio.get_running_loop()
        while True:
            if self._closed or sched.closed:
                raise StopAsyncIteration
            head = proc.committed
            if self.next_slot <= head:
                count = min(head - self.next_slot + 1, sched.config.max_frame)
                if self._encoded:
                    encoded = await self._read(sched.read_encoded, count)
                    self.next_slot += len(encoded)
                    return ScheduleBatch((), head, encoded=encoded)
                batch = await self._read(sched.read_assignments, count)
                self.next_slot += len(batch)
                return ScheduleBatch(batch, head)
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

    async def _read(self, read: Callable[[bytes, int, int], list[T]], count: int) -> list[T]:
        if count <= _INLINE_READ:
            return read(self._proc.pid, self.next_slot, count)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, read, self._proc.pid, self.next_slot, count)

    def close(self) -> None:
        """End the subscription (a consumer parked in `__anext__` wakes and stops)."""
        self._closed = True
        if self._waiter is not None:
            _wake(self._waiter)

    async def aclose(self) -> None:
        self.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
