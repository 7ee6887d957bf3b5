"""Scheduling and pushing on another node over gRPC: the `Forwarder` port the scheduler (and the pusher)
use to follow redirects, and the `RemotePusher` port the pusher uses to continue a push on the node that
scheduled a delivery.

A location URL may be `host:port`, `grpc://host:port` or `http://host:port` (the scheme is dropped: nodes
speak plaintext gRPC to each other unless configured otherwise). Channels are cached per target, and
retry UNAVAILABLE the way the Python client does (`rpc/retry.py`): both calls made here are repeatable.
"""

from __future__ import annotations

import asyncio

import grpc

from aonode.errors import AonodeError, Unavailable
from aonode.ids import encode_id
from aonode.model import Assignment, Message
from aonode.push import PushNode
from aonode.rpc.convert import assignment_from_pb, message_to_pb, push_node_from_pb
from aonode.rpc.retry import retry_options
from aonode.rpc.status import code_by_name
from aonode.v1 import process_pb2, process_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc

MAX_CHANNELS = 256
"""Channels to other nodes kept open at once (least recently used closed first)."""


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


def _remote_error(exc: grpc.aio.AioRpcError, what: str) -> AonodeError:
    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(f"{what} unreachable: {exc.details()}")
    status = code_by_name(exc.code().name).name
    return RemoteError(status, f"{what}: {status}: {exc.details()}")


class GrpcForwarder:
    """`push_timeout` bounds one remote push (it may continue on further nodes, each within the hop bound)."""

    def __init__(self, timeout: float = 30.0, push_timeout: float = 600.0) -> None:
        self._timeout = timeout
        self._push_timeout = push_timeout
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._closing: set[asyncio.Future[None]] = set()

    def _channel(self, url: str) -> grpc.aio.Channel:
        target = grpc_target(url)
        channel = self._channels.pop(target, None)
        if channel is None:
            channel = grpc.aio.insecure_channel(target, options=retry_options(4))
        self._channels[target] = channel  # most recently used last
        while len(self._channels) > MAX_CHANNELS:
            # Gossip reaches nodes named by any signed location record: keep the open channels bounded.
            oldest = next(iter(self._channels))
            self._closing.add(asyncio.ensure_future(self._channels.pop(oldest).close(grace=5.0)))
            self._closing = {f for f in self._closing if not f.done()}
        return channel

    def _stub(self, url: str) -> scheduler_pb2_grpc.SchedulerServiceStub:
        return scheduler_pb2_grpc.SchedulerServiceStub(self._channel(url))

    async def schedule_remote(self, url: str, message: Message) -> Assignment:
        request = scheduler_pb2.ScheduleRequest(message=message_to_pb(message))
        try:
            reply = await self._stub(url).Schedule(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _remote_error(exc, f"scheduler at {url}") from None
        return assignment_from_pb(reply.assignment)

    async def assignment_remote(self, url: str, message_id: bytes, process: bytes) -> Assignment | None:
        """The assignment of `message_id` at `url` if it is scheduled there on `process` (push: was this
        delivery made already?); None when it is not."""
        request = scheduler_pb2.GetAssignmentRequest(
            message_id=encode_id(message_id), process_id=encode_id(process)
        )
        try:
            reply = await self._stub(url).GetAssignment(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _remote_error(exc, f"scheduler at {url}") from None
        assignment = assignment_from_pb(reply.assignment)
        return assignment if assignment.process == process else None

    async def push_remote(
        self, url: str, process: str, slot: int, *, max_hops: int, result_depth: int
    ) -> PushNode:
        request = process_pb2.PushRequest(
            process=process,
            slot=slot,
            mode=process_pb2.PUSH_MODE_SYNC,
            result_depth=result_depth,
            max_hops=max_hops,
        )
        stub = process_pb2_grpc.ProcessServiceStub(self._channel(url))
        try:
            reply = await stub.Push(request, timeout=self._push_timeout)
        except grpc.aio.AioRpcError as exc:
            raise _remote_error(exc, f"push at {url}") from None
        return push_node_from_pb(reply.tree)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
            self._closing.clear()
