"""CronService: thin servicer over the node's `aonode.cron.Cron`.

Once/Every create a task and return it; Stop removes one (NOT_FOUND for an unknown task,
FAILED_PRECONDITION for a Process's own cron); List returns every live task. A bad interval or process
ID is INVALID_ARGUMENT with the reason (raised by the domain and mapped by `status`).
"""

from __future__ import annotations

from aonode.cron import Cron, CronTask
from aonode.errors import InvalidArgument
from aonode.model import Tag
from aonode.rpc.service import Context
from aonode.v1 import cron_pb2 as pb
from aonode.v1 import types_pb2


def task_to_pb(t: CronTask) -> pb.CronTask:
    return pb.CronTask(
        task=t.task,
        message=pb.CronMessage(
            process=t.process,
            tags=[types_pb2.Tag(name=x.name, value=x.value) for x in t.tags],
            data=t.data,
        ),
        interval=t.interval,
        next_run=t.due,
        runs=t.runs,
        failures=t.failures,
        last_error=t.last_error,
        tick=t.tick,
        skipped=t.skipped,
        origin=t.origin,
        created=t.created,
    )


def _message(request_message: pb.CronMessage, present: bool) -> tuple[str, tuple[Tag, ...], bytes]:
    if not present or not request_message.process:
        raise InvalidArgument("message.process: required (the process the task sends to)")
    tags = tuple(Tag(t.name, t.value) for t in request_message.tags)
    return request_message.process, tags, request_message.data


class CronServicer:
    def __init__(self, cron: Cron) -> None:
        self._cron = cron

    async def Once(self, request: pb.OnceRequest, context: Context) -> pb.OnceResponse:
        process, tags, data = _message(request.message, request.HasField("message"))
        which = request.WhichOneof("when")
        if which == "at":
            task = await self._cron.once(process, tags=tags, data=data, at=request.at)
        elif which == "in":
            task = await self._cron.once(process, tags=tags, data=data, delay=getattr(request, "in"))
        else:
            raise InvalidArgument("when: required, at (ms since the epoch) or in (an interval)")
        return pb.OnceResponse(task=task_to_pb(task))

    async def Every(self, request: pb.EveryRequest, context: Context) -> pb.EveryResponse:
        process, tags, data = _message(request.message, request.HasField("message"))
        task = await self._cron.every(process, request.interval, tags=tags, data=data)
        return pb.EveryResponse(task=task_to_pb(task))

    async def Stop(self, request: pb.StopRequest, context: Context) -> pb.StopResponse:
        if not request.task:
            raise InvalidArgument("task: required")
        return pb.StopResponse(task=task_to_pb(await self._cron.stop(request.task)))

    async def List(self, request: pb.ListRequest, context: Context) -> pb.ListResponse:
        return pb.ListResponse(tasks=[task_to_pb(t) for t in self._cron.list_tasks()])
