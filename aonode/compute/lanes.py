"""Where computations run: admission to the compute threads (`Lanes`, on the event loop) and the threads
themselves (`DaemonPool`).

Fairness (docs/compute.md, Fairness). A computation holds one process's lock for its whole run, so one
process never runs on two threads; what must not happen is that a few slow processes hold every thread
while a trivial request of another process waits behind them. So a computation starts in a *fast lane*
(`threads` of them) and leaves it after `slow_after` seconds while it goes on running on its thread; a new
computation waits only while every fast lane holds one that started less than `slow_after` ago, or while
`max_threads` computations run in all. Two processes spinning until their wall-clock backstop therefore
leave the fast lanes after a quarter of a second, and a trivial compute of a third process starts at once;
the OS then shares the cores between the threads (lupa and wasmtime release the GIL while they run). What
bounds the slow ones is the per-slot budget, the wall-clock backstop and then the stall of the process
(engine.py).

The pool's threads are daemon threads: a thread stuck in a device can never keep the interpreter from
exiting, and `shutdown` waits for running jobs only up to a deadline (the engine interrupts them first).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonPool:
    """Up to `max_threads` daemon threads running submitted calls; threads are made when no idle one is
    waiting and kept for reuse."""

    def __init__(self, max_threads: int, name: str) -> None:
        self._max = max_threads
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._backlog = 0
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the compute pool is shut down")
            self._backlog += 1
            self._queue.put((fut, fn, args))
            if self._backlog > self._idle and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return fut

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
                if item is not None:
                    self._backlog -= 1
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the waiting caller
                fut.set_exception(exc)

    @property
    def threads(self) -> int:
        return len(self._threads)

    def shutdown(self, timeout: float) -> bool:
        """Cancel queued calls, let running ones finish for up to `timeout` seconds; True when every
        thread ended (the others are daemons: they do not hold up the interpreter's exit)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)


class Ticket:
    """A computation's admission: it holds a fast lane until it is released or has run `slow_after`."""

    __slots__ = ("fast", "timer")

    def __init__(self) -> None:
        self.fast = True
        self.timer: asyncio.TimerHandle | None = None


class Lanes:
    """Admission of computations (event-loop side): at most `fast` computations younger than `slow_after`
    seconds and at most `total` in all; waiters are admitted in arrival order."""

    def __init__(self, fast: int, total: int, slow_after: float) -> None:
        self.fast_max = fast
        self.total = total
        self.slow_after = slow_after
        self.fast = 0
        self.running = 0
        self.went_slow = 0
        self._waiters: deque[asyncio.Future[Ticket]] = deque()

    def _can_start(self) -> bool:
        return self.fast < self.fast_max and self.running < self.total

    def _start(self) -> Ticket:
        ticket = Ticket()
        self.fast += 1
        self.running += 1
        ticket.timer = asyncio.get_running_loop().call_later(self.slow_after, self._demote, ticket)
        return ticket

    def _demote(self, ticket: Ticket) -> None:
        if ticket.fast:
            ticket.fast = False
            self.fast -= 1
            self.went_slow += 1
            self._wake()

    def _wake(self) -> None:
        while self._waiters and self._can_start():
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(self._start())

    def release(self, ticket: Ticket) -> None:
        if ticket.timer is not None:
            ticket.timer.cancel()
        if ticket.fast:
            ticket.fast = False
            self.fast -= 1
        self.running -= 1
        self._wake()

    async def acquire(self) -> Ticket:
        if not self._waiters and self._can_start():
            return self._start()
        waiter: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            raise

    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())
