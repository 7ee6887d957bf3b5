"""ProcessService: thin servicers over the compute engine (`aonode.compute.ComputeEngine`) and the pusher
(`aonode.push.Pusher`).

Compute/Now return the slot's Result with the hashpath and result digest that name it; Dryrun returns a
Result only (nothing is stored). Push runs a push (sync: waits and returns the tree; async: returns the
push ID at once) and GetPush reads one's progress. GetSnapshot returns the nearest stored snapshot's manifest.
GetProcessStatus tells whether a process is stalled (docs/compute.md, Stalls); ResumeProcess lifts a stall
with an operator's signed authorization.
"""

from __future__ import annotations

import asyncio

from aonode import ids
from aonode.compute import ComputeEngine, SlotResult
from aonode.compute.layout import Stall
from aonode.errors import InvalidArgument
from aonode.push import Pusher, PushReport
from aonode.rpc.convert import message_from_pb, push_node_to_pb, result_to_pb
from aonode.rpc.service import Context
from aonode.scheduler.errors import RelayNotTrustedError
from aonode.scheduler.relay import relayed_tag
from aonode.v1 import process_pb2 as pb
from aonode.v1 import types_pb2

_STATES = {
    "running": pb.PUSH_STATE_RUNNING,
    "done": pb.PUSH_STATE_DONE,
    "failed": pb.PUSH_STATE_FAILED,
    "incomplete": pb.PUSH_STATE_INCOMPLETE,
}


def slot_result_to_pb(r: SlotResult) -> pb.SlotResult:
    return pb.SlotResult(
        process=ids.encode_id(r.process),
        slot=r.slot,
        result=result_to_pb(r.result),
        hashpath=ids.encode_id(r.hashpath),
        result_digest=ids.encode_id(r.result_digest),
    )


def stall_to_pb(process: bytes, stall: Stall) -> types_pb2.ProcessStall:
    return types_pb2.ProcessStall(
        process=ids.encode_id(process),
        slot=stall.slot,
        since_ms=stall.since_ms,
        wall_seconds=stall.wall_seconds,
        reason=stall.reason,
    )


def stalls_to_pb(engine: ComputeEngine) -> list[types_pb2.ProcessStall]:
    """The engine's stalled processes, for GetStatus (blocking: a store read)."""
    return [stall_to_pb(p, s) for p, s in engine.stalls()]


class ProcessServicer:
    def __init__(self, engine: ComputeEngine, pusher: Pusher) -> None:
        self._engine = engine
        self._pusher = pusher

    async def Compute(self, request: pb.ComputeRequest, context: Context) -> pb.ComputeResponse:
        result = await self._engine.compute(ids.decode_id(request.process, "process"), request.slot)
        return pb.ComputeResponse(result=slot_result_to_pb(result))

    async def Now(self, request: pb.NowRequest, context: Context) -> pb.NowResponse:
        result = await self._engine.now(ids.decode_id(request.process, "process"))
        return pb.NowResponse(result=slot_result_to_pb(result))

    async def Dryrun(self, request: pb.DryrunRequest, context: Context) -> pb.DryrunResponse:
        if not request.HasField("message"):
            raise InvalidArgument("message: required")
        message = message_from_pb(request.message)
        if not ids.is_id(message.target):
            raise InvalidArgument("message.target: the process to evaluate against (a 43-character ID)")
        claimed = relayed_tag(message)
        if claimed is not None:
            # A process takes From from these tags; only a node delivering a message may set them, and a
            # dryrun delivers nothing. Same status as Schedule's refusal.
            raise RelayNotTrustedError(
                f"a dryrun cannot carry {claimed}: it would make the process see a sender whose key the "
                "requester need not hold (only a node's deliveries carry it)"
            )
        result = await self._engine.dryrun(message)
        return pb.DryrunResponse(result=result_to_pb(result))

    async def GetSnapshot(self, request: pb.GetSnapshotRequest, context: Context) -> pb.GetSnapshotResponse:
        """The manifest of the nearest stored snapshot at or before `slot` (absent: the latest); NOT_FOUND
        when there is none."""
        process = ids.decode_id(request.process, "process")
        slot = request.slot if request.HasField("slot") else None
        snap = await asyncio.to_thread(self._engine.snapshot_manifest, process, slot)
        m = snap.manifest
        return pb.GetSnapshotResponse(
            process=ids.encode_id(snap.process),
            slot=snap.slot,
            device=m.device,
            memory_size=m.size,
            page_size=m.page_size,
            pages=[pb.SnapshotPage(index=i, digest=ids.encode_id(d)) for i, d in enumerate(m.pages)],
            manifest_digest=ids.encode_id(snap.digest),
        )

    async def Push(self, request: pb.PushRequest, context: Context) -> pb.PushResponse:
        process = ids.decode_id(request.process, "process")
        depth, hops = request.result_depth, request.max_hops
        if request.mode == pb.PUSH_MODE_ASYNC:
            report = await self._pusher.start(process, request.slot, result_depth=depth, max_hops=hops)
            return pb.PushResponse(push_id=report.push_id, state=_STATES[report.state])
        report = await self._pusher.push(process, request.slot, result_depth=depth, max_hops=hops)
        return pb.PushResponse(
            push_id=report.push_id,
            state=_STATES[report.state],
            tree=push_node_to_pb(report.tree),
            undelivered=report.undelivered,
        )

    async def GetPush(self, request: pb.GetPushRequest, context: Context) -> pb.GetPushResponse:
        if not request.push_id:
            raise InvalidArgument("push_id: required")
        report: PushReport = self._pusher.get(request.push_id)
        return pb.GetPushResponse(
            push_id=report.push_id,
            state=_STATES[report.state],
            tree=push_node_to_pb(report.tree),
            delivered=report.delivered,
            error=report.error,
            existing=report.existing,
            undelivered=report.undelivered,
        )

    async def GetProcessStatus(
        self, request: pb.GetProcessStatusRequest, context: Context
    ) -> pb.GetProcessStatusResponse:
        process = ids.decode_id(request.process, "process")
        tip = self._engine.tip(process)  # NOT_FOUND for an unknown process
        stall = await asyncio.to_thread(self._engine.stall, process)
        computed = await asyncio.to_thread(self._engine.stored_head, process)
        reply = pb.GetProcessStatusResponse(process=request.process, current_slot=tip, computed_slot=computed)
        if stall is not None:
            reply.stall.CopyFrom(stall_to_pb(process, stall))
        return reply

    async def ResumeProcess(
        self, request: pb.ResumeProcessRequest, context: Context
    ) -> pb.ResumeProcessResponse:
        if not request.HasField("authorization"):
            raise InvalidArgument("authorization: required (an operator's signed Resume-Compute message)")
        authorization = message_from_pb(request.authorization)
        process = ids.decode_id(authorization.target, "authorization.target")
        lifted = await self._engine.resume(process, authorization)
        return pb.ResumeProcessResponse(lifted=stall_to_pb(process, lifted))
