"""SchedulerService: thin servicers over `aonode.scheduler.Scheduler` (validate → domain call → convert).

ScheduleStream reads frames ahead while earlier frames are being committed (up to `_STREAM_AHEAD` frames
in flight), so verification of one frame overlaps the durable commit of the one before; outcomes are
still written back in arrival order, one response frame per request frame. A message that fails gets a
per-item error in its outcome and the stream goes on. GetSchedule's page token is the next slot as a
decimal string.

Reads for clients are bounded by bytes (docs/scheduler.md, "Reads and memory"): GetSchedule pages and
SubscribeSchedule frames carry at most `max_frame_bytes` of stored encodings (a larger message alone),
and every read that returns message bodies (those two with `include_messages`, GetMessage) holds a
`ReadLease` on the scheduler's read budget from before the bodies are kept until the response was sent:
a unary call gives it back when the call is done (`context.add_done_callback`), a stream when it asks for
its next frame (the previous write returned) or ends. Message-bearing reads and their serialization run
on the scheduler's small read executor; the response is serialized there to bytes, so only the stored
bytes, one decoded copy and the wire bytes exist at the peak, and the wire bytes alone afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import platform
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from aonode import ids
from aonode.errors import AonodeError, InvalidArgument
from aonode.model import Assignment, Message
from aonode.rpc.convert import (
    assignment_to_pb,
    location_from_pb,
    location_to_pb,
    message_from_pb,
    page_token_slot,
)
from aonode.rpc.frames import FrameWriter, field, message_wire
from aonode.rpc.service import Context
from aonode.scheduler import Scheduler
from aonode.scheduler.budget import ReadLease, read_leased
from aonode.v1 import scheduler_pb2 as pb
from aonode.v1 import types_pb2

_STREAM_AHEAD = 8
_STREAM_MAX_FRAME = 10_000
_INLINE_FRAME = 64  # SubscribeSchedule frames with more assignments are written on a worker thread

_GS_MESSAGES = b"\x1a"  # GetScheduleResponse.messages: field 3, length-delimited
_GM_MESSAGE = b"\x0a"  # GetMessageResponse.message: field 1, length-delimited

T = TypeVar("T")


def _process_id(text: str) -> bytes:
    return ids.decode_id(text, "process")


def _outcome(item: Assignment | AonodeError) -> pb.ScheduleOutcome:
    if isinstance(item, Assignment):
        return pb.ScheduleOutcome(assignment=assignment_to_pb(item))
    return pb.ScheduleOutcome(error=pb.StreamError(code=item.status, message=str(item)))


_MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def mmap_large_buffers() -> None:
    """Have glibc serve every allocation of 1 MiB or more with its own mmap, returned to the OS on free.

    glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), after which
    message-sized buffers come from the heap arenas, where freed ones stay in the process: a few rounds of
    reads of 15 MiB messages left ~250 MiB more resident than while no read was running. With a fixed
    threshold the node's memory falls back once responses are sent (measured: docs/scheduler.md, "Reads
    and memory"). Idempotent; a no-op where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


StallLister = Callable[[], Sequence[types_pb2.ProcessStall]]


