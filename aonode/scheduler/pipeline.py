"""The write pipeline of one node's schedules: allocate, sign, write in slot order, settle.

Per process (`_Proc`) there are three positions: the *tip* (last slot allocated), the *submitted* head
(last slot handed to the store; its head record is what the next write must find), and *committed* (last
slot known durable). Allocation, submission and settling all run on the event loop, so each is atomic.

1. `allocate` gives a checked message the slot after the tip (chain = blake3(tip chain ‖ message ID),
   timestamp = max(clock, tip's)) and appends the job to the process's queue (slot order).
2. Jobs are signed either inline (unary calls) or by a worker thread (bulk: `cryptography` signs without
   the GIL), so a queue may hold unsigned jobs for a moment.
3. `flush` writes the signed prefix of the queue, in slot order: consecutive jobs go into ONE
   `WriteBatch` (message + assignment objects, the three index rows per job, the new head) guarded by
   `require(heads, process, <submitted head record>)`, and the submitted head moves on at once, so writes
   are pipelined into the store's group commit without waiting for each other.
4. `settle` (the store's writer thread hops to the loop) answers each caller after its batch is durable.
   A failed batch means every later batch of the process fails its precondition (the head they require
   never committed). The first failure of a *generation* reloads the positions from the store's head
   and starts a new generation; the jobs of later batches (older generation) are cascades and are
   re-allocated without spending their retry budget, after re-checking that they did not commit
   meanwhile. Jobs still queued from an older generation are re-allocated when they reach the front.
So a slot is acknowledged only once committed, slots stay dense, and the chain stays valid whatever fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future as ThreadFuture
from dataclasses import dataclass, field

from aonode.codec import encode_assignment
from aonode.crypto import Signer, sign_assignment
from aonode.errors import AonodeError
from aonode.ids import MessageId, ProcessId, next_hash_chain
from aonode.model import Assignment, Message
from aonode.scheduler import layout
from aonode.scheduler.config import BlockSource, clock_block
from aonode.scheduler.layout import HeadRecord
from aonode.scheduler.reads import stored_head
from aonode.scheduler.recent import RecentSlots
from store import ConflictError, ObjectStore, StoreError, StoreFullError, WriteBatch, u64

# One batch carries at most this many assignments / bytes: large enough to amortise the per-batch costs,
# small enough that one failure (a full store) takes few messages with it.
MAX_BATCH_JOBS = 256
MAX_BATCH_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class Checked:
    """A message that passed validation and its signature check, with its ID, its stored encoding, the
    process it goes to, and what the store said when it was checked: whether that process has a schedule
    and the message's assignment on it if it already has one (the idempotency lookup, done on the worker
    so the event loop never waits for a store read)."""

    message: Message
    id: MessageId
    encoded: bytes
    pid: ProcessId
    known_process: bool
    existing: Assignment | None


@dataclass(slots=True)
class Job:
    """One allocation of one message to one slot. `encoded` is set (after `assignment` is replaced by the
    signed one) once signed; `error` if signing failed."""

    proc: Proc
    checked: Checked
    outer: asyncio.Future[Assignment]
    generation: int
    retries: int
    assignment: Assignment
    encoded: bytes | None = None
    error: BaseException | None = None
    solo: bool = False  # written in a batch of its own (after its shared batch did not fit the store)


@dataclass
class Proc:
    """One schedule's in-memory positions (see the module docstring). `sub_value` is the head record the
    next write requires (None: the process has no head yet)."""

    pid: ProcessId
    tip_slot: int = -1
    tip_chain: bytes = b""
    tip_ts: int = 0
    sub_slot: int = -1
    sub_chain: bytes = b""
    sub_ts: int = 0
    sub_value: bytes | None = None
    committed: int = -1
    generation: int = 0
    stale: bool = False
    queue: deque[Job] = field(default_factory=deque)
    pending: dict[bytes, asyncio.Future[Assignment]] = field(default_factory=dict)
    waiters: set[asyncio.Future[None]] = field(default_factory=set)

    def load(self, head: HeadRecord | None) -> None:
        """Set every position to the stored head (or to "no schedule")."""
        if head is None:
            self.sub_slot, self.sub_chain, self.sub_ts, self.sub_value = -1, self.pid, 0, None
        else:
            self.sub_slot, self.sub_chain, self.sub_ts = head.slot, head.hash_chain, head.timestamp
            self.sub_value = head.encode()
        self.rewind()
        self.committed = max(self.committed, self.sub_slot)
        self.stale = False

    def rewind(self) -> None:
        """Forget allocations not yet submitted: the tip goes back to the submitted head."""
        self.tip_slot, self.tip_chain, self.tip_ts = self.sub_slot, self.sub_chain, self.sub_ts

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, set()
        for w in waiters:
            if not w.done():
                w.set_result(None)


class Pipeline:
    """Allocation, signing, writing and settling for every process of one scheduler."""

    def __init__(
        self,
        store: ObjectStore,
        signer: Signer,
        clock: Callable[[], int],
        blocks: BlockSource | None,
        *,
        committed: Callable[[MessageId, bytes], Assignment | None],
        vanished: Callable[[bytes], AonodeError],
        finish: Callable[[Proc, bytes, asyncio.Future[Assignment], Assignment | BaseException], None],
        recent: RecentSlots,
        spawned: Callable[[ProcessId], None] | None = None,
    ) -> None:
        self._store = store
        self._signer = signer
        self._clock = clock
        self._blocks = blocks
        self._committed = committed  # the idempotency lookup, re-checked before a re-allocation
        self._vanished = vanished  # the error for a message whose process never committed
        self._finish = finish
        self._recent = recent  # committed pairs, for the reads that follow (recent.py)
        self._spawned = spawned  # told when a process's first slot commits (replication's `all`)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.committed_slots = 0  # slots assigned here and durable (the node's metrics read it)

    # -- allocate and sign ---------------------------------------------------------------------------------

    def allocate(
        self,
        proc: Proc,
        checked: Checked,
        outer: asyncio.Future[Assignment],
        retries: int,
        solo: bool = False,
    ) -> Job:
        mid = checked.id
        slot = proc.tip_slot + 1
        chain = next_hash_chain(proc.tip_chain, mid)
        timestamp = max(self._clock(), proc.tip_ts)
        block = self._blocks.current() if self._blocks is not None else clock_block(timestamp)
        unsigned = Assignment(
            process=proc.pid,
            slot=slot,
            message=mid,
            timestamp=timestamp,
            block_height=block.height,
            block_hash=block.hash,
            epoch=0,
            hash_chain=chain,
        )
        proc.tip_slot, proc.tip_chain, proc.tip_ts = slot, chain, timestamp
        job = Job(proc, checked, outer, proc.generation, retries, unsigned, solo=solo)
        proc.queue.append(job)
        return job

    def sign(self, jobs: Sequence[Job]) -> None:
        """Sign `jobs` (any thread). `assignment` is replaced before `encoded` is set, so the loop, which
        only looks at `encoded`, never sees half a job."""
        for job in jobs:
            try:
                signed = sign_assignment(job.assignment, self._signer)
                encoded = encode_assignment(signed)
            except Exception as exc:
                job.error = exc
                continue
            job.assignment = signed
            job.encoded = encoded

    def signed_elsewhere(self, jobs: Sequence[Job], fut: asyncio.Future[None]) -> None:
        """Done-callback of a worker's `sign`: flush what it signed (mark everything if it failed)."""
        if fut.cancelled() or fut.exception() is not None:
            exc = RuntimeError("signing worker failed") if fut.cancelled() else fut.exception()
            for job in jobs:
                if job.encoded is None and job.error is None:
                    job.error = exc
        for proc in {id(j.proc): j.proc for j in jobs}.values():
            self.flush(proc)

    # -- write ---------------------------------------------------------------------------------------------

    def flush(self, proc: Proc) -> None:
        """Write the signed front of `proc`'s queue in slot order."""
        group: list[Job] = []
        size = 0
        queue = proc.queue
        while queue and (queue[0].encoded is not None or queue[0].error is not None):
            job = queue.popleft()
            if job.generation != proc.generation:
                self._reassign(job, job.retries, job.solo)  # allocated before a failure: its slot is void
                continue
            if job.error is not None:
                self._write(proc, group)
                group, size = [], 0
                self._finish(proc, job.checked.id, job.outer, job.error)
                proc.rewind()  # the jobs behind it were allocated past a slot that will never be written
                proc.generation += 1
                continue
            if job.solo:
                self._write(proc, group)
                group, size = [], 0
            group.append(job)
            size += len(job.checked.encoded)
            if job.solo or len(group) >= MAX_BATCH_JOBS or size >= MAX_BATCH_BYTES:
                self._write(proc, group)
                group, size = [], 0
        self._write(proc, group)

    def _write(self, proc: Proc, group: list[Job]) -> None:
        if not group:
            return
        pid = proc.pid
        batch = WriteBatch()
        batch.require(layout.HEADS, pid, proc.sub_value)
        digest = b""
        for job in group:
            a, mid = job.assignment, job.checked.id
            assert job.encoded is not None
            # The store-level guard of idempotency: a message is assigned on a process at most once, even
            # if it committed between its lookup on the worker and its allocation here.
            batch.require(layout.ASSIGNED, layout.assigned_key(mid, pid), None)
            batch.put(layout.MESSAGES, mid, batch.put_object(job.checked.encoded))
            digest = batch.put_object(job.encoded)
            batch.put(layout.ASSIGNMENTS, layout.slot_key(pid, a.slot), digest)
            batch.put(layout.ASSIGNED, layout.assigned_key(mid, pid), u64(a.slot))
        last = group[-1].assignment
        head = HeadRecord(last.slot, last.hash_chain, last.timestamp, digest).encode()
        batch.put(layout.HEADS, pid, head)
        generation = proc.generation
        try:
            fut = self._store.submit(batch)
        except Exception as exc:  # nothing was queued: the slots after the submitted head are void
            for job in group:
                self._finish(proc, job.checked.id, job.outer, exc)
            proc.rewind()
            proc.generation += 1
            return
        proc.sub_slot, proc.sub_chain, proc.sub_ts, proc.sub_value = (
            last.slot,
            last.hash_chain,
            last.timestamp,
            head,
        )
        fut.add_done_callback(lambda f: self._from_writer(proc, group, generation, f))

    def _from_writer(self, proc: Proc, group: list[Job], generation: int, fut: ThreadFuture[None]) -> None:
        # Runs on the store's writer thread (or inline if the batch failed at once): hop to the loop.
        assert self.loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to answer
            self.loop.call_soon_threadsafe(self._settle, proc, group, generation, fut)

    # -- settle --------------------------------------------------------------------------------------------

    def _settle(self, proc: Proc, group: list[Job], generation: int, fut: ThreadFuture[None]) -> None:
        exc = fut.exception()
        if exc is None:
            self.committed_slots += len(group)
            last = group[-1].assignment.slot
            if last > proc.committed:
                new = proc.committed < 0
                proc.committed = last
                proc.wake()
                if new and self._spawned is not None:
                    self._spawned(proc.pid)
            self._recent.add(
                proc.pid, [(j.assignment, j.checked.message, len(j.checked.encoded)) for j in group]
            )
            for job in group:
                self._finish(proc, job.checked.id, job.outer, job.assignment)
            return
        # A failure in an older generation is a cascade of an earlier failure of this process (the head it
        # required never committed): re-allocate without spending retries. A failure in the current one is
        # the first of a cascade (or another writer moved the head): reload the positions from the store.
        cascade = generation != proc.generation
        if not cascade:
            self.reload(proc)
        # A shared batch that did not fit the store is retried one message per batch, so exactly the
        # messages that do not fit fail (as the store itself does with batches).
        split = isinstance(exc, StoreFullError) and len(group) > 1
        for job in group:
            retries = job.retries if cascade or split else job.retries - 1
            if (split or isinstance(exc, ConflictError)) and retries >= 0 and not self.closed:
                self._reassign(job, retries, job.solo or split)
            else:
                self._finish(proc, job.checked.id, job.outer, exc)
        self.flush(proc)

    def _reassign(self, job: Job, retries: int, solo: bool) -> None:
        """Give `job`'s message a new slot at the tip, unless it committed meanwhile or its process is gone.
        The new job is signed inline (a rare path) and queued; the caller flushes."""
        proc, mid = job.proc, job.checked.id
        try:
            existing = self._committed(mid, proc.pid)
        except AonodeError as err:
            self._finish(proc, mid, job.outer, err)
            return
        if existing is not None:
            self._finish(proc, mid, job.outer, existing)
        elif proc.tip_slot < 0 and not job.checked.message.is_process:
            self._finish(proc, mid, job.outer, self._vanished(proc.pid))
        else:
            self.sign([self.allocate(proc, job.checked, job.outer, retries, solo)])

    def reload(self, proc: Proc) -> None:
        """New generation, positions from the store's head (or marked stale if the store cannot be read)."""
        proc.generation += 1
        proc.stale = True
        # If the store cannot be read the process stays stale, and its next use tries again.
        with contextlib.suppress(StoreError), self._store.read() as view:
            proc.load(stored_head(view, proc.pid))
