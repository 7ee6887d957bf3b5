"""Signature checks off the event loop: in worker processes (batched), or in threads, or inline.

Verifying an Ed25519 message costs ~150 µs here, about half the CPU a scheduled message costs in all.
`cryptography` releases the GIL while it verifies, but measured on the 2-core machine threads barely
overlap with a busy event loop: every verification needs the GIL back for its Python parts (decode,
validate, digest), and a thread waiting for the GIL waits for the switch interval (5 ms) while the loop
runs Python. Worker processes have no such contention: the parent only encodes the message (~8 µs) and
pays the hand-off (~7 µs per message in chunks of 64).

`ProcessVerifier` batches like a group commit: requests queue up, and whenever a task slot is free (two
per worker, so a worker never waits for its next task) the queue, up to `chunk` requests, goes out as one
task; so a lone request leaves at once and a busy node sends big batches. The pool is started lazily with
the `forkserver` method, so workers are never forked from a process that holds an open LMDB environment
(LMDB forbids using an env across fork).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ProcessPoolExecutor

from aonode.codec import decode_message
from aonode.crypto import verify_message
from aonode.errors import AonodeError
from aonode.model import Message
from aonode.scheduler.errors import UnsignedMessageError


def check_message(message: Message, accept_unsigned: bool) -> None:
    """Validation and the signature check every message passes before anything is written."""
    message.validate()
    if message.signature is None:
        if not accept_unsigned:
            raise UnsignedMessageError("message is unsigned; this node schedules signed messages only")
    else:
        verify_message(message)


def check_encoded(encoded: Sequence[bytes], accept_unsigned: bool) -> list[AonodeError | None]:
    """`check_message` over encoded messages, in a worker process: one result per message."""
    out: list[AonodeError | None] = []
    for raw in encoded:
        try:
            check_message(decode_message(raw), accept_unsigned)
            out.append(None)
        except AonodeError as exc:
            out.append(exc)
    return out


class ProcessVerifier:
    """A pool of `workers` processes checking encoded messages, fed by a batching queue. Used from one
    event loop."""

    def __init__(self, workers: int, chunk: int, accept_unsigned: bool) -> None:
        self._workers = workers
        self._chunk = max(1, chunk)
        self._accept_unsigned = accept_unsigned
        self._pool: ProcessPoolExecutor | None = None
        self._queue: deque[tuple[bytes, asyncio.Future[AonodeError | None]]] = deque()
        self._busy = 0

    def check(self, loop: asyncio.AbstractEventLoop, encoded: bytes) -> asyncio.Future[AonodeError | None]:
        fut: asyncio.Future[AonodeError | None] = loop.create_future()
        self._queue.append((encoded, fut))
        self._pump(loop)
        return fut

    def check_many(
        self, loop: asyncio.AbstractEventLoop, encoded: Sequence[bytes]
    ) -> list[asyncio.Future[AonodeError | None]]:
        futs = []
        for raw in encoded:
            fut: asyncio.Future[AonodeError | None] = loop.create_future()
            self._queue.append((raw, fut))
            futs.append(fut)
        self._pump(loop)
        return futs

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        # Two tasks per worker in flight: a worker starts its next task while the result of the previous
        # one travels back (through the pool's management thread, which needs the GIL, then the loop).
        slots = 2 * self._workers
        while self._queue and self._busy < slots:
            n = min(len(self._queue), self._chunk)
            # Spread a large backlog over the free slots instead of giving it all to the first one.
            idle = slots - self._busy
            if len(self._queue) < self._chunk * idle:
                n = max(1, -(-len(self._queue) // idle))
            batch = [self._queue.popleft() for _ in range(n)]
            try:
                task = self._get_pool().submit(
                    check_encoded, [raw for raw, _ in batch], self._accept_unsigned
                )
            except Exception as exc:  # pool broken or shut down
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            self._busy += 1
            task.add_done_callback(functools.partial(_hop, loop, self._done, loop, batch))

    def _done(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[bytes, asyncio.Future[AonodeError | None]]],
        task: ThreadFuture[list[AonodeError | None]],
    ) -> None:
        self._busy -= 1
        exc = task.exception()
        results: list[AonodeError | None] = task.result() if exc is None else []
        for i, (_, fut) in enumerate(batch):
            if fut.done():
                continue
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(results[i])
        self._pump(loop)

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _hop(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    # A pool future's callback runs on the pool's management thread: continue on the loop.
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to answer
        loop.call_soon_threadsafe(fn, *args)
