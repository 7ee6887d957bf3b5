"""CronService: thin servicer over the node's `aonode.cron.Cron`.

Once/Every/Stop carry a request signed by the caller's wallet (`aonode/cron/requests.py`, docs/cron.md):
Once/Every create the task it describes (task ID = the request's ID; a replay answers that task,
ALREADY_EXISTS once it has ended), Stop removes a task if the request's signer created it
(PERMISSION_DENIED otherwise; NOT_FOUND for an unknown task, FAILED_PRECONDITION for a Process's own
cron). A missing, unsigned or badly signed request is INVALID_ARGUMENT, like a bad interval or process ID
(raised by the domain and mapped by `status`). List is a public read, paged (`Cron.list_page`).
"""

from __future__ import annotations

from aonode.cron import Cron
from aonode.errors import InvalidArgument
from aonode.model import Message
from aonode.rpc.convert import cron_task_to_pb as task_to_pb
from aonode.rpc.convert import message_from_pb
from aonode.rpc.service import Context
from aonode.v1 import cron_pb2 as pb


def _request(call: pb.OnceRequest | pb.EveryRequest | pb.StopRequest) -> Message:
    """The signed request a Once/Every/Stop call carries; INVALID_ARGUMENT when it carries none."""
    if not call.HasField("request"):
        raise InvalidArgument(
            "request: required, a cron request signed by its creator's wallet (docs/cron.md)"
        )
    return message_from_pb(call.request)


class CronServicer:
    def __init__(self, cron: Cron) -> None:
        self._cron = cron

    async def Once(self, request: pb.OnceRequest, context: Context) -> pb.OnceResponse:
        message = _request(request)
        return pb.OnceResponse(task=task_to_pb(await self._cron.create(message, "Once")))

    async def Every(self, request: pb.EveryRequest, context: Context) -> pb.EveryResponse:
        message = _request(request)
        return pb.EveryResponse(task=task_to_pb(await self._cron.create(message, "Every")))

    async def Stop(self, request: pb.StopRequest, context: Context) -> pb.StopResponse:
        message = _request(request)
        return pb.StopResponse(task=task_to_pb(await self._cron.stop_signed(message)))

    async def List(self, request: pb.ListRequest, context: Context) -> pb.ListResponse:
        tasks, token = self._cron.list_page(
            page_size=request.page_size,
            page_token=request.page_token,
            process=request.process,
            creator=request.creator,
        )
        return pb.ListResponse(tasks=[task_to_pb(t) for t in tasks], next_page_token=token)
