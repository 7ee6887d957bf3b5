"""CronService: thin servicer over the node's `aonode.cron.Cron`.

Once/Every create a task and return it (a message task, or with `path` a task that calls `now`/`push` on
the process); Stop removes one (NOT_FOUND for an unknown task,
FAILED_PRECONDITION for a Process's own cron); List returns every live task. A bad interval or process
ID is INVALID_ARGUMENT with the reason (raised by the domain and mapped by `status`).
"""

from __future__ import annotations

from aonode.cron import Cron
from aonode.errors import InvalidArgument
from aonode.model import Tag
from aonode.rpc.convert import cron_task_to_pb as task_to_pb
from aonode.rpc.convert import tags_from_pb
from aonode.rpc.service import Context
from aonode.v1 import cron_pb2 as pb


def _message(request_message: pb.CronMessage, present: bool) -> tuple[str, tuple[Tag, ...], bytes]:
    if not present or not request_message.process:
        raise InvalidArgument("message.process: required (the process the task sends to)")
    tags = tags_from_pb(request_message.tags)
    return request_message.process, tags, request_message.data


class CronServicer:
    def __init__(self, cron: Cron) -> None:
        self._cron = cron

    async def Once(self, request: pb.OnceRequest, context: Context) -> pb.OnceResponse:
        process, tags, data = _message(request.message, request.HasField("message"))
        which = request.WhichOneof("when")
        if which == "at":
            task = await self._cron.once(process, tags=tags, data=data, at=request.at, path=request.path)
        elif which == "in":
            delay = getattr(request, "in")
            task = await self._cron.once(process, tags=tags, data=data, delay=delay, path=request.path)
        else:
            raise InvalidArgument("when: required, at (ms since the epoch) or in (an interval)")
        return pb.OnceResponse(task=task_to_pb(task))

    async def Every(self, request: pb.EveryRequest, context: Context) -> pb.EveryResponse:
        process, tags, data = _message(request.message, request.HasField("message"))
        task = await self._cron.every(process, request.interval, tags=tags, data=data, path=request.path)
        return pb.EveryResponse(task=task_to_pb(task))

    async def Stop(self, request: pb.StopRequest, context: Context) -> pb.StopResponse:
        if not request.task:
            raise InvalidArgument("task: required")
        return pb.StopResponse(task=task_to_pb(await self._cron.stop(request.task)))

    async def List(self, request: pb.ListRequest, context: Context) -> pb.ListResponse:
        return pb.ListResponse(tasks=[task_to_pb(t) for t in self._cron.list_tasks()])
