"""`ComputeEngine`: process@1.0's compute, now and dryrun over the schedule, the devices and the store.

Theory of operation:
- A result already stored is served from the store (results are always stored, so a worker that is ahead
  of the requested slot is never needed to answer it).
- Otherwise the computation takes the process's lock (one computation per process at a time; a caller
  that waited for it finds its slot stored if the computation before it went that far), then runs on the
  compute thread pool: check out the live worker, pick the nearest state (`runner.Runner.prepare`), fold the
  missing slots into it (`Runner.advance`), submitting result batches as it goes. Back on the event loop it
  awaits the batches (a reply only after its result is durable), then checks the worker back into the LRU.
  Any failure drops the worker: its state may be ahead of what is stored.
- `dryrun` computes up to the tip first, then runs the message on the worker as slot tip+1 (never stored):
  a device that can snapshot is snapshotted before and restored after; any other worker is discarded, so
  the next real computation rebuilds the state by replay (compared slot by slot with the stored results).
- The work of a request runs as its own task, shielded from the caller's cancellation, so a cancelled
  caller never leaves a half-done computation running without its lock.
- Computations are admitted through `lanes.Lanes` and run on `lanes.DaemonPool` threads: a computation
  that runs longer than `slow_after` leaves its fast lane, so slow processes cannot hold every thread while
  another process's trivial request waits (docs/compute.md, Fairness).
- A slot stopped by the wall-clock backstop stalls its process: a `layout.Stall` record is stored, and the
  process is not computed again (ProcessStalledError at once) until `resume` lifts it or the node's
  wall-clock limit is raised above the one it hit. Results before that slot are still served.
- `halt` (the node stopping) interrupts running devices at once; `close` then waits for the threads up
  to `CLOSE_WAIT` seconds (they are daemon threads: one stuck in a device cannot keep the process alive).
The engine is used from one event loop at a time (a new one may take over once the previous is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from aonode.codec import DecodeError, decode_result
from aonode.compute import layout
from aonode.compute.config import ComputeConfig, ScheduleSource, SlotResult
from aonode.compute.errors import (
    EngineClosedError,
    ProcessStalledError,
    SlotOutOfRange,
    SlotStalled,
    StoredResultCorrupt,
    from_store_error,
)
from aonode.compute.lanes import DaemonPool, Lanes
from aonode.compute.runner import RunCounts, Runner
from aonode.compute.workers import Worker, WorkerCache
from aonode.compute.writer import ResultWriter
from aonode.crypto import verify_message
from aonode.devices.base import DeviceRegistry
from aonode.errors import InvalidArgument, NotFound, PermissionDenied
from aonode.ids import ID_LEN, ProcessId, decode_id, encode_id
from aonode.model import MAX_U64, Message, Result
from store import ObjectStore, StoreError, WriteBatch

log = logging.getLogger("aonode.compute")

T = TypeVar("T")

CLOSE_WAIT = 3.0
"""Seconds `close` waits for interrupted computations to end before it leaves their (daemon) threads."""

RESUME_ACTION = "Resume-Compute"
"""The `Action` of a message that lifts a stall (`resume`); its `Stalled-Since` tag names the stall."""

MAX_LISTED_STALLS = 1000


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class _Outcome:
    result: SlotResult | None
    dry: Result | None
    worker: Worker | None
    pending: list[Future[None]]
    counts: RunCounts
    error: Exception | None = None


class ComputeEngine:
    def __init__(
        self,
        store: ObjectStore,
        schedule: ScheduleSource,
        devices: DeviceRegistry,
        config: ComputeConfig | None = None,
        *,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.config = config or ComputeConfig()
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._stop = threading.Event()
        self._runner = Runner(store, schedule, devices, self.config, self._stop)
        self._workers = WorkerCache(self.config.max_workers, self.config.max_worker_memory)
        self._pool = DaemonPool(self.config.max_threads, "aonode-compute")
        self._lanes = self._new_lanes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: dict[bytes, tuple[asyncio.Lock, int]] = {}
        self._counts = RunCounts()
        self._served = 0
        self._dryruns = 0
        self._closed = False
        self._pool_closed = False
        # Seconds a `compute` took, and whether its result was stored already; the node plugs its metrics in.
        self.observe_latency: Callable[[float, bool], None] = _ignore

    # -- public API -------------------------------------------------------------------------------------

    async def compute(self, process: bytes, slot: int) -> SlotResult:
        """The result at `slot`, computing the missing slots up to it. OutOfRange beyond the tip, NotFound
        for a process this node does not schedule."""
        pid = _pid(process)
        if slot < 0:
            raise InvalidArgument(f"slot must be >= 0, got {slot}")
        self._check_open()
        started = time.perf_counter()
        hit = self.stored_result(pid, slot)
        if hit is not None:
            self._served += 1
            self.observe_latency(time.perf_counter() - started, True)
            return hit
        result = await self._shielded(self._compute_locked(pid, slot))
        self.observe_latency(time.perf_counter() - started, False)
        return result

    async def now(self, process: bytes) -> SlotResult:
        """Compute every assigned slot; the latest result."""
        pid = _pid(process)
        self._check_open()
        return await self.compute(pid, self._schedule.head(pid).slot)

    async def dryrun(self, message: Message) -> Result:
        """Evaluate `message` against the latest state of the process its `target` names, without
        scheduling it and without changing any state. A signed message must verify."""
        self._check_open()
        message.validate()
        pid = ProcessId(decode_id(message.target, "target"))
        if message.signature is not None:
            verify_message(message)
        return await self._shielded(self._dryrun_locked(pid, message))

    def stored_result(self, process: bytes, slot: int) -> SlotResult | None:
        """The stored result at `slot`, or None when it was not computed (yet)."""
        pid = _pid(process)
        if slot < 0:
            raise InvalidArgument(f"slot must be >= 0, got {slot}")
        try:
            with self._store.read() as view:
                row = layout.read_row(view, pid, slot)
                data = None if row is None else view.get_object(row.result_digest)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if row is None:
            return None
        if data is None:
            raise StoredResultCorrupt(
                f"process {encode_id(pid)}: the result object of slot {slot} is missing"
            )
        try:
            result = decode_result(data)
        except DecodeError as exc:
            raise StoredResultCorrupt(f"process {encode_id(pid)}: slot {slot}: {exc}") from exc
        return SlotResult(pid, slot, result, row.hashpath, row.result_digest)

    def snapshot_manifest(self, process: bytes, slot: int | None = None) -> layout.StoredSnapshot:
        """The stored snapshot of `process` nearest at or before `slot` (None: the latest), with its
        manifest. NotFound when there is none."""
        pid = _pid(process)
        if slot is not None and slot < 0:
            raise InvalidArgument(f"slot must be >= 0, got {slot}")
        max_slot = MAX_U64 - 1 if slot is None else min(slot, MAX_U64 - 1)
        try:
            with self._store.read() as view:
                snap = layout.read_snapshot(view, pid, max_slot)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if snap is None:
            where = "" if slot is None else f" at or before slot {slot}"
            raise NotFound(f"process {encode_id(pid)} has no snapshot{where}")
        return snap

    def tip(self, process: bytes) -> int:
        """The schedule's tip of `process` (NotFound for a process this node does not schedule)."""
        return self._schedule.head(_pid(process)).slot

    def stored_head(self, process: bytes) -> int | None:
        """The last slot whose result is stored, or None."""
        with self._store.read() as view:
            head, _ = layout.read_head(view, _pid(process))
        return None if head is None else head.slot

    def stall(self, process: bytes) -> layout.Stall | None:
        """Why `process` is not computed, or None when it is not stalled (a stall whose wall-clock limit is
        below the node's current one no longer counts: a larger limit lifts it)."""
        pid = _pid(process)
        try:
            with self._store.read() as view:
                stall = layout.read_stall(view, pid)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if stall is None or stall.wall_seconds < self.config.max_wall_seconds:
            return None
        return stall

    def stalls(self, limit: int = MAX_LISTED_STALLS) -> list[tuple[ProcessId, layout.Stall]]:
        """Stalled processes (process-ID order, at most `limit`)."""
        try:
            with self._store.read() as view:
                rows = layout.read_stalls(view, limit)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        return [(ProcessId(p), s) for p, s in rows if s.wall_seconds >= self.config.max_wall_seconds]

    async def resume(self, process: bytes, authorization: Message) -> layout.Stall:
        """Lift the stall of `process`: its next computation tries the stalled slot again (with the full
        wall-clock limit). `authorization` is a message signed by an operator (`ComputeConfig.operators`)
        with `Target` = the process, `Action` = `Resume-Compute` and `Stalled-Since` = the stall's
        `since_ms` (so a copy of it cannot lift a later stall). Returns the lifted stall; NotFound when the
        process is not stalled, PermissionDenied for anyone else's signature."""
        pid = _pid(process)
        self._check_open()
        authorization.validate()
        if authorization.signature is None:
            raise PermissionDenied("resume: the authorization must be signed by an operator")
        verify_message(authorization)
        signer = authorization.owner_address
        if signer is None or str(signer) not in self.config.operators:
            raise PermissionDenied(f"resume: {signer} is not an operator of this node")
        if authorization.target != encode_id(pid) or authorization.tag("Action") != RESUME_ACTION:
            raise InvalidArgument(
                f"resume: the authorization must have Target = the process and Action = {RESUME_ACTION}"
            )
        async with self._lock(pid):
            stall = self.stall(pid)
            if stall is None:
                raise NotFound(f"process {encode_id(pid)} is not stalled")
            if authorization.tag("Stalled-Since") != str(stall.since_ms):
                raise InvalidArgument(
                    f"resume: Stalled-Since must be {stall.since_ms} (the stall being lifted)"
                )
            batch = WriteBatch()
            batch.require(layout.STALLS, pid, stall.encode())
            batch.delete(layout.STALLS, pid)
            await self._commit(batch)
            log.warning("process %s: stall at slot %d lifted by %s", encode_id(pid), stall.slot, signer)
            return stall

    def stats(self) -> dict[str, int]:
        c = self._counts
        return {
            "threads": self._pool.threads,
            "went_slow": self._lanes.went_slow,
            "computed": c.computed,
            "verified": c.verified,
            "fresh_workers": c.fresh,
            "restored_workers": c.restored,
            "served_from_store": self._served,
            "dryruns": self._dryruns,
            "workers": len(self._workers),
            "worker_memory": self._workers.memory,
            "evictions": self._workers.evictions,
        }

    def has_worker(self, process: bytes) -> bool:
        """Whether a live worker of `process` is in the LRU."""
        return process in self._workers

    def halt(self) -> None:
        """Stop computing now (the node is stopping): new requests get EngineClosedError, running devices
        are interrupted (their slot ends within milliseconds and is not stored), queued ones never start.
        Does not block."""
        self._closed = True
        self._stop.set()
        for device in self._runner.alive_devices():
            try:
                device.interrupt()
            except Exception:
                log.exception("interrupting a %s device failed", device.name)

    def close(self) -> None:
        """`halt`, then wait up to CLOSE_WAIT seconds for the compute threads and close the live workers."""
        if self._pool_closed:
            return
        self._pool_closed = True
        self.halt()
        if not self._pool.shutdown(CLOSE_WAIT):
            log.error(
                "compute threads still running %.0f s after the engine closed; leaving them", CLOSE_WAIT
            )
        for worker in self._workers.drain():
            worker.close()

    # -- internals --------------------------------------------------------------------------------------

    async def _compute_locked(self, pid: ProcessId, slot: int) -> SlotResult:
        async with self._lock(pid):
            hit = self.stored_result(pid, slot)
            if hit is not None:
                self._served += 1
                return hit
            tip = self._schedule.head(pid).slot
            if slot > tip:
                raise SlotOutOfRange(f"process {encode_id(pid)}: slot {slot} is beyond the tip ({tip})")
            self._check_stall(pid)
            outcome = await self._run(pid, slot, None)
            assert outcome.result is not None
            return outcome.result

    async def _dryrun_locked(self, pid: ProcessId, message: Message) -> Result:
        async with self._lock(pid):
            tip = self._schedule.head(pid).slot
            self._check_stall(pid)
            outcome = await self._run(pid, tip, message)
            self._dryruns += 1
            assert outcome.dry is not None
            return outcome.dry

    def _check_stall(self, pid: ProcessId) -> None:
        stall = self.stall(pid)
        if stall is not None:
            raise ProcessStalledError(
                f"process {encode_id(pid)} is stalled since {stall.since_ms} (ms): {stall.reason}; "
                "an operator lifts it with `aonode process resume`",
                stall.slot,
                stall.since_ms,
            )

    async def _stalled(self, pid: ProcessId, stalled: SlotStalled) -> ProcessStalledError:
        """Record that `pid` stalled at `stalled.slot`; the error its caller gets."""
        stall = layout.Stall(stalled.slot, self._clock(), self.config.max_wall_seconds, stalled.reason)
        batch = WriteBatch()
        batch.put(layout.STALLS, pid, stall.encode())
        await self._commit(batch)
        log.warning("process %s stalled: %s", encode_id(pid), stall.reason)
        return ProcessStalledError(
            f"process {encode_id(pid)} is now stalled: {stall.reason}; an operator lifts it with "
            "`aonode process resume`",
            stall.slot,
            stall.since_ms,
        )

    async def _commit(self, batch: WriteBatch) -> None:
        try:
            await asyncio.wrap_future(self._store.submit(batch))
        except StoreError as exc:
            raise from_store_error(exc) from exc

    async def _run(self, pid: ProcessId, target: int, dry: Message | None) -> _Outcome:
        ticket = await self._lanes.acquire()
        try:
            self._check_open()
            job = self._pool.submit(self._job, pid, target, dry, self._clock())
            outcome = await asyncio.wrap_future(job)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        except RuntimeError as exc:
            if self._closed:
                raise EngineClosedError("the compute engine is closed") from exc
            raise
        except asyncio.CancelledError:
            # `close()` cancels queued jobs: that is not a cancellation of this (shielded) task.
            task = asyncio.current_task()
            if self._closed and task is not None and task.cancelling() == 0:
                raise EngineClosedError("the compute engine is closed") from None
            raise
        finally:
            self._lanes.release(ticket)
        self._add_counts(outcome.counts)
        # Whatever was submitted settles before the reply, also when the request failed: a caller that
        # saw an error then finds every result before the failing slot stored.
        settled = await asyncio.gather(
            *(asyncio.wrap_future(f) for f in outcome.pending), return_exceptions=True
        )
        failure = outcome.error or next((e for e in settled if isinstance(e, BaseException)), None)
        if failure is not None:
            if outcome.worker is not None:
                outcome.worker.close()
            if isinstance(failure, StoreError):
                raise from_store_error(failure) from failure
            if isinstance(failure, SlotStalled):
                raise await self._stalled(pid, failure) from None
            raise failure
        if outcome.worker is not None:
            self._checkin(outcome.worker)
        return outcome

    def _job(self, pid: ProcessId, target: int, dry: Message | None, now_ms: int) -> _Outcome:
        """On a compute thread: bring the process to `target` (then run the dryrun, if any). A failure
        after the first result was added comes back in the outcome, with the batches it must wait for."""
        counts = RunCounts()
        live = self._workers.checkout(pid)
        try:
            with self._store.read() as view:
                head, head_raw = layout.read_head(view, pid)
                snapshots = self.config.snapshot_every or self.config.snapshot_seconds
                snap = layout.nearest_snapshot(view, pid, target) if snapshots else None
        except BaseException:
            if live is not None:
                live.close()
            raise
        worker = self._runner.prepare(pid, target, live, snap, counts)  # owns `live` from here on
        writer = ResultWriter(self._store, pid, head_raw, self.config)
        try:
            last = self._runner.advance(worker, target, writer, head, counts)
            writer.flush()
            result = last if last is not None and last.slot == target else None
            dry_result = None
            keep = True
            if dry is not None:
                dry_result, keep = self._runner.dryrun(worker, dry, now_ms)
            elif result is None:
                # The worker already stood at the target: its result is stored.
                result = self.stored_result(pid, target)
                if result is None:
                    raise StoredResultCorrupt(
                        f"process {encode_id(pid)}: the result of slot {target} is not stored"
                    )
            if keep:
                worker.memory = worker.device.memory_bytes()
            else:
                worker.close()
            return _Outcome(result, dry_result, worker if keep else None, writer.pending, counts)
        except Exception as exc:
            worker.close()
            with contextlib.suppress(Exception):
                writer.flush()  # the results before the failing slot are valid: keep them
            return _Outcome(None, None, None, writer.pending, counts, exc)
        except BaseException:
            worker.close()
            raise

    def _checkin(self, worker: Worker) -> None:
        if self._closed:
            worker.close()
            return
        for evicted in self._workers.checkin(worker):
            evicted.close()

    def _add_counts(self, c: RunCounts) -> None:
        self._counts.computed += c.computed
        self._counts.verified += c.verified
        self._counts.fresh += c.fresh
        self._counts.restored += c.restored

    def _check_open(self) -> None:
        if self._closed:
            raise EngineClosedError("the compute engine is closed")

    @asynccontextmanager
    async def _lock(self, pid: bytes) -> AsyncIterator[None]:
        self._bind_loop()
        lock, users = self._locks.get(pid, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[pid] = (lock, users + 1)
        try:
            async with lock:
                self._check_open()
                yield
        finally:
            lock, users = self._locks[pid]
            if users == 1:
                del self._locks[pid]
            else:
                self._locks[pid] = (lock, users - 1)

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is not None and not self._loop.is_closed() and self._locks:
            raise RuntimeError("the compute engine is in use on another event loop")
        self._loop = loop
        self._locks = {}
        self._lanes = self._new_lanes()

    def _new_lanes(self) -> Lanes:
        c = self.config
        return Lanes(c.threads, c.max_threads, c.slow_after)

    async def _shielded(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(coro)
        # A caller cancelled while the task runs must not leave its exception unretrieved.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)


def _ignore(_seconds: float, _stored: bool) -> None:
    pass


def _pid(process: bytes) -> ProcessId:
    if not isinstance(process, bytes) or len(process) != ID_LEN:
        raise InvalidArgument(f"process: an ID is {ID_LEN} raw bytes")
    return ProcessId(process)
