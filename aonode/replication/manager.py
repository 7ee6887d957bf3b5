"""`Replication`: the node's replicas, persisted like cron tasks, and the operator actions on them.

Replicas come from three places: `AddReplica` requests (signed by an operator), `[[replica]]` entries in
the config file and `--replicate-from` on `aonode serve` (both trusted: whoever writes the node's config
runs the node). Each is a `ReplicaSpec` in the `replicas` table (ID → JSON), so a replica added at run time
survives a restart and resumes at its last stored slot; config replicas are re-declared at every start.

Who may add or remove a replica: an **operator**, i.e. the node's own wallet or an address listed in
`[replication] operators`. Adding one makes the node connect out to any address and store what comes
back (verified, but still disk and CPU), so it is an operator action like lifting a stall
(docs/compute.md): the request is a message signed by the operator, `Action` = `Add-Replica` /
`Remove-Replica`, with an `Issued-At` tag (ms) within `MAX_SKEW_MS` of the node's clock so an old copy
cannot be replayed later; a removed replica's ID is kept (`replicas_removed`), so its add request cannot
bring it back within that window either.

Every process a replica stored is recorded in `replica_procs` (process → JSON: replica, scheduler,
leader). From that record the scheduler redirects writes to the process (`Scheduler.replicated`), even
after the replica is removed: the node holds a copy of someone else's schedule and must never extend it.
Both tables and the hand-off records are read when the manager is built, before the node serves a
request, so a restarted node never assigns a slot it must redirect.

Hand-off (`put_record`, `records_from_leader`; records: handoff.py): an owner-signed scheduler record is
applied under one lock, by role:
- it names this node (**promotion**): this node must hold the process as a copy whose last slot is
  `From-Slot - 1`; the follower is paused (its batches durable), the record stored, the process leaves
  `replica_procs` and `Scheduler.replicated`: the scheduler continues the chain from the stored head with
  this node's key. The record is queued for the old leader (`handoff_outbox`), sent every few seconds
  until it answers; if it answers with orphans (its slots at or after From-Slot), their messages are
  read from it and scheduled here again (`_reschedule_orphans`);
- it names another node and this node schedules the process (the **old leader**): the process joins
  `Scheduler.replicated` at once (no slot is allocated after this), the slots accepted before settle, the
  record is stored; slots at or after `From-Slot` are reported as orphaned;
- it names another node and this node holds a copy (a **replica**): refused (RecordConflict) if the copy
  holds a slot at or after `From-Slot` (the new schedule drops it); else stored, and writes now redirect
  to the new scheduler, whose signatures the follower accepts from `From-Slot`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict

from aonode.codec import decode_assignment, decode_message
from aonode.compute import ComputeEngine
from aonode.crypto import Signer, verify_message
from aonode.errors import (
    AlreadyExists,
    AonodeError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from aonode.ids import address_of, decode_id, encode_id
from aonode.model import Message
from aonode.replication.follower import Follower, ReplicaSpec, ReplicaStatus
from aonode.replication.handoff import (
    MAX_RECORDS,
    RecordBook,
    RecordConflict,
    SchedulerRecord,
    Segment,
    StaleRecord,
    check_signer,
    decode_record,
    parse_record,
    segments,
)
from aonode.replication.port import Leader, LeaderFactory, RecordReply
from aonode.replication.verify import Equivocation, Refused
from aonode.scheduler import Scheduler
from aonode.scheduler import layout as sched_layout
from aonode.scheduler.errors import from_store_error
from aonode.scheduler.reads import read_range_encoded, stored_head, stored_message
from store import ConflictError, ObjectStore, ReadView, StoreError, WriteBatch, read_u64, u64

log = logging.getLogger("aonode.replication")

REPLICAS = "replicas"
REPLICA_PROCS = "replica_procs"
EVIDENCE = "replica_evidence"
REMOVED = "replicas_removed"
ADD_ACTION = "Add-Replica"
REMOVE_ACTION = "Remove-Replica"
OUTBOX = "handoff_outbox"
MAX_SKEW_MS = 5 * 60 * 1000
MAX_PROCESSES = 1000
DELIVER_SECONDS = 2.0
MAX_ORPHANS = 100_000  # re-scheduled after one hand-off at most

# `Replication.list` shadows the builtin inside the class body.
_Raw = list[bytes]
_Records = list[SchedulerRecord]
_Segments = list[Segment]


class Replication:
    def __init__(
        self,
        store: ObjectStore,
        scheduler: Scheduler,
        engine: ComputeEngine | None,
        signer: Signer,
        connect: LeaderFactory | None,
        *,
        operators: tuple[str, ...] = (),
        configured: list[ReplicaSpec] | None = None,
        accept_unsigned: bool = False,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._engine = engine
        self._connect = connect
        self.operators = frozenset({str(signer.address), *operators})
        self._configured = configured or []
        self._accept_unsigned = accept_unsigned
        self.followers: dict[str, Follower] = {}
        self._procs: dict[bytes, dict[str, str]] = {}
        self.address = str(signer.address)
        self.book = RecordBook(store)
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._deliver: asyncio.Task[None] | None = None
        self._load()

    def _load(self) -> None:
        """Who schedules what, from the store, before the node serves anything (module docstring)."""
        with self._store.read() as view:
            for k, v in view.range(REPLICA_PROCS):
                self._procs[bytes(k)] = json.loads(bytes(v))
        for pid, rec in self._procs.items():
            self._scheduler.replicated[pid] = (rec.get("scheduler", ""), rec.get("leader", ""))
        for pid, latest in self.book.every_latest().items():
            self._apply_latest(pid, latest)

    def _apply_latest(self, pid: bytes, latest: SchedulerRecord) -> None:
        if latest.scheduler == self.address:
            self._scheduler.replicated.pop(pid, None)
            self._scheduler.adopted.add(pid)
        else:
            self._scheduler.adopted.discard(pid)
            leader = self._procs.get(pid, {}).get("leader") or None
            self._scheduler.replicated[pid] = (latest.scheduler, latest.url or leader)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        evidence: dict[str, list[Equivocation]] = {}
        with self._store.read() as view:
            specs = [_spec_from_json(bytes(v)) for _, v in view.range(REPLICAS)]
            for k, v in view.range(EVIDENCE):
                key, record = bytes(k), json.loads(bytes(v))
                ev = Equivocation(
                    key[:32],
                    read_u64(key[32:]),
                    bytes.fromhex(record["first"]),
                    bytes.fromhex(record["second"]),
                )
                evidence.setdefault(record["replica"], []).append(ev)
        for spec in self._configured:
            if spec.id not in {s.id for s in specs}:
                await self._put_spec(spec)
                specs.append(spec)
        if self._connect is None:
            return
        for spec in specs:
            (await self._start(spec)).equivocations.extend(evidence.get(spec.id, []))
        self._deliver = asyncio.create_task(self._deliver_loop(), name="handoff-deliver")

    async def close(self) -> None:
        if self._deliver is not None:
            self._deliver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._deliver
        await asyncio.gather(*(f.stop() for f in self.followers.values()))

    async def _start(self, spec: ReplicaSpec) -> Follower:
        assert self._connect is not None
        known = [p for p, rec in self._procs.items() if rec.get("replica") == spec.id]
        f = Follower(
            spec,
            self._store,
            self._scheduler,
            self._engine,
            self._connect,
            accept_unsigned=self._accept_unsigned,
            on_failed=self._failed,
            on_new_process=self._new_process,
            on_scheduler=self._new_scheduler,
            on_records=self.records_from_leader,
            book=self.book,
            known=known,
        )
        for pid in spec.processes:
            await self._new_process(spec, pid)
        self.followers[spec.id] = f
        f.start()
        return f

    # -- operator actions ----------------------------------------------------------------------------------

    async def add(self, authorization: Message) -> ReplicaStatus:
        self._authorize(authorization, ADD_ACTION)
        leader = authorization.tag("Leader") or ""
        if not leader or ":" not in leader:
            raise InvalidArgument("Add-Replica: the Leader tag must be HOST:PORT")
        processes = [decode_id(t.value, "Process") for t in authorization.tags if t.name.lower() == "process"]
        everything = (authorization.tag("All") or "").lower() == "true"
        if not processes and not everything:
            raise InvalidArgument("Add-Replica: name at least one Process, or All = true")
        if len(processes) > MAX_PROCESSES:
            raise InvalidArgument(f"Add-Replica: at most {MAX_PROCESSES} processes")
        spec = ReplicaSpec(encode_id(authorization.id), leader, processes, everything, origin="cli")
        spec.recompute = (authorization.tag("Recompute") or "true").lower() != "false"
        if spec.id in self.followers:
            raise AlreadyExists(f"replica {spec.id} exists")
        with self._store.read() as view:
            if view.get(REMOVED, spec.id.encode()) is not None:
                raise AlreadyExists(f"replica {spec.id} was removed: a removed replica's request is spent")
        self.check_processes(spec)
        await self.add_spec(spec)
        return self.followers[spec.id].snapshot()

    def check_processes(self, spec: ReplicaSpec) -> None:
        with self._store.read() as view:
            for pid in spec.processes:
                owner = self._procs.get(pid, {}).get("replica")
                if owner and owner in self.followers and owner != spec.id:
                    raise AlreadyExists(f"process {encode_id(pid)} is already followed by replica {owner}")
                head = stored_head(view, pid)
                if pid not in self._scheduler.replicated and head is not None:
                    raise FailedPrecondition(f"process {encode_id(pid)} is scheduled by this node")
                latest = self.book.latest(pid, view)
                if (
                    latest is not None
                    and head is not None
                    and head.slot >= latest.from_slot
                    and self._signer_of(view, pid, latest.from_slot) != latest.scheduler
                ):
                    raise FailedPrecondition(
                        f"this node holds slots {latest.from_slot}..{head.slot} of process {encode_id(pid)} "
                        f"that the hand-off to {latest.scheduler} dropped: it cannot follow the new schedule"
                    )

    async def add_spec(self, spec: ReplicaSpec) -> None:
        await self._put_spec(spec)
        if self._connect is not None:
            await self._start(spec)

    async def remove(self, authorization: Message) -> ReplicaStatus:
        self._authorize(authorization, REMOVE_ACTION)
        rid = authorization.tag("Replica") or ""
        follower = self.followers.get(rid)
        if follower is None:
            raise NotFound(f"no replica {rid!r}")
        await follower.stop()
        del self.followers[rid]
        batch = WriteBatch()
        batch.delete(REPLICAS, rid.encode())
        batch.put(REMOVED, rid.encode(), b"")  # its add request cannot be replayed to bring it back
        await self._submit(batch)
        return follower.snapshot()

    def list(self, process: bytes | None = None) -> list[ReplicaStatus]:
        out = [f.snapshot() for f in self.followers.values()]
        if process is not None:
            out = [s for s in out if any(p.process == process for p in s.processes)]
        return out

    def _authorize(self, authorization: Message, action: str) -> None:
        authorization.validate()
        if authorization.signature is None:
            raise PermissionDenied(f"{action}: the request must be signed by an operator of this node")
        verify_message(authorization)
        signer = authorization.owner_address
        if signer is None or str(signer) not in self.operators:
            raise PermissionDenied(f"{action}: {signer} is not an operator of this node")
        if authorization.tag("Action") != action:
            raise InvalidArgument(f"the request's Action must be {action}")
        issued = authorization.tag("Issued-At") or ""
        now = int(time.time() * 1000)
        if not issued.isdigit() or abs(now - int(issued)) > MAX_SKEW_MS:
            raise InvalidArgument(f"{action}: Issued-At must be the current time in ms (within 5 minutes)")

    # -- persistence ---------------------------------------------------------------------------------------

    async def _submit(self, batch: WriteBatch) -> None:
        try:
            await asyncio.wrap_future(self._store.submit(batch))
        except StoreError as exc:
            raise from_store_error(exc) from exc

    async def _put_spec(self, spec: ReplicaSpec) -> None:
        batch = WriteBatch()
        batch.put(REPLICAS, spec.id.encode(), _spec_to_json(spec))
        await self._submit(batch)

    async def _new_process(self, spec: ReplicaSpec, pid: bytes) -> None:
        held = self._procs.get(pid, {}).get("replica")
        if held is not None and (held == spec.id or held in self.followers):
            return  # (a removed replica's process, followed again: the new replica takes it over)
        current = self._scheduler.replicated.get(pid, ("", None))[0]
        rec = {"replica": spec.id, "leader": spec.leader, "scheduler": current}
        self._procs[pid] = rec
        batch = WriteBatch()
        batch.put(REPLICA_PROCS, pid, json.dumps(rec).encode())
        await self._submit(batch)  # durable before the first slot's batch, which is submitted after it

    async def _new_scheduler(self, spec: ReplicaSpec, pid: bytes, address: str) -> None:
        """The follower learned whose signatures count for `pid` (slot 0, or a hand-off): persisted, so
        the redirect after a restart names it."""
        rec = self._procs.get(pid)
        if rec is None or rec.get("scheduler") == address:
            return
        rec["scheduler"] = address
        batch = WriteBatch()
        batch.put(REPLICA_PROCS, pid, json.dumps(rec).encode())
        await self._submit(batch)

    async def _failed(self, spec: ReplicaSpec, refused: Refused) -> None:
        batch = WriteBatch()
        batch.put(REPLICAS, spec.id.encode(), _spec_to_json(spec))
        ev = refused.equivocation
        if ev is not None:
            record = {"first": ev.first.hex(), "second": ev.second.hex(), "replica": spec.id}
            batch.put(EVIDENCE, sched_layout.slot_key(ev.process, ev.slot), json.dumps(record).encode())
        await self._submit(batch)

    # -- hand-off ------------------------------------------------------------------------------------------

    def _record_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:  # an asyncio.Lock belongs to one loop
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    def records(self, process: bytes) -> _Records:
        """The scheduler records held here for `process` (nonce order)."""
        return self.book.records(process)

    async def put_record(self, message: Message) -> RecordReply:
        """Apply an owner-signed scheduler record (module docstring: promotion, old leader, replica)."""
        record = parse_record(message)
        async with self._record_lock():
            return await self._put_record(record)

    async def records_from_follower(self, encoded: _Raw) -> None:
        """Records a follower sent with its Follow request: applied as if sent to us, so a leader that was
        handed off learns it. One it cannot apply (stale, a conflict, a process not held) is news it
        already has or cannot use; a forged one is refused (the request fails)."""
        for raw in encoded:
            record = decode_record(raw)
            try:
                async with self._record_lock():
                    await self._put_record(record)
            except (FailedPrecondition, NotFound) as exc:
                log.info("a follower's record not applied: %s", exc)

    async def _put_record(self, record: SchedulerRecord) -> RecordReply:
        pid = record.process
        with self._store.read() as view:
            process = stored_message(view, pid)
            head = stored_head(view, pid)
            held = self.book.held(pid, record.nonce, view)
            latest = self.book.latest(pid, view)
            count = self.book.count(pid, view)
        if process is None or head is None:
            raise NotFound(f"process {encode_id(pid)} has no schedule on this node")
        check_signer(record, process)
        if held == record.encoded:  # again (a retry, or the new scheduler's delivery after the CLI's)
            orphaned = 0
            if record.scheduler != self.address and head.slot >= record.from_slot:
                with self._store.read() as view:
                    if self._signer_of(view, pid, record.from_slot) == self.address:
                        orphaned = head.slot - record.from_slot + 1
            return RecordReply(self._role(pid), head.slot, orphaned, True)
        if latest is not None and record.nonce <= latest.nonce:
            raise StaleRecord(f"record nonce {record.nonce} is not above the held {latest.nonce}")
        if count >= MAX_RECORDS:
            raise FailedPrecondition(f"process {encode_id(pid)} has {MAX_RECORDS} records: no more are kept")
        if record.scheduler == self.address:
            return await self._promote(record)
        if pid not in self._scheduler.replicated:
            return await self._retire(record)
        return await self._redirect(record)

    def _role(self, pid: bytes) -> str:
        return "redirect" if pid in self._scheduler.replicated else "scheduler"

    async def _store_record(self, record: SchedulerRecord, batch: WriteBatch | None = None) -> None:
        batch = batch or WriteBatch()
        self.book.stage(batch, record)
        try:
            await asyncio.wrap_future(self._store.submit(batch))
        except ConflictError:  # another writer on this store took the nonce first
            raise StaleRecord(f"record nonce {record.nonce} was stored concurrently") from None
        except StoreError as exc:
            raise from_store_error(exc) from exc
        self.book.committed(record.process)

    def _follower_of(self, pid: bytes) -> Follower | None:
        for f in self.followers.values():
            if pid in f.status:
                return f
        return None

    async def _promote(self, record: SchedulerRecord) -> RecordReply:
        pid = record.process
        if pid not in self._scheduler.replicated:
            raise RecordConflict(f"process {encode_id(pid)} is already scheduled by this node")
        follower = self._follower_of(pid)
        if follower is not None:
            await follower.pause()  # its batches are durable: the stored head is final
        try:
            with self._store.read() as view:
                head = stored_head(view, pid)
            assert head is not None
            if head.slot >= record.from_slot:
                raise RecordConflict(
                    f"this node holds slots {record.from_slot}..{head.slot} of process {encode_id(pid)}: "
                    f"a hand-off to it must start at From-Slot {head.slot + 1}, after the last slot it holds"
                )
            if head.slot + 1 != record.from_slot:
                raise RecordConflict(
                    f"this node holds process {encode_id(pid)} up to slot {head.slot}: a hand-off to it "
                    f"must start at From-Slot {head.slot + 1}, not {record.from_slot}"
                )
            rec = self._procs.get(pid, {})
            batch = WriteBatch()
            batch.delete(REPLICA_PROCS, pid)
            old_leader = rec.get("leader", "")
            if old_leader:  # told until it answers: it must stop scheduling the process
                batch.put(OUTBOX, _outbox_key(record, old_leader), b"")
            if follower is not None and pid in follower.spec.processes:
                spec = follower.spec
                remaining = [p for p in spec.processes if p != pid]
                if remaining or spec.all:
                    batch.put(REPLICAS, spec.id.encode(), _spec_to_json(_with(spec, remaining)))
                else:
                    batch.delete(REPLICAS, spec.id.encode())
            await self._store_record(record, batch)
        except BaseException:
            if follower is not None:
                follower.resume()
            raise
        # Durable: from here this node schedules the process, continuing the chain from its stored head.
        self._procs.pop(pid, None)
        self._apply_latest(pid, record)
        if follower is not None:
            follower.forget(pid)
            if follower.spec.processes or follower.spec.all:
                follower.resume()
            else:
                await follower.stop()
                self.followers.pop(follower.spec.id, None)
        log.warning("promoted: this node schedules %s", record.describe())
        return RecordReply("scheduler", head.slot, 0, False)

    async def _retire(self, record: SchedulerRecord) -> RecordReply:
        """This node schedules the process and the owner gave it to another: stop now, then store."""
        pid = record.process
        self._scheduler.replicated[pid] = (record.scheduler, record.url or None)  # nothing new from here
        try:
            await self._scheduler.settled(pid)
            await self._store_record(record)
        except BaseException:
            self._scheduler.replicated.pop(pid, None)
            raise
        self._apply_latest(pid, record)
        with self._store.read() as view:
            head = stored_head(view, pid)
        last = head.slot if head is not None else -1
        orphaned = max(0, last - record.from_slot + 1)
        if orphaned:
            log.error(
                "handed off: %s; this node's slots %d..%d are not in the new schedule (orphaned)",
                record.describe(),
                record.from_slot,
                last,
            )
        else:
            log.warning("handed off: %s", record.describe())
        return RecordReply("redirect", last, orphaned, False)

    async def _redirect(self, record: SchedulerRecord) -> RecordReply:
        """This node holds a copy: it takes the record unless the copy holds slots the new schedule drops."""
        pid = record.process
        follower = self._follower_of(pid)
        if follower is not None:
            await follower.pause()
        try:
            with self._store.read() as view:
                head = stored_head(view, pid)
                last = head.slot if head is not None else -1
                # A former scheduler of the process (retired by an earlier record) holding its own
                # orphans takes later records too: they only say where writes go now.
                own = (
                    last >= record.from_slot and self._signer_of(view, pid, record.from_slot) == self.address
                )
            if not own:
                _refuse_dropping(record, last)
            await self._store_record(record)
        finally:
            if follower is not None:
                follower.resume()
        self._after_record(pid, record, follower)
        return RecordReply("redirect", last, max(0, last - record.from_slot + 1) if own else 0, False)

    @staticmethod
    def _signer_of(view: ReadView, pid: bytes, slot: int) -> str | None:
        a = decode_assignment(read_range_encoded(view, pid, slot, 1)[0])
        return str(address_of(a.signature.owner)) if a.signature is not None else None

    def _after_record(self, pid: bytes, record: SchedulerRecord, follower: Follower | None) -> None:
        self._apply_latest(pid, record)
        rec = self._procs.get(pid)
        if rec is not None:
            rec["scheduler"] = record.scheduler  # persisted with the follower's next scheduler update
        if follower is not None:
            follower.set_changes(pid, segments(self.book.records(pid)))

    async def records_from_leader(
        self, spec: ReplicaSpec, pid: bytes, process: Message, encoded: _Raw, held: int
    ) -> _Segments:
        """A leader's records of `pid` (Follow): each verified against the Process message; new ones are
        stored unless they would drop slots this replica holds (`Refused`: the replica fails)."""
        where = f"process {encode_id(pid)}"
        async with self._record_lock():
            for raw in encoded:
                try:
                    record = decode_record(raw)
                    check_signer(record, process)
                except AonodeError as exc:
                    raise Refused(
                        f"{where}: the leader sent a scheduler record that does not verify: {exc}"
                    ) from None
                if record.process != pid:
                    raise Refused(f"{where}: the leader sent a record of another process")
                with self._store.read() as view:
                    known = self.book.held(pid, record.nonce, view)
                    latest = self.book.latest(pid, view)
                if known == raw or (latest is not None and record.nonce <= latest.nonce):
                    continue  # held, or older than what this node holds
                if record.scheduler == self.address:
                    log.warning("%s: a leader sent %s; promotion is explicit", where, record.describe())
                    continue
                try:
                    _refuse_dropping(record, held)
                except RecordConflict as exc:
                    raise Refused(f"{where}: {exc}") from None
                await self._store_record(record)
                self._apply_latest(pid, record)
        return segments(self.book.records(pid))

    async def _deliver_loop(self) -> None:
        """Send each queued record to the old leader it is owed to, until that node answers."""
        while True:
            await asyncio.sleep(DELIVER_SECONDS)
            with self._store.read() as view:
                rows = [bytes(k) for k, _ in view.range(OUTBOX)]
            for key in rows:
                try:
                    await self._deliver_one(key)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.info("hand-off record delivery: %s", exc)

    async def _deliver_one(self, key: bytes) -> None:
        assert self._connect is not None
        pid, nonce, url = key[:32], read_u64(key[32:40]), key[40:].decode()
        with self._store.read() as view:
            raw = self.book.held(pid, nonce, view)
        if raw is not None:
            leader = self._connect(url)
            try:
                reply = await leader.put_record(raw)
                log.warning(
                    "hand-off record nonce %d delivered to %s (%s; its head %d, orphaned %d)",
                    nonce,
                    url,
                    reply.role,
                    reply.head_slot,
                    reply.orphaned,
                )
                if reply.orphaned > 0:
                    record = decode_record(raw)
                    await self._reschedule_orphans(leader, record, reply.head_slot)
            except Unavailable:
                return  # not back yet: try again later
            except AonodeError as exc:
                log.info("hand-off record nonce %d refused by %s: %s", nonce, url, exc)
            finally:
                await leader.close()
        batch = WriteBatch()
        batch.delete(OUTBOX, key)
        await self._submit(batch)

    async def _reschedule_orphans(self, leader: Leader, record: SchedulerRecord, last: int) -> None:
        """The old leader's slots `record.from_slot..last` are not in the new schedule; their messages
        (signed by their senders) are scheduled here again, in their order: each gets a new slot, none
        is lost. Already scheduled here: its existing slot (idempotent). Refused here (e.g. relayed with
        From-Process by the old leader, which this node does not trust): logged."""
        pid, first = record.process, record.from_slot
        last = min(last, first + MAX_ORPHANS - 1)
        done, refused = 0, 0
        batch: list[Message] = []

        async def flush() -> None:
            nonlocal done, refused
            for outcome in await self._scheduler.schedule_many(batch):
                if isinstance(outcome, AonodeError):
                    refused += 1
                    log.warning("orphan of %s not re-scheduled: %s", encode_id(pid), outcome)
                else:
                    done += 1
            batch.clear()

        stream = leader.follow({pid: first}, False)
        try:
            async for frame in stream:
                if frame.process != pid or not frame.assignments:
                    continue
                for raw_a, raw_m in zip(frame.assignments, frame.messages, strict=False):
                    a, m = decode_assignment(raw_a), decode_message(raw_m)
                    if first <= a.slot <= last and m.id == a.message:
                        batch.append(m)
                if len(batch) >= 256:
                    await flush()
                if frame.from_slot + len(frame.assignments) > last:
                    break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        if batch:
            await flush()
        log.warning(
            "re-scheduled %d orphaned message(s) of %s from the old leader's slots %d..%d (%d refused)",
            done,
            encode_id(pid),
            first,
            last,
            refused,
        )


def _refuse_dropping(record: SchedulerRecord, held: int) -> None:
    if held >= record.from_slot:
        raise RecordConflict(
            f"this node holds slots {record.from_slot}..{held} of process {encode_id(record.process)}, "
            f"which the hand-off to {record.scheduler} from slot {record.from_slot} drops (record nonce "
            f"{record.nonce}); it keeps them and refuses the record"
        )


def _outbox_key(record: SchedulerRecord, url: str) -> bytes:
    return record.process + u64(record.nonce) + url.encode()


def _with(spec: ReplicaSpec, processes: list[bytes]) -> ReplicaSpec:
    return ReplicaSpec(spec.id, spec.leader, processes, spec.all, spec.origin, spec.recompute, spec.failed)


def _spec_to_json(spec: ReplicaSpec) -> bytes:
    d = asdict(spec)
    d["processes"] = [encode_id(p) for p in spec.processes]
    return json.dumps(d).encode()


def _spec_from_json(raw: bytes) -> ReplicaSpec:
    d = json.loads(raw)
    d["processes"] = [decode_id(p, "process") for p in d["processes"]]
    return ReplicaSpec(**d)
