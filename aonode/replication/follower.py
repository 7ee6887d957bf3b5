"""One replica: follows a leader's schedules, verifies every frame, stores it, recomputes and compares.

`Follower.run` is a loop: connect (through the `Leader` port), ask for every followed process from its
last stored slot (one slot of overlap, so a leader that rewrote that slot is caught: equivocation), then
for each frame: verify it on a worker thread (`verify.check_frame`), store the verified slots through the
scheduler (`Scheduler.submit_replicated`: the identical bytes, guarded by a precondition on the stored
head), update the status. A network failure or a leader restart is retried with backoff; the stream
resumes at the last stored slot, so nothing is skipped or stored twice. A frame that does not verify
stops the replica for good (state `failed`, the reason, equivocation evidence kept): nothing of it was
stored, and an operator decides what to trust next.

Hand-offs (docs/replication.md): a frame may carry the leader's scheduler records of a process; they are
verified (the owner's signature, against the Process message) and stored by the manager before the frame's
slots are verified, and the chain's `changes` then let the new scheduler's signatures count from the
record's From-Slot. A record that would drop slots this replica holds is refused (the replica fails with
the reason). On connect the follower sends the leader the records it holds, so a leader that was handed
off learns it. `pause`/`forget`/`resume` let the manager take a process out of the follower when this node
is promoted to schedule it.

Recompute and compare (`_compare_loop`): every few seconds, each followed process is computed here up to
its stored slot (the node's own devices), and the leader's result digests for the slots computed on both
sides are compared with the local ones; agreement and divergence are counted, a divergence is logged
with the slot, both digests and the message ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from aonode.codec import decode_assignment, decode_message
from aonode.compute import layout as compute_layout
from aonode.errors import AonodeError
from aonode.ids import decode_id, encode_id
from aonode.model import Assignment, Message
from aonode.replication.handoff import RecordBook, Segment, segments
from aonode.replication.port import FollowFrame, Leader, LeaderFactory
from aonode.replication.verify import Chain, Equivocation, Refused, check_frame, process_scheduler
from aonode.scheduler import Scheduler
from aonode.scheduler.layout import HeadRecord
from aonode.scheduler.reads import read_range_encoded, stored_head, stored_message
from aonode.scheduler.verifier import check_message
from store import ObjectStore
from store import digest as store_digest

if TYPE_CHECKING:
    from aonode.compute import ComputeEngine

log = logging.getLogger("aonode.replication")

BACKOFF_MIN = 0.2
MAX_INFLIGHT = 8  # store batches submitted and not yet durable
BACKOFF_MAX = 5.0
COMPARE_SECONDS = 2.0


@dataclass
class ReplicaSpec:
    """What an operator configured: follow `processes` (or `all`) from `leader`."""

    id: str
    leader: str
    processes: list[bytes]
    all: bool = False
    origin: str = "cli"
    recompute: bool = True
    failed: str = ""  # the reason, once a leader's frame was refused (persisted)


RecordsHandler = Callable[["ReplicaSpec", bytes, Message, list[bytes], int], Awaitable[list[Segment]]]
"""The manager's check and storage of a leader's records of a process: (spec, process, its Process
message, encoded records, last slot held here) → the process's signer changes. Raises `Refused`."""


@dataclass
class ProcessStatus:
    process: bytes
    scheduler: str = ""
    stored_slot: int = -1
    leader_slot: int = -1
    lag_ms: int = 0
    verified: int = 0
    agreed: int = 0
    diverged: int = 0
    compared_slot: int = -1
    last_divergence: str = ""


@dataclass
class ReplicaStatus:
    spec: ReplicaSpec
    state: str
    last_error: str
    processes: list[ProcessStatus]
    equivocations: list[Equivocation] = field(default_factory=list)


