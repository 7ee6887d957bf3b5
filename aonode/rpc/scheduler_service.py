"""SchedulerService: thin servicers over `aonode.scheduler.Scheduler` (validate → domain call → convert).

ScheduleStream reads frames ahead while earlier frames are being committed (up to `_STREAM_AHEAD` frames
in flight), so verification of one frame overlaps the durable commit of the one before; outcomes are
still written back in arrival order, one response frame per request frame. A message that fails gets a
per-item error in its outcome and the stream goes on. GetSchedule's page token is the next slot as a
decimal string.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

from aonode import ids
from aonode.codec import decode_assignment
from aonode.errors import AonodeError, InvalidArgument
from aonode.model import Assignment, Message
from aonode.rpc.convert import (
    assignment_to_pb,
    location_from_pb,
    location_to_pb,
    message_from_pb,
    message_to_pb,
    page_token_slot,
)
from aonode.rpc.frames import FrameWriter
from aonode.rpc.service import Context
from aonode.scheduler import Scheduler
from aonode.v1 import scheduler_pb2 as pb
from aonode.v1 import types_pb2

_STREAM_AHEAD = 8
_STREAM_MAX_FRAME = 10_000
_INLINE_FRAME = 64  # SubscribeSchedule frames with more assignments are written on a worker thread


def _process_id(text: str) -> bytes:
    return ids.decode_id(text, "process")


def _outcome(item: Assignment | AonodeError) -> pb.ScheduleOutcome:
    if isinstance(item, Assignment):
        return pb.ScheduleOutcome(assignment=assignment_to_pb(item))
    return pb.ScheduleOutcome(error=pb.StreamError(code=item.status, message=str(item)))


StallLister = Callable[[], Sequence[types_pb2.ProcessStall]]


class SchedulerServicer:
    def __init__(self, scheduler: Scheduler, stalls: StallLister | None = None) -> None:
        self._scheduler = scheduler
        self._stalls = stalls

    async def Schedule(self, request: pb.ScheduleRequest, context: Context) -> pb.ScheduleResponse:
        if not request.HasField("message"):
            raise InvalidArgument("message: required")
        message = message_from_pb(request.message)
        assignment = await self._scheduler.schedule(message)
        return pb.ScheduleResponse(
            assignment=assignment_to_pb(assignment), message_id=ids.encode_id(message.id)
        )

    async def ScheduleStream(
        self, requests: AsyncIterator[pb.ScheduleStreamRequest], context: Context
    ) -> AsyncIterator[pb.ScheduleStreamResponse]:
        pending: asyncio.Queue[asyncio.Task[list[pb.ScheduleOutcome]] | None] = asyncio.Queue(_STREAM_AHEAD)

        async def read_ahead() -> None:
            try:
                async for request in requests:
                    if len(request.messages) > _STREAM_MAX_FRAME:
                        raise InvalidArgument(f"a frame holds at most {_STREAM_MAX_FRAME} messages")
                    await pending.put(asyncio.ensure_future(self._frame(request)))
            finally:
                await pending.put(None)

        reader = asyncio.ensure_future(read_ahead())
        try:
            while (task := await pending.get()) is not None:
                yield pb.ScheduleStreamResponse(outcomes=await task)
            await reader  # re-raises a reader failure (a malformed or oversized frame)
        finally:
            reader.cancel()
            while not pending.empty():
                leftover = pending.get_nowait()
                if leftover is not None:
                    leftover.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _frame(self, request: pb.ScheduleStreamRequest) -> list[pb.ScheduleOutcome]:
        converted: list[Message | AonodeError] = []
        for i, raw in enumerate(request.messages):
            try:
                converted.append(message_from_pb(raw, f"messages[{i}]"))
            except AonodeError as exc:
                converted.append(exc)
        valid = [m for m in converted if isinstance(m, Message)]
        results = iter(await self._scheduler.schedule_many(valid) if valid else [])
        return [_outcome(next(results) if isinstance(m, Message) else m) for m in converted]

    async def GetSchedule(self, request: pb.GetScheduleRequest, context: Context) -> pb.GetScheduleResponse:
        process = _process_id(request.process)
        from_slot = request.from_slot if request.HasField("from_slot") else 0
        if request.page_token:
            from_slot = page_token_slot(request.page_token)
        to_slot = request.to_slot if request.HasField("to_slot") else None
        # A page is up to max_page decoded assignments (and messages): read it off the event loop.
        page = await asyncio.to_thread(
            self._scheduler.get_schedule,
            process,
            from_slot,
            to_slot,
            request.limit or None,
            request.include_messages,
        )
        return pb.GetScheduleResponse(
            process=request.process,
            assignments=[assignment_to_pb(a) for a in page.assignments],  # a page: at most max_page
            messages=[message_to_pb(m) for m in page.messages],
            has_next=page.has_next,
            next_page_token=str(page.next_slot) if page.has_next else "",
        )

    async def GetSlot(self, request: pb.GetSlotRequest, context: Context) -> pb.GetSlotResponse:
        head = self._scheduler.head(_process_id(request.process))
        return pb.GetSlotResponse(
            process=request.process,
            current_slot=head.slot,
            timestamp=head.timestamp,
            block_height=head.block_height,
            block_hash=ids.b64url_encode(head.block_hash),
            hash_chain=ids.encode_id(head.hash_chain),
            scheduler=str(head.scheduler),
        )

    async def GetStatus(self, request: pb.GetStatusRequest, context: Context) -> pb.GetStatusResponse:
        processes = await asyncio.to_thread(self._scheduler.processes)
        stalled = await asyncio.to_thread(self._stalls) if self._stalls is not None else ()
        return pb.GetStatusResponse(
            address=str(self._scheduler.address),
            processes=[ids.encode_id(p) for p in processes],
            timestamp=int(time.time() * 1000),
            stalled=stalled,
        )

    async def GetAssignment(
        self, request: pb.GetAssignmentRequest, context: Context
    ) -> pb.GetAssignmentResponse:
        assignment = self._scheduler.assignment_of(ids.decode_id(request.message_id, "message_id"))
        return pb.GetAssignmentResponse(assignment=assignment_to_pb(assignment))

    async def PublishMessage(
        self, request: pb.PublishMessageRequest, context: Context
    ) -> pb.PublishMessageResponse:
        if not request.HasField("message"):
            raise InvalidArgument("message: required")
        message_id = await self._scheduler.publish(message_from_pb(request.message))
        return pb.PublishMessageResponse(message_id=ids.encode_id(message_id))

    async def GetMessage(self, request: pb.GetMessageRequest, context: Context) -> pb.GetMessageResponse:
        message = self._scheduler.get_message(ids.decode_id(request.message_id, "message_id"))
        return pb.GetMessageResponse(message=message_to_pb(message))

    async def GetLocation(self, request: pb.GetLocationRequest, context: Context) -> pb.GetLocationResponse:
        if not request.address:
            raise InvalidArgument("address: required")
        return pb.GetLocationResponse(location=location_to_pb(self._scheduler.locations.get(request.address)))

    async def RegisterLocation(
        self, request: pb.RegisterLocationRequest, context: Context
    ) -> pb.RegisterLocationResponse:
        if not request.HasField("location"):
            raise InvalidArgument("location: required")
        stored = await self._scheduler.locations.register(location_from_pb(request.location))
        return pb.RegisterLocationResponse(location=location_to_pb(stored))

    def _messages_of(self, encoded: Sequence[bytes]) -> list[types_pb2.Message]:
        get = self._scheduler.get_message
        return [message_to_pb(get(decode_assignment(e).message)) for e in encoded]

    async def SubscribeSchedule(
        self, request: pb.SubscribeScheduleRequest, context: Context
    ) -> AsyncIterator[bytes]:
        """Frames go out as wire bytes written from the stored encodings (`rpc.frames`), in either format:
        no protobuf objects are built for the assignments. Large frames are written on a worker thread."""
        process = _process_id(request.process)
        self._scheduler.head(process)  # NotFound before the stream starts
        writer = FrameWriter(process, request.from_slot)
        write = writer.canonical if request.format == pb.ASSIGNMENT_FORMAT_CANONICAL else writer.fields
        subscription = self._scheduler.subscribe(process, request.from_slot, encoded=True)
        try:
            async for batch in subscription:
                messages: list[types_pb2.Message] = []
                if request.include_messages and batch.encoded:
                    messages = await asyncio.to_thread(self._messages_of, batch.encoded)
                current = max(batch.head_slot, 0)
                if len(batch.encoded) > _INLINE_FRAME:
                    yield await asyncio.to_thread(write, batch.encoded, current, messages)
                else:
                    yield write(batch.encoded, current, messages)
        finally:
            await subscription.aclose()
