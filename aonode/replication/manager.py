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
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict

from aonode.compute import ComputeEngine
from aonode.crypto import Signer, verify_message
from aonode.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from aonode.ids import decode_id, encode_id
from aonode.model import Message
from aonode.replication.follower import Follower, ReplicaSpec, ReplicaStatus
from aonode.replication.port import LeaderFactory
from aonode.replication.verify import Equivocation, Refused
from aonode.scheduler import Scheduler
from aonode.scheduler import layout as sched_layout
from aonode.scheduler.reads import stored_head
from store import ObjectStore, WriteBatch, read_u64

REPLICAS = "replicas"
REPLICA_PROCS = "replica_procs"
EVIDENCE = "replica_evidence"
REMOVED = "replicas_removed"
ADD_ACTION = "Add-Replica"
REMOVE_ACTION = "Remove-Replica"
MAX_SKEW_MS = 5 * 60 * 1000
MAX_PROCESSES = 1000


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

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        evidence: dict[str, list[Equivocation]] = {}
        with self._store.read() as view:
            specs = [_spec_from_json(bytes(v)) for _, v in view.range(REPLICAS)]
            for k, v in view.range(REPLICA_PROCS):
                self._procs[bytes(k)] = json.loads(bytes(v))
            for k, v in view.range(EVIDENCE):
                key, record = bytes(k), json.loads(bytes(v))
                ev = Equivocation(
                    key[:32],
                    read_u64(key[32:]),
                    bytes.fromhex(record["first"]),
                    bytes.fromhex(record["second"]),
                )
                evidence.setdefault(record["replica"], []).append(ev)
        for pid, rec in self._procs.items():
            self._scheduler.replicated[pid] = (rec.get("scheduler", ""), rec.get("leader", ""))
        for spec in self._configured:
            if spec.id not in {s.id for s in specs}:
                await self._put_spec(spec)
                specs.append(spec)
        if self._connect is None:
            return
        for spec in specs:
            self._start(spec).equivocations.extend(evidence.get(spec.id, []))

    async def close(self) -> None:
        await asyncio.gather(*(f.stop() for f in self.followers.values()))

    def _start(self, spec: ReplicaSpec) -> Follower:
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
            known=known,
        )
        for pid in spec.processes:
            self._new_process(spec, pid)
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
                if pid not in self._scheduler.replicated and stored_head(view, pid) is not None:
                    raise FailedPrecondition(f"process {encode_id(pid)} is scheduled by this node")

    async def add_spec(self, spec: ReplicaSpec) -> None:
        await self._put_spec(spec)
        if self._connect is not None:
            self._start(spec)

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
        await asyncio.wrap_future(self._store.submit(batch))
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

    async def _put_spec(self, spec: ReplicaSpec) -> None:
        batch = WriteBatch()
        batch.put(REPLICAS, spec.id.encode(), _spec_to_json(spec))
        await asyncio.wrap_future(self._store.submit(batch))

    def _new_process(self, spec: ReplicaSpec, pid: bytes) -> None:
        if pid in self._procs:
            return
        rec = {"replica": spec.id, "leader": spec.leader, "scheduler": ""}
        self._procs[pid] = rec
        batch = WriteBatch()
        batch.put(REPLICA_PROCS, pid, json.dumps(rec).encode())
        self._store.submit(batch)  # durable before the first slot's batch, which is submitted after it

    def _failed(self, spec: ReplicaSpec, refused: Refused) -> None:
        batch = WriteBatch()
        batch.put(REPLICAS, spec.id.encode(), _spec_to_json(spec))
        ev = refused.equivocation
        if ev is not None:
            record = {"first": ev.first.hex(), "second": ev.second.hex(), "replica": spec.id}
            batch.put(EVIDENCE, sched_layout.slot_key(ev.process, ev.slot), json.dumps(record).encode())
        self._store.submit(batch)


def _spec_to_json(spec: ReplicaSpec) -> bytes:
    d = asdict(spec)
    d["processes"] = [encode_id(p) for p in spec.processes]
    return json.dumps(d).encode()


def _spec_from_json(raw: bytes) -> ReplicaSpec:
    d = json.loads(raw)
    d["processes"] = [decode_id(p, "process") for p in d["processes"]]
    return ReplicaSpec(**d)
