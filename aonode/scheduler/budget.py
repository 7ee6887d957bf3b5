"""The node-wide read budget: how many bytes of message bodies the node holds for readers at once.

A read that returns message bodies to a client (a GetSchedule page or SubscribeSchedule frame with
messages, a GetMessage) holds those bytes, in a few copies, from the moment it loads them until gRPC has
sent them, and a client that reads slowly or not at all keeps them in the node for as long as it likes.
Per-call byte limits alone do not bound the node: 2,048 calls each holding one 15 MiB message would be
30 GiB. So every such read takes a `ReadLease` on the one `ReadBudget` (default 64 MiB) for the stored
size of each message *before* it keeps the message, and gives the lease back when the response has been
sent (the stream's write returned, the unary call finished) or the call ended. Memory held for readers is
therefore at most a small multiple of the budget, whatever the readers do.

Rules that keep this deadlock-free and fair enough:
- a read loads messages one at a time and takes each message's bytes with `try_take` (never waits while
  it holds an LMDB read view: views block the store's map growth); a message that does not fit ends the
  page or frame there, unless it is the first: then the read drops it and raises `NeedBudget`, and the
  wire layer waits for that many bytes outside any view (`ReadLease.take`) and reads again;
- a request for more than the whole budget is cut to the whole budget, so one message larger than the
  budget still goes out, alone, once nothing else is held;
- first come, first served: while a read waits, `try_take` refuses everyone else and bytes given back
  go to the waiters in order, so a big message is not starved by a stream of small reads;
- waiting is bounded (`read_wait_seconds`): a reader that cannot get its bytes in time gets
  RESOURCE_EXHAUSTED (retry later) instead of queueing forever behind readers that do not read.
Readers that never read thus deny other readers of message bodies for at most the wait (they are
answered RESOURCE_EXHAUSTED), but cannot grow the node.

`try_take` and `give_back` are thread-safe (reads run on worker threads); waiting happens on the event
loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

from aonode.errors import ResourceExhausted

T = TypeVar("T")


class ReadBudgetExhausted(ResourceExhausted):
    """The node's read budget stayed in use by other readers for the whole wait."""


class NeedBudget(Exception):
    """The first message of a page or frame needs `size` bytes the lease could not take without waiting."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a read needs {size} bytes of the read budget")
        self.size = size


@dataclass(eq=False)
class _Waiter:
    size: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False


class ReadBudget:
    """A byte semaphore, first come first served: while a read waits, no other takes bytes past it (a big
    message is not starved by a stream of small reads); bytes given back go to the waiters in order."""

    def __init__(self, capacity: int, wait_seconds: float = 10.0) -> None:
        self.capacity = max(1, capacity)
        self.wait_seconds = wait_seconds
        self._used = 0
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()

    @property
    def in_use(self) -> int:
        return self._used

    def try_take(self, n: int) -> int | None:
        """Take `n` bytes (cut to the capacity) if they are free now and nobody waits; returns what was
        taken, or None."""
        n = min(n, self.capacity)
        with self._lock:
            if self._waiters or self._used + n > self.capacity:
                return None
            self._used += n
            return n

    def give_back(self, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            self._used = max(0, self._used - n)
            self._grant()

    def _grant(self) -> None:
        """Hand free bytes to the waiters in order (under the lock)."""
        while self._waiters and self._used + self._waiters[0].size <= self.capacity:
            waiter = self._waiters.popleft()
            self._used += waiter.size
            waiter.granted = True
            waiter.loop.call_soon_threadsafe(_wake, waiter.future)

    async def take(self, n: int) -> int:
        """Wait (at most `wait_seconds`) until `n` bytes (cut to the capacity) are free and take them."""
        loop = asyncio.get_running_loop()
        n = min(n, self.capacity)
        with self._lock:
            if not self._waiters and self._used + n <= self.capacity:
                self._used += n
                return n
            waiter = _Waiter(n, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), self.wait_seconds)
        except BaseException as exc:  # timed out or cancelled
            with self._lock:
                if waiter.granted:  # granted meanwhile: the bytes are ours
                    if isinstance(exc, TimeoutError):
                        return n
                    self._used -= n
                else:
                    self._waiters.remove(waiter)
                self._grant()  # the head of the queue may have changed
            if isinstance(exc, TimeoutError):
                raise ReadBudgetExhausted(
                    f"the node's read budget ({self.capacity} bytes of message bodies) stayed in use by "
                    f"other readers for {self.wait_seconds:g} s: retry later"
                ) from None
            raise
        return n


class ReadLease:
    """The bytes one read holds on the budget; `release` gives them all back (the lease stays usable),
    `close` gives them back for good: a read still running on a worker thread when its call was
    cancelled can then take nothing more (its `try_take` answers False)."""

    def __init__(self, budget: ReadBudget) -> None:
        self.budget = budget
        self.held = 0
        self._credit = 0  # taken by `take` ahead of the read that will use it
        self._closed = False
        self._lock = threading.Lock()  # a worker thread takes while the loop may close

    def try_take(self, n: int) -> bool:
        """Take `n` bytes for a message about to be kept: from the credit a wait left, else the budget."""
        n = min(n, self.budget.capacity)
        with self._lock:
            if self._closed:
                return False
            if self._credit >= n:
                self._credit -= n
                return True
            taken = self.budget.try_take(n)
            if taken is None:
                return False
            self.held += taken
            return True

    async def take(self, n: int) -> None:
        """Wait for `n` bytes, kept as credit for the next `try_take` (the read that needed them)."""
        taken = await self.budget.take(n)
        with self._lock:
            self.held += taken
            self._credit += taken
            closed = self._closed
        if closed:
            self.release()

    def release(self) -> None:
        with self._lock:
            held, self.held, self._credit = self.held, 0, 0
        self.budget.give_back(held)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.release()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def read_leased(
    executor: Executor, budget: ReadBudget, read: Callable[[ReadLease], T]
) -> tuple[T, ReadLease]:
    """`read(lease)` on `executor`, waiting (outside any read view) for the bytes it asks for when it
    raises NeedBudget, then reading again. Returns the answer and its lease, which the caller gives back
    once the answer is sent; on failure the lease is given back here."""
    lease = ReadLease(budget)
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                return await loop.run_in_executor(executor, read, lease), lease
            except NeedBudget as need:
                await lease.take(need.size)
    except BaseException:
        lease.close()
        raise
