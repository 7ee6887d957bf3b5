"""The `Pusher`: delivers a slot's spawns and outbox to their targets, then pushes the slots that created.

Theory of operation (one event loop; the compute engine and the scheduler do the heavy work):

1. **Compute** the pushed slot (`ComputeEngine.compute`: served from the store when computed already).
2. **Fix the deliveries** of its result, in order: each spawn followed by its `Spawned` notice, then each
   outbox message (`messages.py` builds them: node-signed, `From-Process` = the pushing process). Their
   intent records are written in one durable batch *before* anything is scheduled; a later push of the
   same slot reads them back instead of signing anew.
3. **Schedule** each delivery through the `Scheduler`: locally, or, when the scheduler answers with a
   redirect (the target's Process names another scheduler whose location is known), on that node through
   the `Forwarder` port; the tree then names the node's URL.
4. **Recurse** depth first into every slot a delivery created here (a spawn's slot 0 too), in order. A
   slot created on another node is pushed there, through the `RemotePusher` port (sync, with the hops
   that remain), and the tree it returns is grafted under the delivery; without the port, or when that
   push fails, the node says `stopped: remote: ...` and the push goes on with the other deliveries.

Idempotency: scheduling is idempotent on the message ID and the intent record pins the message, so a
second push of the same slot, or a push after a crash in the middle of the first, finds every delivery
already assigned (`existing`) and only makes the missing ones; it walks the whole tree again, which is
how an interrupted push resumes (re-push the root). The alternative, a deterministic message alone (the
Ed25519 signature is deterministic, so the same content gives the same ID), is kept as well (the origin
tags make the content unique per origin) but does not hold for RSA-PSS node wallets; the intent record
does, at the price of one durable write per result that has deliveries.

Bounds (`PushConfig`), each recorded as `stopped` on the tree node where it bit, never raised: hops from
the root, deliveries per result, deliveries per push, deliveries per (source, target) pair along a path
(ping-pong), and a slot reached twice in one push is not pushed twice (`cycle`). Across pushes, the relay
budget (`relay.py`: messages relayed to one process per window) refuses a delivery over it
(`relay-limit: RESOURCE_EXHAUSTED`), which ends loops that every new push would extend. Only the hop bound
crosses nodes (`max_hops` of the remote push: what remains of this push's bound), so two nodes bouncing a
push between them stop there; the pair and slot checks, the fan-out and the root budget are per node.
Errors of one delivery (no target, unknown target, a refused message, a failed computation, a failed
remote push) are recorded on its node (`error: STATUS: ...`) and the push goes on with the others.

Unreachable nodes: a delivery (or the continuation of a push on another node) that failed because a node
could not be reached (UNAVAILABLE: down, no valid location, the process directory could not ask a node)
is recorded `unreachable: ...` and counted `undelivered`; the push then ends `incomplete`, is recorded
(synchronous pushes too, so the caller gets an ID) and retried with backoff (`retry_first_ms` doubling to
`retry_max_ms`), also after a restart, until nothing is undelivered (`done`) or `retry_deadline_ms` has
passed since it started (`failed`). Retrying is pushing the root again, which is idempotent.

Remote targets are found by the `Router` port (aonode/network: the process directory), so a process
never seen here is delivered to its scheduler without hand work; before scheduling there, the node asks
whether the message is already scheduled (`RemoteAssignments`), so a re-push reports it `existing`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace

from aonode.aio import durable
from aonode.compute import ComputeEngine
from aonode.crypto import Signer
from aonode.errors import AonodeError, InvalidArgument, NotFound, OutOfRange, Unavailable
from aonode.ids import b64url_encode, decode_id, encode_id, is_id
from aonode.model import MAX_SLOT, Assignment, Message
from aonode.push import messages as m
from aonode.push.config import (
    PushConfig,
    PushNode,
    PushReport,
    RemoteAssignments,
    RemotePusher,
    Router,
    State,
    trim_result,
)
from aonode.push.records import DONE, RUNS, PushRecord
from aonode.push.relay import RelayBudget, RelayLimitExceeded
from aonode.scheduler import Forwarder, Scheduler, wall_clock_ms
from aonode.scheduler.errors import RedirectError
from store import ConflictError, ObjectStore, StoreError, WriteBatch

log = logging.getLogger("aonode.push")


@dataclass
class _Run:
    report: PushReport
    result_depth: int
    max_depth: int
    max_hops: int = 0
    visited: set[tuple[bytes, int]] = field(default_factory=set)
    pairs: Counter[tuple[bytes, bytes]] = field(default_factory=Counter)
    total: int = 0
    task: asyncio.Task[None] | None = None
    record: PushRecord | None = None  # asynchronous pushes are recorded (records.py)


@dataclass(frozen=True)
class _Delivery:
    kind: int
    index: int
    message: Message


class Pusher:
    """Push slots of processes scheduled here. One event loop at a time (the scheduler's)."""

    def __init__(
        self,
        store: ObjectStore,
        scheduler: Scheduler,
        engine: ComputeEngine,
        signer: Signer,
        config: PushConfig | None = None,
        *,
        forwarder: Forwarder | None = None,
        remote: RemotePusher | None = None,
        router: Router | None = None,
        assignments: RemoteAssignments | None = None,
        follow_redirects: bool = False,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._engine = engine
        self._signer = signer
        self.config = config or PushConfig()
        self._relay = RelayBudget(self.config.relay_limit, self.config.relay_window_ms)
        self._forwarder = forwarder
        self._remote = remote
        self.router = router
        self.assignments = assignments
        self._follow = follow_redirects
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._retries: dict[str, asyncio.TimerHandle] = {}
        # Roots (process, slot) of pushes left incomplete and retried: one retried push per root.
        self._incomplete: dict[tuple[bytes, int], str] = {}
        self._closed = False
        # Deliveries by outcome (`delivered`, `remote`, `existing`, `relay_limit`, `error`, `cycle`): the
        # node's metrics read it.
        self.deliveries: Counter[str] = Counter()

    # -- public API ----------------------------------------------------------------------------------------

    async def push(
        self, process: bytes, slot: int, *, result_depth: int = 1, max_hops: int = 0
    ) -> PushReport:
        """Push `slot` of `process` and wait: the report holds the whole tree. `max_hops` > 0 lowers the
        hop bound for this push (a push continued from another node carries what remains of its bound);
        it never raises it above `config.max_depth`. A process scheduled by another node is a redirect
        (`RedirectError`), or, with `follow_redirects`, pushed there and its tree returned."""
        try:
            await self._check_slot(process, slot)
        except RedirectError as redirect:
            if not (self._follow and redirect.url and self._remote is not None):
                raise
            tree = await self._remote.push_remote(
                redirect.url, encode_id(process), slot, max_hops=max_hops, result_depth=result_depth
            )
            return _remote_report(tree, redirect.url)
        run = self._new_run(process, slot, result_depth, max_hops)
        await self._run(run, process, slot)
        return run.report

    async def start(
        self, process: bytes, slot: int, *, result_depth: int = 1, max_hops: int = 0
    ) -> PushReport:
        """Start a push in the background; `get(report.push_id)` follows it, also after a restart (the
        push is recorded durably before this returns, and resumed by `resume()` if it was interrupted)."""
        await self._check_slot(process, slot)
        retrying = self._incomplete.get((process, slot))
        if retrying is not None:  # already retried by the node: follow that push
            return self.get(retrying)
        run = self._new_run(process, slot, result_depth, max_hops)
        now = wall_clock_ms()
        run.record = PushRecord(
            run.report.push_id,
            process,
            slot,
            result_depth,
            max_hops,
            now,
            deadline=now + self.config.retry_deadline_ms,
        )
        batch = WriteBatch()
        run.record.put(batch)
        try:
            await durable(self._store.submit(batch))
        except StoreError as exc:
            del self._runs[run.report.push_id]
            raise AonodeError(f"push: cannot record the push: {exc}") from exc
        run.task = asyncio.get_running_loop().create_task(self._run(run, process, slot))
        return run.report

    async def resume(self) -> int:
        """Restart every recorded push that was still running when the node stopped, under its ID, and
        schedule the retries of incomplete ones; returns how many. Call once, at start."""
        records = await asyncio.to_thread(self._running_records)
        now = wall_clock_ms()
        for record in records:
            if record.state == "incomplete":
                self._incomplete[(record.process, record.slot)] = record.push_id
                self._retry_later(record, max(0, record.next_retry - now))
            else:
                self._rerun(record)
        return len(records)

    def _rerun(self, record: PushRecord) -> None:
        """Run the push of `record` again under its ID (a resume or a retry)."""
        self._retries.pop(record.push_id, None)
        if self._closed:
            return
        run = self._new_run(record.process, record.slot, record.result_depth, record.max_hops)
        del self._runs[run.report.push_id]
        run.report.push_id = record.push_id
        run.record = record
        self._runs[record.push_id] = run
        run.task = asyncio.get_running_loop().create_task(self._run(run, record.process, record.slot))
        log.info("push %s of %s slot %d resumed", record.push_id, encode_id(record.process), record.slot)

    def _retry_later(self, record: PushRecord, delay_ms: int) -> None:
        old = self._retries.pop(record.push_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._retries[record.push_id] = loop.call_later(max(0, delay_ms) / 1000, self._rerun, record)

    def get(self, push_id: str) -> PushReport:
        run = self._runs.get(push_id)
        if run is not None:
            return run.report
        raw = self._store.get(RUNS, decode_id(push_id, "push_id"))
        if raw is None:
            raise NotFound(f"push {push_id} is not known on this node (a sync push, or forgotten long ago)")
        return PushRecord.decode(push_id, bytes(raw)).report()

    async def close(self) -> None:
        """Cancel running pushes (recorded ones are resumed by the next start's `resume()`; re-pushing
        a root resumes any push)."""
        self._closed = True
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        tasks = [r.task for r in self._runs.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- the walk ------------------------------------------------------------------------------------------

    async def _check_slot(self, process: bytes, slot: int) -> None:
        """INVALID_ARGUMENT for a number that is no slot, OUT_OF_RANGE for one past the schedule's tip
        (not the DATA_LOSS a missing assignment means), a redirect for a process another node schedules
        (the router knows or finds it), NotFound for a process nobody is known to schedule."""
        if not 0 <= slot <= MAX_SLOT:
            raise InvalidArgument(f"slot: {slot} is not a slot (0 .. {MAX_SLOT})")
        try:
            tip = self._scheduler.head(process).slot
        except NotFound:
            route = await self.router.route(process) if self.router is not None else None
            if route is None:
                raise
            raise RedirectError(encode_id(process), route[0], route[1]) from None
        if slot > tip:
            raise OutOfRange(f"process {encode_id(process)}: slot {slot} is beyond the tip ({tip})")

    def _new_run(self, process: bytes, slot: int, result_depth: int, max_hops: int) -> _Run:
        if self._closed:
            raise AonodeError("push: the node is shutting down")
        push_id = b64url_encode(os.urandom(32))
        report = PushReport(push_id, "running", PushNode(process=encode_id(process), slot=slot, kind="root"))
        bound = self.config.max_depth if max_hops <= 0 else min(max_hops, self.config.max_depth)
        run = _Run(report, result_depth, bound, max_hops)
        self._runs[push_id] = run
        finished = [k for k, r in self._runs.items() if r.report.state != "running"]
        for k in finished[: max(0, len(self._runs) - self.config.max_pushes_kept)]:
            del self._runs[k]
        return run

    async def _run(self, run: _Run, process: bytes, slot: int) -> None:
        report = run.report
        state: State = "done"
        error = ""
        try:
            # The root's own message ID: the assignment at that slot (NotFound for an unknown process).
            assignments = self._scheduler.read_assignments(process, slot, 1)
            if assignments:
                report.tree.message_id = encode_id(assignments[0].message)
            await self._push_slot(run, report.tree, process, slot, 0)
        except asyncio.CancelledError:
            report.state, report.error = "failed", "cancelled"  # the record stays "running": resumed
            raise
        except AonodeError as exc:
            state, error = "failed", str(exc)
            if run.task is None:
                report.state, report.error = state, error
                raise
        except Exception as exc:  # a bug: keep the async record readable, then let it surface
            log.exception("push failed")
            state, error = "failed", f"internal error: {type(exc).__name__}"
            if run.task is None:
                report.state, report.error = state, error
                raise
        root = (process, slot)
        retrying = self._incomplete.get(root)
        if state == "done" and report.undelivered:
            state = "incomplete"
            now = wall_clock_ms()
            if run.record is None and retrying is not None and retrying != report.push_id:
                # The node already retries a push of this slot (one per root: a caller repeating a push
                # must not pile up records and timers); its ID is the one to follow.
                report.push_id = retrying
            elif run.record is None and len(self._incomplete) >= self.config.max_pushes_kept:
                error = (
                    f"not retried: {len(self._incomplete)} pushes already wait for retries; push again later"
                )
            elif run.record is None:  # a synchronous push: recorded now, so it is retried (and GetPush works)
                run.record = PushRecord(
                    report.push_id,
                    process,
                    slot,
                    run.result_depth,
                    run.max_hops,
                    now,
                    deadline=now + self.config.retry_deadline_ms,
                )
            if run.record is not None and now >= run.record.deadline:
                state = "failed"
                error = f"{report.undelivered} deliveries not made before the push's retry deadline"
            elif run.record is not None:
                wait = min(
                    self.config.retry_max_ms, self.config.retry_first_ms << min(run.record.attempts, 30)
                )
                run.record = replace(run.record, attempts=run.record.attempts + 1, next_retry=now + wait)
        # An asynchronous push is reported finished only once its record says so.
        await self._finish_record(run, state, error)
        report.state, report.error = state, error
        if run.record is not None:
            if state == "incomplete":
                self._incomplete[root] = run.record.push_id
            elif retrying == run.record.push_id:
                del self._incomplete[root]
        if state == "incomplete" and run.record is not None and not self._closed:
            self._retry_later(run.record, run.record.next_retry - wall_clock_ms())

    async def _push_slot(self, run: _Run, node: PushNode, process: bytes, slot: int, depth: int) -> None:
        if (process, slot) in run.visited:
            node.stopped = "cycle: slot already pushed in this push"
            return
        run.visited.add((process, slot))
        computed = await self._engine.compute(process, slot)
        node.result = trim_result(computed.result, run.result_depth)
        result = computed.result
        count = len(result.spawns) * 2 + len(result.messages)
        if count == 0:
            return
        if depth >= run.max_depth:
            node.stopped = f"hop-limit: {run.max_depth} hops reached; {count} deliveries not made"
            return
        deliveries = await self._prepare(process, slot, result.spawns, result.messages)
        if len(deliveries) > self.config.max_fanout:
            node.stopped = (
                f"fan-out: {len(deliveries)} deliveries, only the first {self.config.max_fanout} made"
            )
            deliveries = deliveries[: self.config.max_fanout]
        failed_spawns: set[int] = set()
        for d in deliveries:
            if d.kind == m.SPAWNED and d.index in failed_spawns:
                continue  # no notice for a spawn that was not made
            if run.total >= self.config.max_per_root:
                node.stopped = f"root-budget: {self.config.max_per_root} deliveries made by this push"
                return
            child = await self._deliver(run, process, slot, d, depth)
            node.children.append(child)
            if child.stopped.startswith("unreachable:"):
                run.report.undelivered += 1
            if d.kind == m.SPAWN and child.slot is None:
                failed_spawns.add(d.index)

    async def _deliver(self, run: _Run, process: bytes, slot: int, d: _Delivery, depth: int) -> PushNode:
        node = PushNode(
            process=d.message.target,
            message_id=encode_id(d.message.id),
            kind=m.KIND_NAMES[d.kind],  # type: ignore[arg-type]
            from_process=encode_id(process),
            from_slot=slot,
            index=d.index,
        )
        if d.kind == m.SPAWN:
            node.process = encode_id(d.message.id)
        elif not is_id(d.message.target):
            node.stopped = f"error: outbox message {d.index} has no valid target ({d.message.target[:64]!r})"
            self.deliveries["error"] += 1
            return node
        target = decode_id(node.process, "target")
        pair = (process, target)
        if run.pairs[pair] >= self.config.max_pair:
            node.stopped = (
                f"cycle: {self.config.max_pair} deliveries from this process to this target on this path"
            )
            self.deliveries["cycle"] += 1
            return node
        run.total += 1
        existing = self._assigned(d.message, target)
        remote = ""
        existed = existing is not None
        try:
            if existing is not None:
                assignment = existing
            else:
                self._relay.take(target, node.process)
                assignment, remote, existed = await self._schedule(d.message, target)
        except RelayLimitExceeded as exc:
            node.stopped = f"relay-limit: {exc.status}: {exc}"
            self.deliveries["relay_limit"] += 1
            return node
        except Unavailable as exc:
            node.stopped = f"unreachable: {exc.status}: {exc}"
            return node
        except AonodeError as exc:
            node.stopped = f"error: {exc.status}: {exc}"
            self.deliveries["error"] += 1
            return node
        node.slot = assignment.slot
        node.existing = existed
        if node.existing:
            run.report.existing += 1
            self.deliveries["existing"] += 1
        else:
            run.report.delivered += 1
            self.deliveries["remote" if remote else "delivered"] += 1
        if remote:
            node.node = remote
            await self._push_remote(run, node, remote, depth + 1)
            return node
        # The pair count is per path (ancestors only): a ping-pong chain grows it, siblings do not.
        run.pairs[pair] += 1
        try:
            await self._push_slot(run, node, target, assignment.slot, depth + 1)
        except AonodeError as exc:  # this branch cannot go on; its siblings can
            node.stopped = f"error: {exc.status}: {exc}"
        finally:
            run.pairs[pair] -= 1
        return node

    async def _push_remote(self, run: _Run, node: PushNode, url: str, depth: int) -> None:
        """Continue the push on the node at `url` from the slot `node` got there (at `depth` hops from
        this push's root) and graft the tree it returns; record why not when it cannot."""
        assert node.slot is not None
        if self._remote is None:
            node.stopped = "remote: the target is scheduled on another node; push it there"
            return
        remaining = run.max_depth - depth
        if remaining <= 0:
            node.stopped = f"hop-limit: {run.max_depth} hops reached; the slot on {url} is not pushed"
            return
        try:
            tree = await self._remote.push_remote(
                url, node.process, node.slot, max_hops=remaining, result_depth=run.result_depth
            )
        except Unavailable as exc:  # the delivery was made; its continuation there waits for a retry
            node.stopped = f"unreachable: {exc.status}: {exc}"
            return
        except AonodeError as exc:
            node.stopped = f"remote: {exc.status}: {exc}"
            return
        node.result, node.stopped, node.children = tree.result, tree.stopped, tree.children
        _count_grafted(run.report, tree.children, url)

    # -- records -------------------------------------------------------------------------------------------

    async def _finish_record(self, run: _Run, state: State, error: str) -> None:
        if run.record is None:
            return
        r = run.report
        run.record = replace(
            run.record,
            state=state,
            delivered=r.delivered,
            existing=r.existing,
            undelivered=r.undelivered,
            error=error,
            finished=wall_clock_ms(),
            tree=r.tree,
        )
        batch = WriteBatch()
        run.record.put(batch)
        try:
            await durable(self._store.submit(batch))
            await asyncio.to_thread(self._forget_old)
        except StoreError as exc:  # GetPush answers from memory; after a restart the push is re-run
            log.warning("push %s: record not saved: %s", r.push_id, exc)

    def _forget_old(self) -> None:
        """Worker thread: drop the oldest finished records beyond `max_pushes_kept`."""
        with self._store.read() as view:
            done = [bytes(k) for k, _ in view.range(DONE)]
        extra = len(done) - self.config.max_pushes_kept
        if extra <= 0:
            return
        batch = WriteBatch()
        for key in done[:extra]:
            batch.delete(DONE, key)
            batch.delete(RUNS, key[8:])
        self._store.write(batch)

    def _running_records(self) -> list[PushRecord]:
        out = []
        with self._store.read() as view:
            for key, raw in view.range(RUNS):
                record = PushRecord.decode(encode_id(bytes(key)), bytes(raw))
                if record.state in ("running", "incomplete"):
                    out.append(record)
        return sorted(out, key=lambda r: r.started)

    # -- helpers -------------------------------------------------------------------------------------------

    async def _prepare(
        self, process: bytes, slot: int, spawns: tuple[Message, ...], outbox: tuple[Message, ...]
    ) -> list[_Delivery]:
        """The deliveries of a result, from their intent records, writing the missing ones first."""
        wanted = [(m.SPAWN, i) for i in range(len(spawns))]
        wanted += [(m.SPAWNED, i) for i in range(len(spawns))]
        wanted += [(m.MESSAGE, i) for i in range(len(outbox))]
        for attempt in range(2):
            with self._store.read() as view:
                found = {(k, i): m.read_intent(view, m.intent_key(process, slot, k, i)) for k, i in wanted}
            built: dict[tuple[int, int], Message] = {}
            parent: Message | None = None
            if any(found[(m.SPAWN, i)] is None for i in range(len(spawns))):
                try:
                    parent = self._scheduler.get_message(process)
                except NotFound:
                    parent = None
            for i, entry in enumerate(spawns):
                spawn = found[(m.SPAWN, i)] or m.spawn_message(
                    process, slot, i, entry, parent, self._scheduler.address, self._signer
                )
                built[(m.SPAWN, i)] = spawn
                built[(m.SPAWNED, i)] = found[(m.SPAWNED, i)] or m.spawned_notice(
                    process, slot, i, spawn, spawn.id, self._signer
                )
            for i, entry in enumerate(outbox):
                built[(m.MESSAGE, i)] = found[(m.MESSAGE, i)] or m.outbox_message(
                    process, slot, i, entry, self._signer
                )
            batch = WriteBatch()
            for key, message in built.items():
                if found[key] is None:
                    m.add_intent(batch, m.intent_key(process, slot, *key), message)
            if len(batch):
                try:
                    await asyncio.wrap_future(self._store.submit(batch))
                except ConflictError:
                    if attempt == 0:
                        continue  # a concurrent push of this slot wrote them: read theirs
                    raise
                except StoreError as exc:
                    raise AonodeError(f"push: cannot record deliveries: {exc}") from exc
            interleaved = [x for i in range(len(spawns)) for x in ((m.SPAWN, i), (m.SPAWNED, i))]
            order = interleaved + [(m.MESSAGE, i) for i in range(len(outbox))]
            return [_Delivery(k, i, built[(k, i)]) for k, i in order]
        raise AssertionError("unreachable")

    def _assigned(self, message: Message, target: bytes) -> Assignment | None:
        try:
            return self._scheduler.assignment_of(message.id, target)
        except NotFound:
            return None

    async def _schedule(self, message: Message, target: bytes) -> tuple[Assignment, str, bool]:
        """Schedule here, or on the target's scheduler node; returns the assignment, that node's URL
        (empty when it is this node) and whether it existed there already."""
        if self.router is not None and not message.is_process:
            route = await self.router.route(target)  # Unavailable: a node that may know it is down
            if route is not None:
                address, url = route
                if url is None:
                    raise Unavailable(
                        f"process {message.target} is scheduled by {address}, whose location is not known "
                        "here or has expired"
                    )
                if self._forwarder is None:
                    raise RedirectError(message.target, address, url)
                if self.assignments is not None:
                    found = await self.assignments.assignment_remote(url, message.id, target)
                    if found is not None:
                        return found, url, True
                return await self._forwarder.schedule_remote(url, message), url, False
        try:
            assignment = await self._scheduler.schedule(message)
        except RedirectError as redirect:
            if redirect.url is None or self._forwarder is None:
                raise
            return await self._forwarder.schedule_remote(redirect.url, message), redirect.url, False
        signer = assignment.signature.address if assignment.signature is not None else self._scheduler.address
        if signer != self._scheduler.address:  # the scheduler followed the redirect itself
            return assignment, self._scheduler.locations.url_of(signer) or signer, False
        return assignment, "", False


def _count_grafted(report: PushReport, children: list[PushNode], url: str) -> None:
    """Name `url` on the nodes of a subtree another node returned (those it made) and count its deliveries
    into `report` as that node reported them; an `unreachable` one is undelivered (retried from here)."""
    for grafted in (n for child in children for n in child.walk()):
        grafted.node = grafted.node or url
        if grafted.stopped.startswith("unreachable:"):
            report.undelivered += 1
        if grafted.slot is None:
            continue
        if grafted.existing:
            report.existing += 1
        else:
            report.delivered += 1


def _remote_report(tree: PushNode, url: str) -> PushReport:
    """The report of a push another node made for us (`follow_redirects`): its tree, named by its URL."""
    report = PushReport("", "done", tree)
    tree.node = tree.node or url
    _count_grafted(report, tree.children, url)
    if report.undelivered:
        report.state = "incomplete"  # that node records and retries it
    return report
