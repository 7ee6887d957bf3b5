"""The `Scheduler`: check, route, deduplicate, then hand over to the write pipeline; plus the reads.

Theory of operation (state lives on one asyncio event loop; long work runs on worker threads):

1. **Check** (worker thread; `cryptography` releases the GIL while it verifies): `validate()`, the
   signature (unsigned messages are refused unless `accept_unsigned`), the canonical encoding for storage.
   Nothing is written before this passes. A new Process this node will schedule is then checked by the
   `ProcessValidator`, if one is given (worker thread: it may compile the module), e.g. that its execution
   device can run its module.
2. **Route** (loop): a Process message is its own schedule (process ID = its message ID) and is taken only
   when its `Scheduler` tag names this node or is absent (a Process naming no scheduler is taken by the
   node it is sent to); another address gives a `RedirectError` carrying that scheduler's URL from the
   location registry, or a forward when `follow_redirects` is on. Any other message joins its `target`'s
   schedule; an unknown target is NotFound (or a redirect, if the target is a Process published here that
   names another scheduler). Before answering NotFound, `schedule` asks the process `directory` (the
   peers, aonode/network), which stores the Process and its scheduler's location when a peer proves
   where it lives; the message is then routed again and gets the redirect (or is forwarded).
3. **Deduplicate** (loop): a message pending on the process shares the pending future; a committed one gets
   its stored assignment. So a retry after a crash between commit and reply finds the slot it already has.
4. **Pipeline** (`pipeline.py`): allocate the next slot, sign (inline for one message, on a worker for a
   bulk chunk), write in slot order under a precondition on the previous head, answer after the commit.

`schedule_many` pipelines the steps per chunk: chunk k+1 is verified while chunk k is assigned and signed.
After a restart a process's positions are loaded lazily from its head record, so the schedule continues
exactly. One `Scheduler` per store: a second writer on the same store is kept consistent by the
preconditions, but each instance only notifies its own subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aonode.codec import decode_message, encode_message
from aonode.crypto import Signer
from aonode.errors import AonodeError, InvalidArgument, NotFound, Overloaded
from aonode.ids import Address, InvalidIdError, MessageId, ProcessId, decode_id, encode_id
from aonode.model import Assignment, Message
from aonode.scheduler import layout
from aonode.scheduler.config import BlockSource, Directory, Forwarder, ProcessValidator, SchedulerConfig
from aonode.scheduler.errors import (
    RedirectError,
    RelayNotTrustedError,
    SchedulerClosedError,
    ScheduleStateError,
    UnassignableMessageError,
    UnknownMessageError,
    UnknownProcessError,
    from_store_error,
)
from aonode.scheduler.layout import HeadRecord
from aonode.scheduler.locations import LocationRegistry
from aonode.scheduler.pipeline import Checked, Job, Pipeline, Proc
from aonode.scheduler.reads import ScheduleReader, committed_assignment, stored_head, stored_message
from aonode.scheduler.relay import relayed_tag
from aonode.scheduler.subscribe import Subscription
from aonode.scheduler.verifier import ProcessVerifier, check_message
from store import ObjectStore, ReadView, StoreError, WriteBatch, u64


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


Outcome = Assignment | AonodeError


@dataclass(frozen=True, slots=True)
class Replicated:
    """One slot verified by a replication follower: the assignment and its message, decoded and as stored
    on the leader (the bytes this node stores)."""

    assignment: Assignment
    encoded_assignment: bytes
    message: Message
    encoded_message: bytes


# How many recent commits `_recent` remembers: far more than can commit between a lookup and an admission.
RECENT_COMMITS = 16384


class Scheduler(ScheduleReader):
    """Assigns slots to messages, durably, signed and hash-chained. The async methods run on one event loop
    at a time (the one that first calls them; a new one once that is closed). The reads are synchronous
    and safe from any thread."""

    def __init__(
        self,
        store: ObjectStore,
        signer: Signer,
        config: SchedulerConfig | None = None,
        *,
        clock: Callable[[], int] = wall_clock_ms,
        block_source: BlockSource | None = None,
        locations: LocationRegistry | None = None,
        forwarder: Forwarder | None = None,
        validator: ProcessValidator | None = None,
    ) -> None:
        super().__init__(store, Address(signer.address), config or SchedulerConfig())
        self._relays = frozenset({str(signer.address), *self.config.trusted_relays})
        # The process directory (aonode/network), plugged in by the node: asked about unknown targets.
        self.directory: Directory | None = None
        self.locations = locations if locations is not None else LocationRegistry(store)
        self._forwarder = forwarder
        self._validator = validator
        self._procs: dict[bytes, Proc] = {}
        # Recently committed (message ID ‖ process) keys: closes the window between a message's idempotency
        # lookup on a worker and its admission on the loop (a duplicate that committed in between). A
        # duplicate that still slips through is refused by the store (`require` on `assigned`).
        self._recent: set[bytes] = set()
        self._recent_order: deque[bytes] = deque()
        self._in_flight = 0
        self._pipeline = Pipeline(
            store,
            signer,
            clock,
            block_source,
            committed=self._committed,
            vanished=self._unknown_target,
            finish=self._finish,
            recent=self.recent,
            spawned=self._spawned,
        )
        # Processes whose schedule this node replicates from another (aonode.replication): pid → (the
        # scheduler's address, where to send writes). Their writes are redirected, never assigned here.
        self.replicated: dict[bytes, tuple[str, str | None]] = {}
        # Processes this node schedules because an owner-signed hand-off record names it (their Process
        # message still names the scheduler before): a re-sent Process message is not redirected there.
        self.adopted: set[bytes] = set()
        self._spawn_listeners: set[Callable[[ProcessId], None]] = set()
        self.slots_replicated = 0  # slots stored by `submit_replicated` (the node's metrics read it)
        # Seconds from a `schedule` call to its durable assignment; the node plugs its metrics in.
        self.observe_latency: Callable[[float], None] = _ignore
        n = self.config.verify_threads
        self._workers = ThreadPoolExecutor(n, thread_name_prefix="aonode-verify") if n > 0 else None
        p = self.config.verify_processes
        self._processes = (
            ProcessVerifier(p, self.config.verify_chunk, self.config.accept_unsigned) if p > 0 else None
        )

    # -- public API ----------------------------------------------------------------------------------------

    async def schedule(self, message: Message) -> Assignment:
        """Schedule one message; returns its signed assignment once durable (or its existing one)."""
        started = time.perf_counter()
        assignment = await self._schedule(message)
        self.observe_latency(time.perf_counter() - started)
        return assignment

    @property
    def slots_scheduled(self) -> int:
        """Slots assigned by this scheduler and committed since it was made."""
        return self._pipeline.committed_slots

    async def _schedule(self, message: Message) -> Assignment:
        loop = self._bind_loop()
        if self._processes is not None:
            encoded = _encode(message)
            failure = await self._processes.check(loop, encoded)
            if failure is not None:
                raise failure
            with self._read() as view:
                checked = self._lookup(message, encoded, view)
        elif self._workers is None:
            checked = self._check(message)
        else:
            checked = await loop.run_in_executor(self._workers, self._check, message)
        if self._needs_validation(checked):
            await loop.run_in_executor(self._workers, self._validate, checked.message)
        try:
            begun = self._begin(checked, None)
        except (UnknownProcessError, RedirectError) as exc:
            # Never seen here, or its scheduler's location is unknown or expired: the peers may know where
            # it lives now (a proof they give is stored here, its location with it).
            if isinstance(exc, RedirectError) and (exc.url or message.is_process):
                raise
            begun = await self._begin_resolved(checked, exc)
        if isinstance(begun, RedirectError):
            return await self._forward(begun, message)
        # shield: a cancelled caller must not cancel the shared future that duplicates may await.
        return await asyncio.shield(begun)

    async def assign(self, process: bytes, message_id: bytes) -> Assignment:
        """Assign the stored message `message_id` to `process` (ao's assignments): the next slot of
        `process` holds it, signed and hash-chained as any slot; returns that assignment once durable, or
        the one it already has there (idempotent). On the message's own target this is `schedule`.

        Anyone may assign (as in ao): the process decides whether it takes an assignment (AOS's
        `ao.isAssignable`; the message keeps its `Target`, which is how the process tells). Refused: a
        message not stored here (NotFound), a Process message or one with no target (InvalidArgument: a
        process would take an untargeted message as addressed to itself), one carrying `From-Process` or
        `Cron-From` assigned away from its target (PermissionDenied; docs/security.md). An unknown process
        is NotFound, or a redirect when its scheduler is known (never forwarded: the other scheduler is
        asked by the caller, who holds the message ID)."""
        loop = self._bind_loop()
        pid = ProcessId(process)
        checked = await loop.run_in_executor(self._workers, self._check_assignment, pid, message_id)
        try:
            begun = self._begin(checked, None)
        except UnknownProcessError as exc:
            begun = await self._begin_resolved(checked, exc)
        if isinstance(begun, RedirectError):
            raise begun
        return await asyncio.shield(begun)

    async def _begin_resolved(
        self, checked: Checked, failed: AonodeError
    ) -> asyncio.Future[Assignment] | RedirectError:
        """`_begin` again once the process directory has found `checked.pid` among the peers (it stores
        the Process and its scheduler's location here); `failed`, the first attempt's error, otherwise."""
        if self.directory is None or not await self.directory.resolve(checked.pid):
            raise failed
        return self._begin(checked, None)

    async def schedule_many(self, messages: Sequence[Message]) -> list[Outcome]:
        """Bulk ingest: one result per message, in input order. Chunks are verified by the workers in
        parallel; each chunk is then assigned in input order and signed, and its writes go to the store's
        group commit while the next chunks are still being verified."""
        loop = self._bind_loop()
        step = max(1, self.config.verify_chunk)
        chunks = [messages[i : i + step] for i in range(0, len(messages), step)]
        checks: list[asyncio.Future[list[Checked | AonodeError]]] = []
        if self._processes is not None:
            checks = [asyncio.ensure_future(self._check_chunk_processes(loop, c)) for c in chunks]
        elif self._workers is not None:
            checks = [loop.run_in_executor(self._workers, self._check_chunk, c) for c in chunks]
        out: list[Outcome | asyncio.Future[Assignment] | RedirectError] = []
        try:
            for k, chunk in enumerate(chunks):
                checked = await checks[k] if checks else self._check_chunk(chunk)
                if self._validator is not None:
                    checked = await self._validate_chunk(loop, checked)
                out.extend(self._begin_chunk(loop, checked))
        finally:
            for c in checks:
                c.cancel()  # a cancelled caller: do not verify what nobody will schedule
        waits = [r for r in out if isinstance(r, asyncio.Future)]
        if waits:
            # asyncio.wait never cancels what it waits on: duplicates may share these futures.
            await asyncio.wait(waits)
        results: list[Outcome] = []
        for i, r in enumerate(out):
            if isinstance(r, UnknownProcessError) and self.directory is not None:
                try:  # the directory may know it (module docstring); schedule() asks it
                    results.append(await self.schedule(messages[i]))
                except AonodeError as exc:
                    results.append(exc)
            elif isinstance(r, RedirectError):
                try:
                    results.append(await self._forward(r, messages[i]))
                except AonodeError as exc:
                    results.append(exc)
            elif isinstance(r, asyncio.Future):
                failure = r.exception()
                results.append(r.result() if failure is None else from_store_error(failure))
            else:
                results.append(r)
        return results

    async def publish(self, message: Message) -> MessageId:
        """Store a checked message (e.g. a module) without scheduling it; idempotent. Returns its ID."""
        loop = self._bind_loop()
        if self._workers is None:
            encoded = self._verify(message)
        else:
            encoded = await loop.run_in_executor(self._workers, self._verify, message)
        mid = message.id
        try:
            if self._store.get(layout.MESSAGES, mid) is None:
                batch = WriteBatch()
                batch.put(layout.MESSAGES, mid, batch.put_object(encoded))
                await asyncio.wrap_future(self._store.submit(batch))
        except StoreError as exc:
            raise from_store_error(exc) from exc
        return mid

    def subscribe(
        self,
        process: bytes,
        from_slot: int = 0,
        *,
        encoded: bool = False,
        include_messages: bool = False,
        raw: bool = False,
    ) -> Subscription:
        """Assignments of `process` from `from_slot` on: first the stored backlog, then live as they
        commit, in order, in batches, with idle heartbeats. NotFound for an unknown process. With
        `encoded`, batches carry the stored canonical bytes instead of decoded assignments; with
        `include_messages`, their messages too (charged to the read budget, subscribe.py); with `raw`,
        both as stored (replication)."""
        self._bind_loop()
        if from_slot < 0:
            raise InvalidArgument(f"from_slot must be >= 0, got {from_slot}")
        proc = self._proc(process)
        if proc is None or (proc.committed < 0 and proc.tip_slot < 0):
            raise NotFound(f"process {encode_id(process)} is not scheduled on this node")
        if raw:
            return Subscription(self, proc, from_slot, True, True, raw=True)
        return Subscription(self, proc, from_slot, encoded, include_messages)

    def on_spawn(self, listener: Callable[[ProcessId], None]) -> Callable[[], None]:
        """Call `listener(pid)` on the loop whenever a process's first slot commits here (scheduled or
        replicated). Returns the function that removes it."""
        self._spawn_listeners.add(listener)
        return lambda: self._spawn_listeners.discard(listener)

    def submit_replicated(
        self, process: bytes, items: Sequence[Replicated], after: HeadRecord | None
    ) -> asyncio.Future[None]:
        """Store slots verified elsewhere (aonode.replication checked every signature and link), the exact
        bytes given. Submit them, following the head `after` (None: slot 0 first), in one batch guarded by
        a precondition on that head, and return the future of their commit. Batches can be submitted one
        after another without waiting (the store applies them in order, each requiring the head the
        previous one leaves): a failed batch makes the later ones fail their precondition, never leave a
        gap or fork the schedule. Once durable, subscribers are woken and the reads serve the slots."""
        loop = self._bind_loop()
        pid = ProcessId(process)
        batch = WriteBatch()
        batch.require(layout.HEADS, pid, after.encode() if after is not None else None)
        digest = b""
        for item in items:
            a, mid = item.assignment, item.assignment.message
            batch.require(layout.ASSIGNED, layout.assigned_key(mid, pid), None)
            batch.put(layout.MESSAGES, mid, batch.put_object(item.encoded_message))
            digest = batch.put_object(item.encoded_assignment)
            batch.put(layout.ASSIGNMENTS, layout.slot_key(pid, a.slot), digest)
            batch.put(layout.ASSIGNED, layout.assigned_key(mid, pid), u64(a.slot))
        last = items[-1].assignment
        batch.put(layout.HEADS, pid, HeadRecord(last.slot, last.hash_chain, last.timestamp, digest).encode())
        done: asyncio.Future[None] = loop.create_future()
        try:
            written = self._store.submit(batch)
        except StoreError as exc:
            done.set_exception(from_store_error(exc))
            return done

        def settle(f: ThreadFuture[None]) -> None:
            if done.done():
                return
            exc = f.exception()
            if exc is not None:
                done.set_exception(from_store_error(exc) if isinstance(exc, StoreError) else exc)
                return
            proc = self._procs.get(pid)
            if proc is None:
                proc = self._procs[pid] = Proc(pid)
            new = proc.committed < 0
            proc.stale = True  # the positions are re-read from the head on next use
            proc.committed = max(proc.committed, last.slot)
            self.slots_replicated += len(items)
            self.recent.add(pid, [(i.assignment, i.message, len(i.encoded_message)) for i in items])
            for item in items:
                self._remember(item.assignment.message + pid)
            proc.wake()
            if new:
                self._spawned(pid)
            done.set_result(None)

        def hop(f: ThreadFuture[None]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to tell
                loop.call_soon_threadsafe(settle, f)

        written.add_done_callback(hop)
        return done

    async def settled(self, process: bytes) -> None:
        """Wait until every message of `process` accepted so far has its answer (committed or failed).
        With the process in `replicated` first, nothing new is accepted meanwhile: after this, the
        stored head is the last slot this node will ever assign it (a hand-off away from this node)."""
        proc = self._procs.get(process)
        while proc is not None and (waits := [f for f in proc.pending.values() if not f.done()]):
            await asyncio.wait(waits)

    def _spawned(self, pid: ProcessId) -> None:
        for listener in list(self._spawn_listeners):
            listener(pid)

    def close(self) -> None:
        """Refuse new messages and end subscriptions. Writes already submitted still settle."""
        self._pipeline.closed = True
        for proc in self._procs.values():
            proc.wake()
        if self._workers is not None:
            self._workers.shutdown(wait=False)
        self.read_executor.shutdown(wait=False)
        if self._processes is not None:
            self._processes.close()

    @property
    def closed(self) -> bool:
        return self._pipeline.closed

    def waiter_count(self, process: bytes | None = None) -> int:
        """Subscribers currently parked waiting for a commit (for tests and metrics)."""
        procs = self._procs.values() if process is None else [p for p in [self._procs.get(process)] if p]
        return sum(len(p.waiters) for p in procs)

    @property
    def in_flight(self) -> int:
        """Messages accepted and not yet answered."""
        return self._in_flight

    # -- check ---------------------------------------------------------------------------------------------

    def _check(self, message: Message) -> Checked:
        with self._read() as view:
            return self._check_one(message, view)

    def _check_chunk(self, messages: Sequence[Message]) -> list[Checked | AonodeError]:
        """Validate, verify, encode and look up messages (inline or on a worker thread). One read
        snapshot serves the chunk's lookups."""
        out: list[Checked | AonodeError] = []
        with self._read() as view:
            for m in messages:
                try:
                    out.append(self._check_one(m, view))
                except AonodeError as exc:
                    out.append(exc)
        return out

    async def _check_chunk_processes(
        self, loop: asyncio.AbstractEventLoop, messages: Sequence[Message]
    ) -> list[Checked | AonodeError]:
        """The chunk's signatures checked by the process pool, then looked up here (one snapshot)."""
        assert self._processes is not None
        out: list[Checked | AonodeError | bytes] = []
        for m in messages:
            try:
                out.append(_encode(m))
            except AonodeError as exc:
                out.append(exc)
        encoded = [e for e in out if isinstance(e, bytes)]
        failures = iter(await asyncio.gather(*self._processes.check_many(loop, encoded)))
        result: list[Checked | AonodeError] = []
        with self._read() as view:
            for m, item in zip(messages, out, strict=True):
                if not isinstance(item, bytes):
                    result.append(item)
                elif (failure := next(failures)) is not None:
                    result.append(failure)
                else:
                    try:
                        result.append(self._lookup(m, item, view))
                    except AonodeError as exc:
                        result.append(exc)
        return result

    def _check_assignment(self, pid: ProcessId, mid: bytes) -> Checked:
        """The stored message `mid`, checked as an assignment to `pid` (`assign`), and its lookups."""
        with self._read() as view:
            try:
                digest = view.get(layout.MESSAGES, mid)
                raw = None if digest is None else view.get_object(bytes(digest))
            except StoreError as exc:
                raise from_store_error(exc) from exc
            if raw is None:
                raise UnknownMessageError(f"message {encode_id(mid)} is not stored on this node")
            encoded = bytes(raw)
            message = decode_message(encoded)
            if message.is_process:
                raise InvalidArgument("a Process message cannot be assigned (it is its own schedule)")
            if not message.target:
                raise InvalidArgument(
                    "the message has no target: only a message addressed to a process can be assigned "
                    "(a process takes an untargeted message as addressed to itself)"
                )
            # Verified again: the stored bytes become a slot's message, checked as any message is.
            check_message(message, self.config.accept_unsigned)
            if message.target == encode_id(pid):
                return self._lookup(message, encoded, view)  # its own target: plain scheduling
            claimed = relayed_tag(message)
            if claimed is not None:
                raise UnassignableMessageError(
                    f"message {encode_id(mid)} carries {claimed}, which a relay vouched for its target "
                    f"{message.target} only: it cannot be assigned to another process"
                )
            try:
                known = view.get(layout.HEADS, pid) is not None
                existing = committed_assignment(view, message.id, pid) if known else None
            except StoreError as exc:
                raise from_store_error(exc) from exc
            return Checked(message, message.id, encoded, pid, known, existing)

    def _needs_validation(self, checked: Checked) -> bool:
        """A Process new to this node that this node would schedule (not one naming another scheduler)."""
        if self._validator is None or not checked.message.is_process:
            return False
        if checked.known_process or checked.existing is not None:
            return False
        named = checked.message.tag("Scheduler")
        return named is None or named == self.address

    def _validate(self, process: Message) -> None:
        """The validator's check of `process` with the module its `Module` tag names (None when that is
        absent, malformed or not stored). On a worker thread: it may compile the module."""
        assert self._validator is not None
        module: Message | None = None
        text = process.tag("Module")
        if text is not None:
            try:
                module_id = decode_id(text.strip(), "Module")
            except InvalidIdError:
                module_id = None
            if module_id is not None:
                with self._read() as view:
                    try:
                        module = stored_message(view, module_id)
                    except StoreError as exc:
                        raise from_store_error(exc) from exc
        self._validator.validate(process, module)

    async def _validate_chunk(
        self, loop: asyncio.AbstractEventLoop, checked: list[Checked | AonodeError]
    ) -> list[Checked | AonodeError]:
        """`checked` with each new Process that fails validation replaced by its error."""
        out = list(checked)
        for i, c in enumerate(checked):
            if isinstance(c, Checked) and self._needs_validation(c):
                try:
                    await loop.run_in_executor(self._workers, self._validate, c.message)
                except AonodeError as exc:
                    out[i] = exc
        return out

    def _verify(self, message: Message) -> bytes:
        """Validate and verify `message`; returns its storage encoding."""
        check_message(message, self.config.accept_unsigned)
        return encode_message(message)

    def _check_one(self, message: Message, view: ReadView) -> Checked:
        return self._lookup(message, self._verify(message), view)

    def _lookup(self, message: Message, encoded: bytes, view: ReadView) -> Checked:
        """Route a checked message and look it up in the store (`Checked` says why)."""
        claimed = relayed_tag(message)
        if claimed is not None and message.owner_address not in self._relays:
            # Processes take From from these tags (relay.py), so only a node that computed that process's
            # outbox (From-Process) or verified a cron task's signed request (Cron-From) may set them: this
            # node, or a relay it is told to trust.
            raise RelayNotTrustedError(
                f"{claimed} may only be set by a trusted relay; {message.owner_address} is not one "
                "(this node's address and its configured trusted_relays are)"
            )
        mid = message.id
        if message.is_process:
            pid = ProcessId(mid)
        elif not message.target:
            raise InvalidArgument("message has no target (and is not a Process)")
        else:
            pid = ProcessId(decode_id(message.target, "target"))
        try:
            known = view.get(layout.HEADS, pid) is not None
            existing = committed_assignment(view, mid, pid) if known else None
        except StoreError as exc:
            raise from_store_error(exc) from exc
        return Checked(message, mid, encoded, pid, known, existing)

    # -- route, deduplicate, admit -------------------------------------------------------------------------

    def _begin_chunk(
        self, loop: asyncio.AbstractEventLoop, checked: list[Checked | AonodeError]
    ) -> list[Outcome | asyncio.Future[Assignment] | RedirectError]:
        """Admit a verified chunk (one read snapshot for its idempotency checks) and sign it on a worker."""
        out: list[Outcome | asyncio.Future[Assignment] | RedirectError] = []
        jobs: list[Job] = []
        for c in checked:
            if isinstance(c, AonodeError):
                out.append(c)
                continue
            try:
                out.append(self._begin(c, jobs))
            except AonodeError as exc:
                out.append(exc)
        if jobs:
            if self._workers is None or self.closed:
                self._pipeline.signed_elsewhere(jobs, _signed_inline(loop, self._pipeline, jobs))
            else:
                fut = loop.run_in_executor(self._workers, self._pipeline.sign, jobs)
                fut.add_done_callback(lambda f: self._pipeline.signed_elsewhere(jobs, f))
        return out

    def _begin(self, checked: Checked, defer: list[Job] | None) -> asyncio.Future[Assignment] | RedirectError:
        """Route, deduplicate and allocate, synchronously on the loop. Returns the future answered once
        the assignment is durable, or the redirect to forward when following redirects. A new job is
        signed and flushed at once, unless `defer` collects it for a worker to sign."""
        if self.closed:
            raise SchedulerClosedError("scheduler is shutting down")
        message, mid, pid = checked.message, checked.id, checked.pid
        if pid in self.replicated:
            address, url = self.replicated[pid]
            return self._redirect_or_raise(
                RedirectError(encode_id(pid), address, self.locations.url_of(address) or url)
            )
        if message.is_process and pid not in self.adopted:
            redirect = self._redirect_for(message, encode_id(mid))
            if redirect is not None:
                return self._redirect_or_raise(redirect)
        proc = self._procs.get(pid)
        if proc is not None and (pending := proc.pending.get(mid)) is not None:
            return pending
        if checked.existing is not None:
            return self._done(checked.existing)
        if mid + pid in self._recent:
            # Committed after the worker's lookup (it was pending then): read it back (rare).
            existing = self._committed(mid, pid)
            if existing is not None:
                return self._done(existing)
        if (proc is None and checked.known_process) or (proc is not None and proc.stale):
            proc = self._proc(pid)  # first use since start: load the head (a store read, once)
        if proc is None or proc.tip_slot < 0:
            if not message.is_process:
                return self._redirect_or_raise(self._unknown_target(pid))
            if proc is None:
                proc = self._procs[pid] = Proc(pid)
                proc.load(None)
        elif message.is_process:
            # The process has a schedule, so its Process message committed (it is not pending).
            existing = self._committed(mid, pid)
            if existing is None:
                raise ScheduleStateError(
                    f"process {encode_id(pid)} has a schedule without its Process message"
                )
            return self._done(existing)
        if self._in_flight >= self.config.max_in_flight:
            raise Overloaded(f"scheduler overloaded: {self._in_flight} messages await their commit")
        assert self._pipeline.loop is not None
        outer: asyncio.Future[Assignment] = self._pipeline.loop.create_future()
        proc.pending[mid] = outer
        self._in_flight += 1
        job = self._pipeline.allocate(proc, checked, outer, self.config.conflict_retries)
        if defer is not None:
            defer.append(job)
        else:
            self._pipeline.sign([job])
            self._pipeline.flush(proc)
        return outer

    def _finish(
        self, proc: Proc, mid: bytes, outer: asyncio.Future[Assignment], result: Assignment | BaseException
    ) -> None:
        if proc.pending.get(mid) is outer:
            del proc.pending[mid]
        if outer.done():
            return
        self._in_flight -= 1
        if isinstance(result, Assignment):
            self._remember(mid + proc.pid)
            outer.set_result(result)
        else:
            outer.set_exception(from_store_error(result))

    # -- helpers -------------------------------------------------------------------------------------------

    def _remember(self, key: bytes) -> None:
        if key in self._recent:
            return
        self._recent.add(key)
        self._recent_order.append(key)
        if len(self._recent_order) > RECENT_COMMITS:
            self._recent.discard(self._recent_order.popleft())

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        current = self._pipeline.loop
        if current is loop:
            return loop
        if current is not None and not current.is_closed():
            raise RuntimeError("a Scheduler serves one event loop at a time")
        # First use, or the previous loop is gone (e.g. successive asyncio.run calls): whatever was parked
        # on it can never be woken, so drop it, and re-read every position from the store.
        for proc in self._procs.values():
            proc.waiters.clear()
            proc.pending.clear()
            proc.queue.clear()
            proc.generation += 1
            proc.stale = True
        self._in_flight = 0
        self._pipeline.loop = loop
        return loop

    def _read(self) -> ReadView:
        try:
            return self._store.read()
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def _proc(self, pid: bytes, view: ReadView | None = None) -> Proc | None:
        """The in-memory state of `pid`, loaded from its head on first use; None for an unknown process
        (not cached: random IDs must not grow memory)."""
        proc = self._procs.get(pid)
        if proc is not None and not proc.stale:
            return proc
        try:
            if view is not None:
                head = stored_head(view, pid)
            else:
                with self._store.read() as own:
                    head = stored_head(own, pid)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if proc is None:
            if head is None:
                return None
            proc = self._procs[pid] = Proc(ProcessId(pid))
        proc.load(head)
        return proc

    def _committed(self, mid: MessageId, pid: bytes) -> Assignment | None:
        try:
            with self._store.read() as view:
                return committed_assignment(view, mid, pid)
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def _done(self, assignment: Assignment) -> asyncio.Future[Assignment]:
        assert self._pipeline.loop is not None
        fut: asyncio.Future[Assignment] = self._pipeline.loop.create_future()
        fut.set_result(assignment)
        return fut

    def _redirect_for(self, process_msg: Message, pid_text: str) -> RedirectError | None:
        """None when this node schedules the process: its `Scheduler` tag names us, or is absent."""
        named = process_msg.tag("Scheduler")
        if named is None or named == self.address:
            return None
        return RedirectError(pid_text, named, self.locations.url_of(named))

    def _unknown_target(self, pid: bytes, view: ReadView | None = None) -> AonodeError:
        # A Process published here (not scheduled) that names another scheduler is redirected there.
        try:
            if view is not None:
                stored = stored_message(view, pid)
            else:
                with self._store.read() as own:
                    stored = stored_message(own, pid)
        except (StoreError, AonodeError):
            stored = None
        if stored is not None and stored.is_process and stored.id == pid:
            redirect = self._redirect_for(stored, encode_id(pid))
            if redirect is not None:
                return redirect
        return UnknownProcessError(f"process {encode_id(pid)} is not scheduled on this node")

    def trust_relays(self, addresses: Sequence[str]) -> None:
        """Trust `addresses` as relays besides this node and the configured ones (replaces the previous
        extra set; aonode/network keeps it from `TrustRelay`). Swapped whole, so a check on a worker
        thread sees one set or the other."""
        self._relays = frozenset({str(self.address), *self.config.trusted_relays, *addresses})

    @property
    def trusted_relays(self) -> frozenset[str]:
        return self._relays

    def _redirect_or_raise(self, err: AonodeError) -> RedirectError:
        if isinstance(err, RedirectError) and self.config.follow_redirects and self._forwarder and err.url:
            return err
        raise err

    async def _forward(self, redirect: RedirectError, message: Message) -> Assignment:
        assert self._forwarder is not None and redirect.url
        return await self._forwarder.schedule_remote(redirect.url, message)


def _ignore(_seconds: float) -> None:
    pass


def _encode(message: Message) -> bytes:
    try:
        return encode_message(message)
    except AonodeError:
        raise
    except Exception as exc:  # a value the codec cannot represent
        raise InvalidArgument(f"message cannot be encoded: {exc}") from exc


def _signed_inline(
    loop: asyncio.AbstractEventLoop, pipeline: Pipeline, jobs: list[Job]
) -> asyncio.Future[None]:
    pipeline.sign(jobs)
    done: asyncio.Future[None] = loop.create_future()
    done.set_result(None)
    return done