class Follower:
    def __init__(
        self,
        spec: ReplicaSpec,
        store: ObjectStore,
        scheduler: Scheduler,
        engine: ComputeEngine | None,
        connect: LeaderFactory,
        *,
        accept_unsigned: bool = False,
        on_failed: Callable[[ReplicaSpec, Refused], Awaitable[None]] | None = None,
        on_new_process: Callable[[ReplicaSpec, bytes], Awaitable[None]] | None = None,
        on_scheduler: Callable[[ReplicaSpec, bytes, str], Awaitable[None]] | None = None,
        on_records: RecordsHandler | None = None,
        book: RecordBook | None = None,
        known: list[bytes] | None = None,
    ) -> None:
        self.spec = spec
        self._store = store
        self._scheduler = scheduler
        self._engine = engine
        self._connect = connect
        self._accept_unsigned = accept_unsigned
        self._on_failed = on_failed
        self._on_new_process = on_new_process
        self._on_scheduler = on_scheduler
        self._on_records = on_records
        self._book = book
        self._run_task: asyncio.Task[None] | None = None
        self.state = "failed" if spec.failed else "connecting"
        self.last_error = spec.failed
        self.chains: dict[bytes, Chain] = {}
        self.status: dict[bytes, ProcessStatus] = {}
        self.equivocations: list[Equivocation] = []
        self._leader: Leader | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        for pid in [*spec.processes, *(known or [])]:
            self.status.setdefault(pid, ProcessStatus(pid))
        self._ignored: set[bytes] = set()
        self._inflight: deque[asyncio.Future[None]] = deque()
        self._broken: BaseException | None = None
        self.commits = 0  # frames stored (tests and the bench wait on it)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.spec.failed:
            return
        for pid in self.status:
            self._claim(pid)
        self.resume()
        if self.spec.recompute and self._engine is not None:
            self._tasks.append(asyncio.create_task(self._compare_loop(), name=f"compare-{self.spec.id}"))

    def resume(self) -> None:
        """(Re)start following (after `pause`): connect and ask from the last stored slots."""
        if self._stopped or self.spec.failed or self._run_task is not None:
            return
        self._run_task = asyncio.create_task(self.run(), name=f"replica-{self.spec.id}")
        self._tasks.append(self._run_task)

    async def pause(self) -> None:
        """Stop following until `resume`: the stream is closed and every batch in flight is durable, so
        the store holds exactly what this replica verified."""
        task, self._run_task = self._run_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if task in self._tasks:
                self._tasks.remove(task)
        await self._disconnect()

    def forget(self, pid: bytes) -> None:
        """Stop replicating `pid` (this node was promoted to schedule it): a leader sending it again
        (`all`) is ignored."""
        self.status.pop(pid, None)
        self.chains.pop(pid, None)
        self._ignored.add(pid)
        if pid in self.spec.processes:
            self.spec.processes.remove(pid)

    def set_changes(self, pid: bytes, changes: list[Segment]) -> None:
        """The signer changes of `pid` after a record reached this node another way (PutSchedulerRecord)."""
        chain = self.chains.get(pid)
        if chain is not None:
            chain.changes = list(changes)
        st = self.status.get(pid)
        if st is not None and changes:
            st.scheduler = changes[-1][1]

    async def stop(self) -> None:
        self._stopped = True
        self._run_task = None
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        await self._disconnect()
        if self.state != "failed":
            self.state = "stopped"

    async def _disconnect(self) -> None:
        """Let the batches in flight settle, then close the leader's connection (`pause`, `stop`)."""
        with contextlib.suppress(Exception):
            await self._drain()
        if self._leader is not None:
            with contextlib.suppress(Exception):
                await self._leader.close()
            self._leader = None

    def snapshot(self) -> ReplicaStatus:
        return ReplicaStatus(
            self.spec,
            self.state,
            self.last_error,
            [self.status[p] for p in sorted(self.status)],
            list(self.equivocations),
        )

    # -- following -----------------------------------------------------------------------------------------

    async def run(self) -> None:
        backoff = BACKOFF_MIN
        while not self._stopped:
            try:
                if self._leader is None:
                    self._leader = self._connect(self.spec.leader)
                self.state = "connecting"
                cursors = {pid: max(0, self._chain(pid).next_slot - 1) for pid in self.status}
                held = await asyncio.to_thread(self._held_records, list(cursors))
                async for frames in _merged(self._leader.follow(cursors, self.spec.all, held)):
                    if self.state != "following":
                        self.state, self.last_error, backoff = "following", "", BACKOFF_MIN
                    for frame in frames:
                        await self._apply(frame)
                await self._drain()
                self.last_error = "leader ended the stream"
            except Refused as refused:
                await self._drain()  # what verified before the refused frame stays stored
                await self._fail(refused)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the leader is unreachable, restarting, or answered an error
                await self._drain()
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.info("replica %s: %s; retrying in %.1fs", self.spec.id, self.last_error, backoff)
            self.state = "connecting"
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)

    async def _apply(self, frame: FollowFrame) -> None:
        if not frame.process:
            return  # stream-wide heartbeat
        pid = frame.process
        st = self.status.get(pid)
        if st is None:
            if not self.spec.all:
                raise Refused(f"leader sent process {encode_id(pid)}, which was not asked for")
            if pid in self._ignored or self._scheduled_here(pid):
                # `all` from a node that itself replicates a process this node schedules: not a copy
                # to take (and never a reason to fail the replica).
                self._ignored.add(pid)
                return
            st = self.status[pid] = ProcessStatus(pid)
            self._claim(pid)
            if self._on_new_process is not None:
                await self._on_new_process(self.spec, pid)  # durable before its first slot's batch
        st.leader_slot = max(st.leader_slot, frame.current_slot)
        if frame.records:
            await self._records(pid, frame.records)
        if not frame.assignments:
            return
        if self._broken is not None:
            raise self._broken
        chain = self._chain(pid)
        saved = replace(chain)
        verified = await asyncio.to_thread(check_frame, chain, frame.assignments, frame.messages)
        if not verified:
            return
        try:
            if verified[0].assignment.slot == 0:
                await self._fetch_module(pid, verified[0].message)
            current = chain.current
            if current and self._scheduler.replicated.get(pid, ("",))[0] != current:
                self._scheduler.replicated[pid] = (current, self.spec.leader)
                if self._on_scheduler is not None:
                    await self._on_scheduler(self.spec, pid, current)
            after = None
            if saved.next_slot > 0:
                assert saved.last is not None
                after = HeadRecord(saved.next_slot - 1, saved.link, saved.timestamp, store_digest(saved.last))
            committed = self._scheduler.submit_replicated(pid, verified, after)
        except BaseException:
            self.chains[pid] = saved  # not stored: the chain goes back to what is stored
            raise
        # Pipelined: the next frames are verified while this one commits (the store applies batches in
        # order, each requiring the head the previous one leaves).
        last, count = verified[-1].assignment, len(verified)
        committed.add_done_callback(lambda f: self._committed(f, pid, last, count))
        self._inflight.append(committed)
        while self._inflight and (self._inflight[0].done() or len(self._inflight) > MAX_INFLIGHT):
            await asyncio.wait([self._inflight[0]])
            self._inflight.popleft()
        if self._broken is not None:
            raise self._broken

    def _committed(self, fut: asyncio.Future[None], pid: bytes, last: Assignment, count: int) -> None:
        if fut.cancelled() or fut.exception() is not None:
            if self._broken is None:
                self._broken = fut.exception() or RuntimeError("commit cancelled")
            return
        st = self.status[pid]
        st.stored_slot = max(st.stored_slot, last.slot)
        st.verified += count
        chain = self.chains.get(pid)
        st.scheduler = (chain.current or "") if chain is not None else st.scheduler
        st.lag_ms = max(0, int(time.time() * 1000) - last.timestamp)
        self.commits += 1

    async def _drain(self) -> None:
        """Wait for the batches in flight; after a failure, forget the chains (they ran ahead of what
        is stored) so the next connection resumes from the store."""
        if self._inflight:
            await asyncio.wait(list(self._inflight))
            self._inflight.clear()
        if self._broken is not None:
            self._broken = None
            self.chains.clear()

    async def _records(self, pid: bytes, records: list[bytes]) -> None:
        """The leader's records of `pid`: checked and stored by the manager (which refuses one that would
        drop slots stored here), then the chain's signer changes follow them."""
        if self._on_records is None:
            return
        if self._inflight:  # the chain is then what is stored: "held" is exact
            await asyncio.wait(list(self._inflight))
            self._inflight.clear()
        if self._broken is not None:
            raise self._broken  # the run loop's drain forgets the chains and reconnects
        chain = self._chain(pid)
        process = await self._process_message(pid)
        chain.changes = await self._on_records(self.spec, pid, process, records, chain.next_slot - 1)
        st = self.status.get(pid)
        if st is not None:
            st.scheduler = chain.current or st.scheduler
        current = chain.current  # the manager pointed the redirect at it (with the record's Url)
        if current and self._on_scheduler is not None:
            await self._on_scheduler(self.spec, pid, current)

    async def _process_message(self, pid: bytes) -> Message:
        """The Process message of `pid` (what a record's signer is checked against): stored here, else
        fetched from the leader and checked (its ID binds its signature)."""
        with self._store.read() as view:
            stored = stored_message(view, pid)
        if stored is not None:
            return stored
        raw = await self._leader.fetch_message(pid) if self._leader is not None else None
        if raw is None:
            raise Refused(f"process {encode_id(pid)}: the leader sent records but not its Process message")
        try:
            m = decode_message(raw)
            check_message(m, self._accept_unsigned)
        except AonodeError as exc:
            raise Refused(f"process {encode_id(pid)}: its Process message does not verify: {exc}") from None
        if m.id != pid or not m.is_process:
            raise Refused(f"process {encode_id(pid)}: the leader sent another message as its Process")
        return m

    def _held_records(self, pids: list[bytes]) -> list[bytes]:
        if self._book is None:
            return []
        with self._store.read() as view:
            return [r.encoded for pid in pids for r in self._book.records(pid, view)]

    async def _fetch_module(self, pid: bytes, process: Message) -> None:
        """The Process's module (not part of the schedule): fetched from the leader, verified (its ID
        binds its signature, which `Scheduler.publish` checks) and stored, so this node can compute."""
        module = process.tag("Module")
        if not module or self._leader is None:
            return
        try:
            mid = decode_id(module, "Module")
        except AonodeError:
            return  # not an ID: the device decides what Module means
        with self._store.read() as view:
            if stored_message(view, mid) is not None:
                return
        try:
            raw = await self._leader.fetch_message(mid)
        except AonodeError as exc:  # the schedule does not depend on it: compute will say what is missing
            raw = None
            log.info("replica %s: module %s: %s", self.spec.id, module, exc)
        if raw is None:
            self.last_error = f"process {encode_id(pid)}: the leader does not have module {module}"
            return
        try:
            m = decode_message(raw)
            if m.id != mid:
                raise Refused(
                    f"process {encode_id(pid)}: the leader sent another message for module {module}"
                )
            await self._scheduler.publish(m)
        except Refused:
            raise
        except AonodeError as exc:
            raise Refused(f"process {encode_id(pid)}: module {module} does not verify: {exc}") from None

    def _scheduled_here(self, pid: bytes) -> bool:
        if pid in self._scheduler.replicated:
            return False
        with self._store.read() as view:
            return stored_head(view, pid) is not None

    def _claim(self, pid: bytes) -> None:
        """Writes to `pid` are redirected from now on (to the scheduler, else the leader)."""
        current = self._scheduler.replicated.get(pid)
        self._scheduler.replicated[pid] = (current[0] if current else "", self.spec.leader)

    def _chain(self, pid: bytes) -> Chain:
        """What is stored of `pid` (loaded once from the store's head)."""
        chain = self.chains.get(pid)
        if chain is not None:
            return chain
        chain = Chain(pid, accept_unsigned=self._accept_unsigned)
        with self._store.read() as view:
            head = stored_head(view, pid)
            if head is not None:
                process = stored_message(view, pid)
                first = read_range_encoded(view, pid, 0, 1)[0]
                chain.next_slot, chain.link, chain.timestamp = head.slot + 1, head.hash_chain, head.timestamp
                chain.last = read_range_encoded(view, pid, head.slot, 1)[0]
                chain.scheduler = process_scheduler(process, decode_assignment(first))
            if self._book is not None:
                chain.changes = segments(self._book.records(pid, view))
            if head is not None:
                st = self.status.setdefault(pid, ProcessStatus(pid))
                st.stored_slot, st.scheduler = head.slot, chain.current or ""
                if self._scheduler.replicated.get(pid, ("",))[0] != chain.current:
                    # (the same scheduler: keep the redirect's URL, which a record may have named)
                    self._scheduler.replicated[pid] = (chain.current or "", self.spec.leader)
        self.chains[pid] = chain
        return chain

    async def _fail(self, refused: Refused) -> None:
        self.state = "failed"
        self.last_error = refused.reason
        self.spec.failed = refused.reason
        if refused.equivocation is not None:
            self.equivocations.append(refused.equivocation)
        log.error("replica %s refused the leader's frame: %s", self.spec.id, refused.reason)
        if self._on_failed is not None:
            await self._on_failed(self.spec, refused)

    # -- recompute and compare -----------------------------------------------------------------------------

    async def _compare_loop(self) -> None:
        while not self._stopped:
            await asyncio.sleep(COMPARE_SECONDS)
            for pid in list(self.status):
                try:
                    await self.compare(pid)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.info("replica %s: compare %s: %s", self.spec.id, encode_id(pid), exc)

    async def compare(self, pid: bytes) -> None:
        """Compute `pid` here up to its stored slot, then compare the slots both sides computed."""
        st = self.status[pid]
        if self._engine is None or self._leader is None or st.stored_slot < 0:
            return
        if st.compared_slot >= st.stored_slot:
            return
        await self._engine.compute(pid, st.stored_slot)
        start = st.compared_slot + 1
        theirs = await self._leader.result_digests(pid, start, st.stored_slot - start + 1)
        if not theirs.digests:
            return
        ours = await asyncio.to_thread(self._result_rows, pid, start, start + len(theirs.digests))
        for i, digest in enumerate(theirs.digests):
            slot = start + i
            row = ours.get(slot)
            if row is None:
                break
            if row.result_digest == digest:
                st.agreed += 1
            else:
                st.diverged += 1
                a = self._scheduler.read_assignments(pid, slot, 1)[0]
                st.last_divergence = (
                    f"slot {slot} message {encode_id(a.message)}: leader {encode_id(digest)}, "
                    f"here {encode_id(row.result_digest)}"
                )
                log.warning(
                    "replica %s: process %s diverged: %s", self.spec.id, encode_id(pid), st.last_divergence
                )
            st.compared_slot = slot

    def _result_rows(self, pid: bytes, start: int, stop: int) -> dict[int, compute_layout.StoredRow]:
        with self._store.read() as view:
            return compute_layout.read_rows(view, pid, start, stop)