class SchedulerServicer:
    def __init__(self, scheduler: Scheduler, stalls: StallLister | None = None) -> None:
        self._scheduler = scheduler
        self._stalls = stalls
        mmap_large_buffers()

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

    async def GetSchedule(self, request: pb.GetScheduleRequest, context: Context) -> bytes:
        process = _process_id(request.process)
        from_slot = request.from_slot if request.HasField("from_slot") else 0
        if request.page_token:
            from_slot = page_token_slot(request.page_token)
        to_slot = request.to_slot if request.HasField("to_slot") else None
        sched = self._scheduler

        def page(lease: ReadLease | None) -> bytes:
            found = sched.get_schedule(
                process,
                from_slot,
                to_slot,
                request.limit or None,
                request.include_messages,
                max_bytes=sched.config.max_frame_bytes,
                lease=lease,
            )
            head = pb.GetScheduleResponse(
                process=request.process, assignments=[assignment_to_pb(a) for a in found.assignments]
            ).SerializeToString()
            tail = pb.GetScheduleResponse(
                has_next=found.has_next, next_page_token=str(found.next_slot) if found.has_next else ""
            ).SerializeToString()
            parts = [head]
            messages = list(found.messages)
            del found
            while messages:  # each decoded message is dropped once it is in the response
                parts += field(_GS_MESSAGES, message_wire(messages.pop(0)))
            parts.append(tail)
            return b"".join(parts)

        if not request.include_messages:
            # At most max_page decoded assignments: read off the event loop.
            return await asyncio.to_thread(page, None)
        return await self._leased(context, page)

    async def _leased(self, context: Context, read: Callable[[ReadLease], T]) -> T:
        """`read(lease)` on the read executor, charged to the read budget (`read_leased`); the lease is
        given back when the call is done (its response sent, or the call ended)."""
        answer, lease = await read_leased(self._scheduler.read_executor, self._scheduler.read_budget, read)
        context.add_done_callback(lambda _: lease.close())
        return answer

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
        process = ids.decode_id(request.process_id, "process_id") if request.process_id else None
        assignment = self._scheduler.assignment_of(ids.decode_id(request.message_id, "message_id"), process)
        return pb.GetAssignmentResponse(assignment=assignment_to_pb(assignment))

    async def Assign(self, request: pb.AssignRequest, context: Context) -> pb.AssignResponse:
        process = ids.decode_id(request.process, "process")
        message_id = ids.decode_id(request.message_id, "message_id")
        assignment = await self._scheduler.assign(process, message_id)
        return pb.AssignResponse(assignment=assignment_to_pb(assignment))

    async def PublishMessage(
        self, request: pb.PublishMessageRequest, context: Context
    ) -> pb.PublishMessageResponse:
        if not request.HasField("message"):
            raise InvalidArgument("message: required")
        message_id = await self._scheduler.publish(message_from_pb(request.message))
        return pb.PublishMessageResponse(message_id=ids.encode_id(message_id))

    async def GetMessage(self, request: pb.GetMessageRequest, context: Context) -> bytes:
        message_id = ids.decode_id(request.message_id, "message_id")
        get = self._scheduler.get_message

        def read(lease: ReadLease) -> bytes:
            return b"".join(field(_GM_MESSAGE, message_wire(get(message_id, lease))))

        return await self._leased(context, read)

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

    async def SubscribeSchedule(
        self, request: pb.SubscribeScheduleRequest, context: Context
    ) -> AsyncIterator[bytes]:
        """Frames go out as wire bytes written from the stored encodings (`rpc.frames`), in either format:
        no protobuf objects are built for the assignments. Large frames, and frames with messages, are
        written on a worker thread. The subscription charges its messages to the read budget until this
        generator asks for the next frame, i.e. until the previous one was sent (module docstring)."""
        process = _process_id(request.process)
        self._scheduler.head(process)  # NotFound before the stream starts
        writer = FrameWriter(process, request.from_slot)
        write = writer.canonical if request.format == pb.ASSIGNMENT_FORMAT_CANONICAL else writer.fields
        subscription = self._scheduler.subscribe(
            process, request.from_slot, encoded=True, include_messages=request.include_messages
        )
        executor = self._scheduler.read_executor
        loop = asyncio.get_running_loop()
        try:
            async for batch in subscription:
                current = max(batch.head_slot, 0)
                encoded, messages = batch.encoded, batch.messages
                del batch  # the decoded messages must not outlive their frame's writing
                if messages:
                    frame = await loop.run_in_executor(executor, write, encoded, current, messages)
                    del messages
                elif len(encoded) > _INLINE_FRAME:
                    frame = await asyncio.to_thread(write, encoded, current)
                else:
                    frame = write(encoded, current)
                yield frame
        finally:
            await subscription.aclose()
