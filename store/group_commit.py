"""Group commit: one writer thread turns many callers' batches into few transactions.

Callers `submit` a batch and get a Future. The writer thread waits for the queue to be non-empty, takes
as many queued batches as fit under `max_group_ops` / `max_group_bytes` (at least one), and hands them,
in FIFO order, to the backend's `commit` function, which applies them in one transaction and commits once.
Futures are resolved only after that commit, so an acknowledgement always follows a durable commit.
Batches arriving while a commit is in flight simply form the next group: no timer, no added latency when
the store is idle, and groups as large as the load makes them.

One refinement: when more batches are already queued, group N's callers are answered just before group
N+1 commits (after its ops are applied) rather than right after N's commit; see `_run` for why.

`commit` returns one outcome per batch (None: committed; an exception: that batch failed and nothing of
it was written). If `commit` itself raises, every batch of the group fails with that error wrapped in a
StoreError; the writer thread never dies from a backend error and never leaves a caller waiting.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from store.base import ConflictError, StoreClosedError, StoreError, WriteBatch

CommitFn = Callable[[Sequence[WriteBatch], Callable[[], None]], Sequence[BaseException | None]]
"""commit(batches, flush) -> one outcome per batch. `flush` answers the previous group's callers; the
backend calls it once its ops are applied, right before committing, and before anything that may wait
(its callers may hold read views). Calling it again is harmless; the committer calls it afterwards too."""


class GroupCommitter:
    def __init__(
        self,
        commit: CommitFn,
        *,
        max_group_ops: int,
        max_group_bytes: int,
        name: str,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        if max_group_ops < 1 or max_group_bytes < 1:
            raise ValueError("max_group_ops and max_group_bytes must be >= 1")
        self._commit = commit
        self._max_ops = max_group_ops
        self._max_bytes = max_group_bytes
        self._on_exit = on_exit
        self._cond = threading.Condition()
        self._queue: deque[tuple[WriteBatch, Future[None]]] = deque()
        self._closing = False
        self.groups = 0
        self.batches = 0
        self.ops = 0
        self.bytes = 0
        self.conflicts = 0
        self.failed = 0
        self.cancelled = 0
        self.max_group_batches = 0
        # Daemon: an interpreter exiting without close() must not hang on the writer; what is still
        # queued then was never acknowledged, so nothing acknowledged is lost.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def closing(self) -> bool:
        return self._closing

    def on_writer_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def counters(self) -> dict[str, int]:
        """The writer's counters, as both backends report them in `stats()`."""
        return {
            "groups": self.groups,
            "batches": self.batches,
            "ops": self.ops,
            "bytes": self.bytes,
            "conflicts": self.conflicts,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "max_group_batches": self.max_group_batches,
            "queued": self.queued(),
        }

    def queued(self) -> int:
        return len(self._queue)

    def submit(self, batch: WriteBatch) -> Future[None]:
        fut: Future[None] = Future()
        with self._cond:
            if self._closing:
                raise StoreClosedError("store is closed")
            if not self._thread.is_alive():
                raise StoreError("the store's writer thread is gone")
            batch._frozen = True
            self._queue.append((batch, fut))
            self._cond.notify()
        return fut

    def close(self) -> None:
        """Stop taking batches, let the writer drain the queue, and wait for it (unless called from the
        writer itself, e.g. from a future's callback: then it stops after the current group)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if not self.on_writer_thread():
            self._thread.join()

    def _next_group(self, wait: bool) -> list[tuple[WriteBatch, Future[None]]] | None:
        """The next group, FIFO, within the size limits; None if the queue is empty and we may not
        wait (or the committer is closing)."""
        with self._cond:
            while wait and not self._queue and not self._closing:
                self._cond.wait()
            if not self._queue:
                return None
            group = [self._queue.popleft()]
            ops, nbytes = len(group[0][0]), group[0][0].nbytes
            while self._queue:
                batch = self._queue[0][0]
                if ops + len(batch) > self._max_ops or nbytes + batch.nbytes > self._max_bytes:
                    break
                group.append(self._queue.popleft())
                ops += len(batch)
                nbytes += batch.nbytes
            return group

    def _run(self) -> None:
        # A committed group whose callers are not answered yet. When more batches are queued, the
        # callers of group N are answered only once group N+1's ops are applied (the backend calls
        # `flush` just before its commit): py-lmdb releases the GIL around every put, and callers woken
        # earlier would be competing for it with those puts. Answering them right before the next fsync
        # instead lets them build their next batches while it runs. When the queue is empty they are
        # answered at once.
        unanswered: list[tuple[Future[None], BaseException | None]] = []

        def flush() -> None:
            pending, unanswered[:] = unanswered[:], []
            for fut, outcome in pending:
                if outcome is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(outcome)

        try:
            while True:
                group = self._next_group(wait=not unanswered)
                if group is None:
                    if not unanswered:
                        return  # closing, and everything is answered
                    flush()
                    continue
                outcomes = self._commit_group(group, flush)
                flush()
                unanswered.extend(outcomes)
        finally:
            flush()
            if self._on_exit is not None:
                self._on_exit()

    def _commit_group(
        self, group: list[tuple[WriteBatch, Future[None]]], flush: Callable[[], None]
    ) -> list[tuple[Future[None], BaseException | None]]:
        live = []
        for batch, fut in group:
            if fut.set_running_or_notify_cancel():
                live.append((batch, fut))
            else:
                self.cancelled += 1
        if not live:
            return []
        batches = [b for b, _ in live]
        outcomes: Sequence[BaseException | None]
        try:
            outcomes = self._commit(batches, flush)
            if len(outcomes) != len(batches):
                raise AssertionError(f"commit returned {len(outcomes)} outcomes for {len(batches)} batches")
        except BaseException as e:  # the writer must survive anything and answer everyone
            outcomes = [_wrap(e) for _ in batches]
        self.groups += 1
        self.max_group_batches = max(self.max_group_batches, len(batches))
        for batch, outcome in zip(batches, outcomes, strict=True):
            if outcome is None:
                self.batches += 1
                self.ops += len(batch)
                self.bytes += batch.nbytes
            elif isinstance(outcome, ConflictError):
                self.conflicts += 1
            else:
                self.failed += 1
        return [(fut, outcome) for (_, fut), outcome in zip(live, outcomes, strict=True)]


def _wrap(e: BaseException) -> StoreError:
    # A fresh exception per caller: one instance raised in several threads would share a traceback.
    if isinstance(e, StoreError):
        err = type(e)(*e.args)
    else:
        err = StoreError(f"write failed: {type(e).__name__}: {e}")
    err.__cause__ = e
    return err
