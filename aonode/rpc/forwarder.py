"""Scheduling on another node over gRPC: the `Forwarder` port the scheduler uses to follow redirects.

A location URL may be `host:port`, `grpc://host:port` or `http://host:port` (the scheme is dropped: nodes
speak plaintext gRPC to each other unless configured otherwise). Channels are cached per target.
"""

from __future__ import annotations

import grpc

from aonode.errors import AonodeError, Unavailable
from aonode.model import Assignment, Message
from aonode.rpc.convert import assignment_from_pb, message_to_pb
from aonode.rpc.status import code_by_name
from aonode.v1 import scheduler_pb2, scheduler_pb2_grpc


class RemoteError(AonodeError):
    """The other node answered with an error; its status is passed on."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]


def grpc_target(url: str) -> str:
    for scheme in ("grpc://", "http://", "https://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
    return url.rstrip("/")


class GrpcForwarder:
    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, url: str) -> scheduler_pb2_grpc.SchedulerServiceStub:
        target = grpc_target(url)
        channel = self._channels.get(target)
        if channel is None:
            channel = self._channels[target] = grpc.aio.insecure_channel(target)
        return scheduler_pb2_grpc.SchedulerServiceStub(channel)

    async def schedule_remote(self, url: str, message: Message) -> Assignment:
        request = scheduler_pb2.ScheduleRequest(message=message_to_pb(message))
        try:
            reply = await self._stub(url).Schedule(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable(f"scheduler at {url} unreachable: {exc.details()}") from None
            code = code_by_name(exc.code().name)
            raise RemoteError(code.name, f"scheduler at {url}: {exc.details()}") from None
        return assignment_from_pb(reply.assignment)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
