"""ReplicationService (docs/replication.md): the leader side (Follow, FetchObjects, GetResultDigests),
the management calls over `aonode.replication.Replication`, and `GrpcLeader`, the follower's `Leader`
port over gRPC.

Follow serves each requested process with one scheduler `Subscription` opened with `raw=True` (stored
assignment and message bytes, messages charged to the node's read budget), run as a task that puts
finished frames on one small queue the response stream drains. A subscription asks for its next batch
(releasing the previous batch's budget) only once its frame is on the queue, so what a Follow stream holds
is bounded by the queue (`_QUEUE` frames) plus one frame per process, each at most `max_frame_bytes` (a
larger message alone), and all of it by the read budget. With `all`, every process with a schedule here
joins at slot 0 unless named with a cursor, and new ones join when their first slot commits
(`Scheduler.on_spawn`).

Hand-off: each process's stream begins with a frame of its scheduler records when it has any, and a pump
sends them again before its next frame whenever they changed (`RecordBook.version`): a record is stored
before any slot it authorises is committed, so it always travels ahead of those slots. Records a follower
sends with its request are applied first (a leader that was handed off learns it from its followers).
`PutSchedulerRecord` and `GetSchedulerRecords` are thin calls into `Replication`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence

import grpc

from aonode import ids
from aonode.codec import decode_message, encode_message
from aonode.errors import AonodeError, InvalidArgument, NotFound, Unavailable
from aonode.model import Message
from aonode.replication import FollowFrame, ReplicaStatus, Replication, ResultDigests, result_digests
from aonode.replication.handoff import MAX_RECORD_BYTES, RecordBook
from aonode.replication.port import RecordReply
from aonode.rpc.convert import message_from_pb, message_to_pb
from aonode.rpc.forwarder import RemoteError, grpc_target
from aonode.rpc.retry import retry_options
from aonode.rpc.service import Context
from aonode.rpc.status import code_by_name
from aonode.scheduler import Scheduler
from aonode.scheduler.budget import ReadLease
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc
from store import ObjectStore

_QUEUE = 4
_MAX_CURSORS = 10_000
_MAX_DIGESTS = 1024
_MAX_RECORDS = 1024


def _now_ms() -> int:
    return int(time.time() * 1000)


class ReplicationServicer:
    def __init__(self, scheduler: Scheduler, store: ObjectStore, replication: Replication | None) -> None:
        self._scheduler = scheduler
        self._store = store
        self._replication = replication

    async def Follow(self, request: pb.FollowRequest, context: Context) -> AsyncIterator[bytes]:
        if len(request.processes) > _MAX_CURSORS:
            raise InvalidArgument(f"processes: at most {_MAX_CURSORS}")
        cursors: dict[bytes, int] = {}
        for c in request.processes:
            cursors[ids.decode_id(c.process, "process")] = c.from_slot
        if not request.all and not cursors:
            raise InvalidArgument("name at least one process, or set all")
        if len(request.records) > _MAX_RECORDS:
            raise InvalidArgument(f"records: at most {_MAX_RECORDS}")
        if request.records:
            await self._manager().records_from_follower(list(request.records))
        queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue(_QUEUE)
        tasks: dict[bytes, asyncio.Task[None]] = {}

        def begin(pid: bytes, from_slot: int) -> None:
            if pid not in tasks:
                tasks[pid] = asyncio.create_task(self._pump(pid, from_slot, queue))

        remove = None
        try:
            if request.all:
                remove = self._scheduler.on_spawn(lambda pid: begin(pid, cursors.get(pid, 0)))
                for pid in await asyncio.to_thread(self._scheduler.processes):
                    begin(pid, cursors.get(pid, 0))
            # NotFound before the stream starts; with `all`, one not spawned yet joins when it is.
            for known in await asyncio.to_thread(self._scheduled, cursors, not request.all):
                begin(known, cursors[known])
            heartbeat = pb.FollowResponse(leader_time_ms=_now_ms()).SerializeToString()
            yield heartbeat  # the stream is open: the follower knows its request was accepted
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self._scheduler.config.heartbeat_seconds)
                except TimeoutError:
                    yield pb.FollowResponse(leader_time_ms=_now_ms()).SerializeToString()
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if remove is not None:
                remove()
            for t in tasks.values():
                t.cancel()

    def _scheduled(self, pids: Mapping[bytes, int], strict: bool) -> list[bytes]:
        """Those of `pids` with a schedule here (a few store reads each: called off the event loop);
        when `strict`, NotFound for the first that has none."""
        out: list[bytes] = []
        for pid in pids:
            try:
                self._scheduler.head(pid)
            except NotFound:
                if strict:
                    raise
                continue
            out.append(pid)
        return out

    async def _pump(self, pid: bytes, from_slot: int, queue: asyncio.Queue[bytes | BaseException]) -> None:
        try:
            sub = self._scheduler.subscribe(pid, from_slot, raw=True)
        except AonodeError as exc:
            await queue.put(exc)
            return
        text = ids.encode_id(pid)
        book = self._replication.book if self._replication is not None else None
        sent = -1  # the records version last sent
        try:
            async for batch in sub:
                if book is not None and book.version(pid) != sent:
                    sent = book.version(pid)
                    records = await asyncio.to_thread(_encoded_records, book, pid)
                    if records:
                        await queue.put(
                            pb.FollowResponse(
                                process=text,
                                from_slot=sub.next_slot - len(batch.encoded),
                                records=records,
                                leader_time_ms=_now_ms(),
                            ).SerializeToString()
                        )
                frame = pb.FollowResponse(
                    process=text,
                    from_slot=sub.next_slot - len(batch.encoded),
                    assignments=batch.encoded,
                    messages=batch.raw_messages,
                    current_slot=max(0, batch.head_slot),
                    leader_time_ms=_now_ms(),
                )
                await queue.put(frame.SerializeToString())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await queue.put(exc)
        finally:
            sub.close()

    async def FetchObjects(self, request: pb.FetchObjectsRequest, context: Context) -> AsyncIterator[bytes]:
        if len(request.digests) > _MAX_DIGESTS:
            raise InvalidArgument(f"digests: at most {_MAX_DIGESTS}")
        for d in request.digests:
            if len(d) != 32:
                raise InvalidArgument("digests: each must be 32 bytes")
        lease = ReadLease(self._scheduler.read_budget)
        max_bytes = self._scheduler.config.max_frame_bytes
        try:
            frame = pb.FetchObjectsResponse()
            size = 0
            for d in request.digests:
                data = await asyncio.to_thread(self._get_object, d)
                if data is None:
                    frame.missing.append(d)
                    continue
                if frame.objects and size + len(data) > max_bytes:
                    yield frame.SerializeToString()
                    lease.release()
                    frame, size = pb.FetchObjectsResponse(), 0
                if not lease.try_take(len(data)):
                    await lease.take(len(data))  # ReadBudgetExhausted after read_wait_seconds
                    lease.try_take(len(data))
                frame.objects.append(pb.StoredObject(digest=d, data=data))
                size += len(data)
            yield frame.SerializeToString()
        finally:
            lease.close()

    def _get_object(self, digest: bytes) -> bytes | None:
        with self._store.read() as view:
            data = view.get_object(digest)
            return None if data is None else bytes(data)

    async def GetResultDigests(
        self, request: pb.GetResultDigestsRequest, context: Context
    ) -> pb.GetResultDigestsResponse:
        pid = ids.decode_id(request.process, "process")
        digests, computed = await asyncio.to_thread(
            result_digests, self._store, pid, request.from_slot, request.count
        )
        return pb.GetResultDigestsResponse(
            from_slot=request.from_slot, digests=digests, computed_slot=computed
        )

    def _manager(self) -> Replication:
        if self._replication is None:
            raise Unavailable("replication is not running on this node")
        return self._replication

    async def AddReplica(self, request: pb.AddReplicaRequest, context: Context) -> pb.AddReplicaResponse:
        status = await self._manager().add(
            _authorization(request.authorization, request.HasField("authorization"))
        )
        return pb.AddReplicaResponse(replica=replica_to_pb(status))

    async def RemoveReplica(
        self, request: pb.RemoveReplicaRequest, context: Context
    ) -> pb.RemoveReplicaResponse:
        status = await self._manager().remove(
            _authorization(request.authorization, request.HasField("authorization"))
        )
        return pb.RemoveReplicaResponse(replica=replica_to_pb(status))

    async def PutSchedulerRecord(
        self, request: pb.PutSchedulerRecordRequest, context: Context
    ) -> pb.PutSchedulerRecordResponse:
        if not request.HasField("record"):
            raise InvalidArgument("record: required, a message signed by the process's owner")
        if request.record.ByteSize() > MAX_RECORD_BYTES:
            raise InvalidArgument(f"record: at most {MAX_RECORD_BYTES} bytes")
        reply = await self._manager().put_record(message_from_pb(request.record, "record"))
        return pb.PutSchedulerRecordResponse(
            role=reply.role, head_slot=reply.head_slot, orphaned=reply.orphaned, known=reply.known
        )

    async def GetSchedulerRecords(
        self, request: pb.GetSchedulerRecordsRequest, context: Context
    ) -> pb.GetSchedulerRecordsResponse:
        pid = ids.decode_id(request.process, "process")
        manager = self._manager()
        records = await asyncio.to_thread(manager.records, pid)
        redirect = self._scheduler.replicated.get(pid)
        if records:
            current = records[-1].scheduler
        elif redirect is not None:
            current = redirect[0]
        else:
            current = self._scheduler.head(pid).scheduler  # NotFound for a process not held here
        url = ""
        if redirect is not None:
            url = self._scheduler.locations.url_of(redirect[0]) or redirect[1] or ""
        return pb.GetSchedulerRecordsResponse(
            records=[message_to_pb(decode_message(r.encoded)) for r in records],
            scheduler=current,
            redirect_url=url,
        )

    async def ListReplicas(
        self, request: pb.ListReplicasRequest, context: Context
    ) -> pb.ListReplicasResponse:
        process = ids.decode_id(request.process, "process") if request.process else None
        return pb.ListReplicasResponse(replicas=[replica_to_pb(s) for s in self._manager().list(process)])


def _encoded_records(book: RecordBook, pid: bytes) -> list[bytes]:
    return [r.encoded for r in book.records(pid)]


def _authorization(m: object, present: bool) -> Message:
    if not present:
        raise InvalidArgument(
            "authorization: required, a message signed by an operator (docs/replication.md)"
        )
    return message_from_pb(m)  # type: ignore[arg-type]


def replica_to_pb(s: ReplicaStatus) -> pb.Replica:
    return pb.Replica(
        id=s.spec.id,
        leader=s.spec.leader,
        processes=[ids.encode_id(p) for p in s.spec.processes],
        all=s.spec.all,
        state=s.state,
        last_error=s.last_error,
        origin=s.spec.origin,
        process_status=[
            pb.ReplicaProcess(
                process=ids.encode_id(p.process),
                stored_slot=p.stored_slot,
                leader_slot=p.leader_slot,
                lag_ms=p.lag_ms,
                verified=p.verified,
                agreed=p.agreed,
                diverged=p.diverged,
                compared_slot=p.compared_slot,
                last_divergence=p.last_divergence,
                scheduler=p.scheduler,
            )
            for p in s.processes
        ],
        equivocations=[
            pb.Equivocation(process=ids.encode_id(e.process), slot=e.slot, first=e.first, second=e.second)
            for e in s.equivocations
        ],
    )


# -- the follower's side ----------------------------------------------------------------------------


def _remote(exc: grpc.aio.AioRpcError, what: str) -> AonodeError:
    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(f"{what} unreachable: {exc.details()}")
    return RemoteError(code_by_name(exc.code().name).name, f"{what}: {exc.details()}")


class GrpcLeader:
    """The `Leader` port over one gRPC channel to `HOST:PORT`."""

    def __init__(self, url: str, max_message_bytes: int = 64 << 20) -> None:
        self.url = url
        options = [*retry_options(4), ("grpc.max_receive_message_length", max_message_bytes)]
        self._channel = grpc.aio.insecure_channel(grpc_target(url), options=options)
        self._stub = replication_pb2_grpc.ReplicationServiceStub(self._channel)

    async def follow(
        self, cursors: Mapping[bytes, int], all_processes: bool, records: Sequence[bytes] = ()
    ) -> AsyncIterator[FollowFrame]:
        request = pb.FollowRequest(
            processes=[pb.FollowCursor(process=ids.encode_id(p), from_slot=s) for p, s in cursors.items()],
            all=all_processes,
            records=list(records)[:_MAX_RECORDS],
        )
        call = self._stub.Follow(request)
        try:
            async for r in call:
                yield FollowFrame(
                    process=ids.decode_id(r.process, "process") if r.process else b"",
                    from_slot=r.from_slot,
                    assignments=list(r.assignments),
                    messages=list(r.messages),
                    current_slot=r.current_slot,
                    leader_time_ms=r.leader_time_ms,
                    records=list(r.records),
                )
        except grpc.aio.AioRpcError as exc:
            raise _remote(exc, f"leader {self.url}") from None
        finally:
            call.cancel()

    async def result_digests(self, process: bytes, from_slot: int, count: int) -> ResultDigests:
        request = pb.GetResultDigestsRequest(process=ids.encode_id(process), from_slot=from_slot, count=count)
        try:
            r = await self._stub.GetResultDigests(request, timeout=30)
        except grpc.aio.AioRpcError as exc:
            raise _remote(exc, f"leader {self.url}") from None
        return ResultDigests(r.from_slot, list(r.digests), r.computed_slot)

    async def fetch_message(self, message_id: bytes) -> bytes | None:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(self._channel)
        request = scheduler_pb2.GetMessageRequest(message_id=ids.encode_id(message_id))
        try:
            r = await stub.GetMessage(request, timeout=60)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _remote(exc, f"leader {self.url}") from None
        return encode_message(message_from_pb(r.message))

    async def put_record(self, record: bytes) -> RecordReply:
        request = pb.PutSchedulerRecordRequest(record=message_to_pb(decode_message(record)))
        try:
            r = await self._stub.PutSchedulerRecord(request, timeout=30)
        except grpc.aio.AioRpcError as exc:
            raise _remote(exc, f"node {self.url}") from None
        return RecordReply(r.role, r.head_slot, r.orphaned, r.known)

    async def close(self) -> None:
        await self._channel.close()
