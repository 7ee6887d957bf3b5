"""ProcessService: thin servicers over the compute engine (`aonode.compute.ComputeEngine`).

Compute/Now return the slot's Result with the hashpath and result digest that name it; Dryrun returns a
Result only (nothing is stored). GetSnapshot, Push and GetPush answer UNIMPLEMENTED until their issues land.
"""

from __future__ import annotations

from aonode import ids
from aonode.compute import ComputeEngine, SlotResult
from aonode.errors import InvalidArgument
from aonode.rpc.convert import message_from_pb, result_to_pb
from aonode.rpc.service import Context
from aonode.v1 import process_pb2 as pb


def slot_result_to_pb(r: SlotResult) -> pb.SlotResult:
    return pb.SlotResult(
        process=ids.encode_id(r.process),
        slot=r.slot,
        result=result_to_pb(r.result),
        hashpath=ids.encode_id(r.hashpath),
        result_digest=ids.encode_id(r.result_digest),
    )


class ProcessServicer:
    def __init__(self, engine: ComputeEngine) -> None:
        self._engine = engine

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
        result = await self._engine.dryrun(message)
        return pb.DryrunResponse(result=result_to_pb(result))