MERGE_FRAMES = 64
MERGE_BYTES = 4 << 20


async def _merged(frames: AsyncIterator[FollowFrame]) -> AsyncIterator[list[FollowFrame]]:
    """The leader's frames, read ahead by a task while the previous ones are verified and stored, and
    handed over as what arrived meanwhile with consecutive frames of one process joined: live, the leader
    sends a frame per commit, and one verification and one store commit per frame could not keep up with
    a busy process (a commit waits for its fsync). Bounded: `MERGE_FRAMES` frames read ahead at most."""
    queue: asyncio.Queue[FollowFrame | BaseException | None] = asyncio.Queue(MERGE_FRAMES)

    async def read() -> None:
        try:
            async for frame in frames:
                await queue.put(frame)
            await queue.put(None)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            await queue.put(exc)

    reader = asyncio.create_task(read())
    try:
        while True:
            items = [await queue.get()]
            while not queue.empty() and len(items) < MERGE_FRAMES:
                items.append(queue.get_nowait())
            out: list[FollowFrame] = []
            size = 0
            end: BaseException | None = None
            finished = False
            for item in items:
                if item is None:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    end = item
                    break
                last = out[-1] if out else None
                n = sum(map(len, item.assignments)) + sum(map(len, item.messages))
                if (
                    last is not None
                    and item.assignments
                    and last.assignments
                    and not item.records
                    and last.process == item.process
                    and last.from_slot + len(last.assignments) == item.from_slot
                    and size + n <= MERGE_BYTES
                ):
                    out[-1] = FollowFrame(
                        last.process,
                        last.from_slot,
                        last.assignments + item.assignments,
                        last.messages + item.messages,
                        max(last.current_slot, item.current_slot),
                        item.leader_time_ms,
                    )
                    size += n
                else:
                    out.append(item)
                    size = n
            if out:
                yield out
            if end is not None:
                raise end
            if finished:
                return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
