"""A Python client for an aonode node: typed calls over gRPC, model objects in and out.

Used by the CLI and the benchmarks, and by any Python program. Calls are synchronous (grpcio's blocking
stubs); each takes the client's default deadline. A failed call raises `ClientError` carrying the gRPC
status name, the node's message and its trailing metadata (e.g. the redirect's location).

Retries: a call answered UNAVAILABLE (the node restarting, a connection reset, a stream the HTTP/2 layer
refused) is repeated by gRPC itself, up to `retry_attempts` attempts in all with a jittered backoff from
0.1 s to 1 s, but only if it is safe to repeat (`aonode/rpc/retry.py` lists which calls are);
`retry_attempts=1` turns retries off.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from aonode import ids
from aonode.cron import CronTask, build_request
from aonode.crypto import Signer, sign_message
from aonode.errors import NotFound
from aonode.model import Assignment, Location, Message, Result, Tag
from aonode.push.config import PushReport, State
from aonode.rpc.convert import (
    assignment_from_pb,
    cron_task_from_pb,
    location_from_pb,
    location_to_pb,
    message_from_pb,
    message_to_pb,
    push_node_from_pb,
    result_from_pb,
)
from aonode.rpc.retry import retry_options
from aonode.v1 import (
    cron_pb2,
    cron_pb2_grpc,
    network_pb2,
    network_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    process_pb2,
    process_pb2_grpc,
    replication_pb2,
    replication_pb2_grpc,
    scheduler_pb2,
    scheduler_pb2_grpc,
    types_pb2,
)

AO_TAGS = (Tag("Data-Protocol", "ao"), Tag("Variant", "ao.TN.1"))


class ClientError(Exception):
    """A call the node answered with an error status."""

    def __init__(self, code: str, details: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details
        self.metadata = metadata or {}


def _message_pb(message: Message | bytes) -> types_pb2.Message:
    # Bytes are an ANS-104 item, sent exactly as given: the node decodes and verifies them.
    if isinstance(message, bytes | bytearray | memoryview):
        return types_pb2.Message(ans104=bytes(message))
    return message_to_pb(message)


def _error(exc: grpc.RpcError) -> ClientError:
    code = exc.code().name if hasattr(exc, "code") and exc.code() is not None else "UNKNOWN"
    details = exc.details() if hasattr(exc, "details") else str(exc)
    metadata: dict[str, str] = {}
    if hasattr(exc, "trailing_metadata") and exc.trailing_metadata():
        metadata = {k: v for k, v in exc.trailing_metadata() if isinstance(v, str)}
    return ClientError(code, details or "", metadata)


@dataclass(frozen=True)
class SchedulePage:
    process: str
    assignments: list[Assignment]
    messages: list[Message]
    has_next: bool
    next_page_token: str


@dataclass(frozen=True)
class ComputedSlot:
    """A slot's result with the names that fix it (IDs as 43-character text)."""

    process: str
    slot: int
    result: Result
    hashpath: str
    result_digest: str

    @classmethod
    def from_pb(cls, r: process_pb2.SlotResult) -> ComputedSlot:
        return cls(r.process, r.slot, result_from_pb(r.result), r.hashpath, r.result_digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "slot": self.slot,
            "hashpath": self.hashpath,
            "result-digest": self.result_digest,
            **self.result.to_json(),
        }


@dataclass
class NodeClient:
    """A connection to one node. Use as a context manager, or call close()."""

    address: str
    timeout: float = 30.0
    options: Sequence[tuple[str, Any]] = field(
        default=(("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20))
    )
    retry_attempts: int = 4
    """Attempts per repeatable call answered UNAVAILABLE (module docstring); 1: no retries."""

    def __post_init__(self) -> None:
        options = [*self.options, *retry_options(self.retry_attempts)]
        self.channel = grpc.insecure_channel(self.address, options=options)
        self.node = node_pb2_grpc.NodeServiceStub(self.channel)
        self.scheduler = scheduler_pb2_grpc.SchedulerServiceStub(self.channel)
        self.process = process_pb2_grpc.ProcessServiceStub(self.channel)
        self.cron = cron_pb2_grpc.CronServiceStub(self.channel)
        self.network = network_pb2_grpc.NetworkServiceStub(self.channel)
        self.replication = replication_pb2_grpc.ReplicationServiceStub(self.channel)

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def _unary(self, method: Any, request: Any) -> Any:
        """Call a unary RPC with the client's deadline; a failure becomes a ClientError."""
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise _error(exc) from None

    def info(self) -> node_pb2.GetInfoResponse:
        reply: node_pb2.GetInfoResponse = self._unary(self.node.GetInfo, node_pb2.GetInfoRequest())
        return reply

    def schedule(self, message: Message | bytes) -> Assignment:
        """Schedule `message`: a Message, or an ANS-104 data item's bytes (sent as they are)."""
        reply = self._unary(
            self.scheduler.Schedule, scheduler_pb2.ScheduleRequest(message=_message_pb(message))
        )
        return assignment_from_pb(reply.assignment)

    def schedule_stream(
        self, messages: Iterable[Message | bytes], frame: int = 100
    ) -> Iterator[Assignment | ClientError]:
        """Schedule many messages (Messages or ANS-104 items' bytes) over one stream, `frame` per request;
        outcomes in input order."""

        def frames() -> Iterator[scheduler_pb2.ScheduleStreamRequest]:
            batch: list[Message | bytes] = []
            for message in messages:
                batch.append(message)
                if len(batch) >= frame:
                    yield scheduler_pb2.ScheduleStreamRequest(messages=[_message_pb(m) for m in batch])
                    batch = []
            if batch:
                yield scheduler_pb2.ScheduleStreamRequest(messages=[_message_pb(m) for m in batch])

        try:
            for reply in self.scheduler.ScheduleStream(frames()):
                for outcome in reply.outcomes:
                    if outcome.HasField("assignment"):
                        yield assignment_from_pb(outcome.assignment)
                    else:
                        yield ClientError(outcome.error.code, outcome.error.message)
        except grpc.RpcError as exc:
            raise _error(exc) from None

    def publish(self, message: Message | bytes) -> str:
        """Store `message` (a Message or an ANS-104 item's bytes) without scheduling it; its ID."""
        reply = self._unary(
            self.scheduler.PublishMessage, scheduler_pb2.PublishMessageRequest(message=_message_pb(message))
        )
        return str(reply.message_id)

    def get_message(self, message_id: str) -> Message:
        """The stored message; an ANS-104 one is an `ans104.Ans104Message` whose `raw` is its exact bytes."""
        reply = self._unary(self.scheduler.GetMessage, scheduler_pb2.GetMessageRequest(message_id=message_id))
        return message_from_pb(reply.message)

    def get_schedule(
        self,
        process: str,
        from_slot: int | None = None,
        to_slot: int | None = None,
        limit: int = 0,
        page_token: str = "",
        include_messages: bool = False,
    ) -> SchedulePage:
        request = scheduler_pb2.GetScheduleRequest(
            process=process, limit=limit, page_token=page_token, include_messages=include_messages
        )
        if from_slot is not None:
            request.from_slot = from_slot
        if to_slot is not None:
            request.to_slot = to_slot
        reply = self._unary(self.scheduler.GetSchedule, request)
        # A page may stop short of `limit` (the node bounds pages by bytes, a big message comes alone):
        # follow has_next / next_page_token, as iter_schedule does.
        return SchedulePage(
            process=reply.process,
            assignments=[assignment_from_pb(a) for a in reply.assignments],
            messages=[message_from_pb(m) for m in reply.messages],
            has_next=reply.has_next,
            next_page_token=reply.next_page_token,
        )

    def iter_schedule(
        self, process: str, from_slot: int | None = None, to_slot: int | None = None
    ) -> Iterator[Assignment]:
        """Every assignment in the range, following pages."""
        token = ""
        while True:
            page = self.get_schedule(process, from_slot, to_slot, page_token=token)
            yield from page.assignments
            if not page.has_next:
                return
            token = page.next_page_token

    def iter_schedule_messages(
        self, process: str, from_slot: int | None = None, to_slot: int | None = None
    ) -> Iterator[tuple[Assignment, Message]]:
        """Every assignment in the range with its message, following pages: one page of at most 1 MiB
        (or one larger message) is held at a time, here and on the node."""
        token = ""
        while True:
            page = self.get_schedule(process, from_slot, to_slot, page_token=token, include_messages=True)
            yield from zip(page.assignments, page.messages, strict=True)
            if not page.has_next:
                return
            token = page.next_page_token

    def get_slot(self, process: str) -> scheduler_pb2.GetSlotResponse:
        slot: scheduler_pb2.GetSlotResponse = self._unary(
            self.scheduler.GetSlot, scheduler_pb2.GetSlotRequest(process=process)
        )
        return slot

    def get_assignment(self, message_id: str, process: str = "") -> Assignment:
        """The assignment of `message_id` (on `process`, for an assignment; else on its own target)."""
        reply = self._unary(
            self.scheduler.GetAssignment,
            scheduler_pb2.GetAssignmentRequest(message_id=message_id, process_id=process),
        )
        return assignment_from_pb(reply.assignment)

    def assign(self, process: str, message_id: str) -> Assignment:
        """Assign the stored message `message_id` to `process` (idempotent): its assignment there."""
        reply = self._unary(
            self.scheduler.Assign, scheduler_pb2.AssignRequest(process=process, message_id=message_id)
        )
        return assignment_from_pb(reply.assignment)

    def compute(self, process: str, slot: int) -> ComputedSlot:
        reply = self._unary(self.process.Compute, process_pb2.ComputeRequest(process=process, slot=slot))
        return ComputedSlot.from_pb(reply.result)

    def now(self, process: str) -> ComputedSlot:
        reply = self._unary(self.process.Now, process_pb2.NowRequest(process=process))
        return ComputedSlot.from_pb(reply.result)

    def dryrun(self, message: Message) -> Result:
        reply = self._unary(self.process.Dryrun, process_pb2.DryrunRequest(message=message_to_pb(message)))
        return result_from_pb(reply.result)

    def status(self) -> scheduler_pb2.GetStatusResponse:
        """The node's status: its address, the processes it schedules, the stalled ones."""
        reply: scheduler_pb2.GetStatusResponse = self._unary(
            self.scheduler.GetStatus, scheduler_pb2.GetStatusRequest()
        )
        return reply

    def process_status(self, process: str) -> process_pb2.GetProcessStatusResponse:
        """Whether `process` is stalled, its schedule's tip and its last computed slot."""
        reply: process_pb2.GetProcessStatusResponse = self._unary(
            self.process.GetProcessStatus, process_pb2.GetProcessStatusRequest(process=process)
        )
        return reply

    def resume_process(self, operator: Signer, process: str) -> process_pb2.ResumeProcessResponse:
        """Lift the stall of `process`, signing the authorization with an operator's wallet (the node's own,
        or one in its `[compute] operators`); NOT_FOUND when it is not stalled."""
        status = self.process_status(process)
        if not status.HasField("stall"):
            raise NotFound(f"process {process} is not stalled")
        authorization = build_message(
            operator,
            process,
            action="Resume-Compute",
            tags=[("Stalled-Since", str(status.stall.since_ms))],
        )
        reply: process_pb2.ResumeProcessResponse = self._unary(
            self.process.ResumeProcess,
            process_pb2.ResumeProcessRequest(authorization=message_to_pb(authorization)),
        )
        return reply

    def push(
        self, process: str, slot: int, *, async_: bool = False, result_depth: int = 1, max_hops: int = 0
    ) -> PushReport:
        """Deliver `slot`'s spawns and outbox, recursively. Sync: waits (no deadline: a push may be long)
        and returns the whole tree. Async: returns at once with the push ID (`get_push` follows it).
        `max_hops` > 0 lowers the node's hop bound for this push."""
        mode = process_pb2.PUSH_MODE_ASYNC if async_ else process_pb2.PUSH_MODE_SYNC
        request = process_pb2.PushRequest(
            process=process, slot=slot, mode=mode, result_depth=result_depth, max_hops=max_hops
        )
        try:
            reply = self.process.Push(request, timeout=self.timeout if async_ else None)
        except grpc.RpcError as exc:
            raise _error(exc) from None
        report = PushReport(reply.push_id, _push_state(reply.state), push_node_from_pb(reply.tree))
        if reply.HasField("tree"):
            _count(report)
        return report

    def get_push(self, push_id: str) -> PushReport:
        """An (asynchronous) push's progress and tree as it stands."""
        reply = self._unary(self.process.GetPush, process_pb2.GetPushRequest(push_id=push_id))
        report = PushReport(reply.push_id, _push_state(reply.state), push_node_from_pb(reply.tree))
        _count(report)
        report.delivered, report.error = reply.delivered, reply.error
        report.existing, report.undelivered = reply.existing, reply.undelivered
        return report

    def subscribe(
        self, process: str, from_slot: int = 0, include_messages: bool = False, canonical: bool = False
    ) -> Iterator[scheduler_pb2.SubscribeScheduleResponse]:
        """Frames of the live schedule (no deadline: cancel by closing the client or breaking out). With
        `canonical`, frames carry `encoded_assignments` (decode with `aonode.codec.decode_assignment`).
        With `include_messages`, `messages[i]` is the message of the frame's i-th assignment; frames hold
        at most 1 MiB of them (a larger message alone), and the stream ends with RESOURCE_EXHAUSTED
        (a ClientError) if the node's read budget stays in use by other readers for its whole wait."""
        request = scheduler_pb2.SubscribeScheduleRequest(
            process=process,
            from_slot=from_slot,
            include_messages=include_messages,
            format=scheduler_pb2.ASSIGNMENT_FORMAT_CANONICAL
            if canonical
            else scheduler_pb2.ASSIGNMENT_FORMAT_FIELDS,
        )
        try:
            yield from self.scheduler.SubscribeSchedule(request)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise _error(exc) from None

    # -- the node network (docs/network.md) ----------------------------------------------------------------

    def get_location(self, address: str) -> Location:
        """The location record the node knows for scheduler `address` (also an expired one: check
        `expires_at`). NOT_FOUND when none is known."""
        reply = self._unary(self.scheduler.GetLocation, scheduler_pb2.GetLocationRequest(address=address))
        return location_from_pb(reply.location)

    def register_location(self, location: Location) -> Location:
        """Give the node a signed location record (a higher nonce than the one it has)."""
        request = scheduler_pb2.RegisterLocationRequest(location=location_to_pb(location))
        return location_from_pb(self._unary(self.scheduler.RegisterLocation, request).location)

    def locations(self, *, valid_only: bool = False) -> list[Location]:
        """Every location record the node knows (following pages), expired ones too unless `valid_only`."""
        out: list[Location] = []
        token = ""
        while True:
            request = network_pb2.ListLocationsRequest(
                page_size=1000, page_token=token, valid_only=valid_only
            )
            reply = self._unary(self.network.ListLocations, request)
            out += [location_from_pb(loc) for loc in reply.locations]
            token = reply.next_page_token
            if not token:
                return out

    def peers(self) -> list[network_pb2.Peer]:
        return list(self._unary(self.network.ListPeers, network_pb2.ListPeersRequest()).peers)

    def add_peer(self, operator: Signer, url: str) -> network_pb2.AddPeerResponse:
        """Make the node gossip with `url` (HOST:PORT); it exchanges records with it before answering.
        `operator`: the node wallet or a `[network] operators` address."""
        request = network_pb2.AddPeerRequest(
            authorization=message_to_pb(operator_request(operator, "Add-Peer", [("Peer", url)]))
        )
        reply: network_pb2.AddPeerResponse = self._unary(self.network.AddPeer, request)
        return reply

    def remove_peer(self, operator: Signer, url: str) -> network_pb2.Peer:
        request = network_pb2.RemovePeerRequest(
            authorization=message_to_pb(operator_request(operator, "Remove-Peer", [("Peer", url)]))
        )
        peer: network_pb2.Peer = self._unary(self.network.RemovePeer, request).peer
        return peer

    def relays(self) -> list[network_pb2.TrustedRelay]:
        """The addresses whose relayed messages (From-Process, Cron-From) the node schedules."""
        return list(self._unary(self.network.ListRelays, network_pb2.ListRelaysRequest()).relays)

    def trust_relay(self, operator: Signer, address: str) -> network_pb2.TrustedRelay:
        request = network_pb2.TrustRelayRequest(
            authorization=message_to_pb(operator_request(operator, "Trust-Relay", [("Relay", address)]))
        )
        relay: network_pb2.TrustedRelay = self._unary(self.network.TrustRelay, request).relay
        return relay

    def untrust_relay(self, operator: Signer, address: str) -> network_pb2.TrustedRelay:
        request = network_pb2.UntrustRelayRequest(
            authorization=message_to_pb(operator_request(operator, "Untrust-Relay", [("Relay", address)]))
        )
        relay: network_pb2.TrustedRelay = self._unary(self.network.UntrustRelay, request).relay
        return relay

    def lookup_process(self, process: str) -> network_pb2.LookupProcessResponse:
        """The node's proof of where `process` lives (NOT_FOUND unless it holds its schedule); check it
        with `aonode.network.verify_proof`."""
        reply: network_pb2.LookupProcessResponse = self._unary(
            self.network.LookupProcess, network_pb2.LookupProcessRequest(process=process)
        )
        return reply

    def scheduler_records(
        self, process: str
    ) -> tuple[list[Message], replication_pb2.GetSchedulerRecordsResponse]:
        """Every owner-signed scheduler record the node holds for `process` (nonce ascending; the last
        names the current scheduler), with the raw reply (`scheduler`, `redirect_url`); see
        docs/replication.md."""
        reply: replication_pb2.GetSchedulerRecordsResponse = self._unary(
            self.replication.GetSchedulerRecords, replication_pb2.GetSchedulerRecordsRequest(process=process)
        )
        return [message_from_pb(r) for r in reply.records], reply

    def put_scheduler_record(self, record: Message) -> replication_pb2.PutSchedulerRecordResponse:
        """Give the node a scheduler record (the hand-off: `aonode.replication.handoff.build_record`). The
        reply says the node's role afterwards (`scheduler` or `redirect`), its head slot and how many of
        its slots the new schedule orphans."""
        reply: replication_pb2.PutSchedulerRecordResponse = self._unary(
            self.replication.PutSchedulerRecord,
            replication_pb2.PutSchedulerRecordRequest(record=message_to_pb(record)),
        )
        return reply

    def exchange_locations(self, records: Sequence[Location]) -> list[Location]:
        """Gossip by hand: give the node `records`, get the valid ones it knows."""
        request = network_pb2.ExchangeLocationsRequest(locations=[location_to_pb(r) for r in records])
        return [
            location_from_pb(loc) for loc in self._unary(self.network.ExchangeLocations, request).locations
        ]

    def cron_once(
        self,
        signer: Signer,
        process: str,
        *,
        at: int | None = None,
        in_: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        data: bytes = b"",
        path: str = "",
    ) -> CronTask:
        """A task, created by `signer`, that schedules one message on `process` at `at` (ms since the
        epoch) or after `in_` (an interval such as `10-seconds`); with `path` (`now`, `push`) one that calls
        that path on the process instead. Each tick reaches the process with `signer`'s address as From."""
        request = build_request(signer, "Once", process, tags=tags, data=data, at=at, delay=in_, path=path)
        reply = self._unary(self.cron.Once, cron_pb2.OnceRequest(request=message_to_pb(request)))
        return cron_task_from_pb(reply.task)

    def cron_every(
        self,
        signer: Signer,
        process: str,
        interval: str,
        *,
        tags: Sequence[tuple[str, str]] = (),
        data: bytes = b"",
        path: str = "",
    ) -> CronTask:
        """A task, created by `signer`, that schedules a message on `process` every `interval`; with
        `path` (`now`, `push`) one that calls that path on the process instead."""
        request = build_request(signer, "Every", process, tags=tags, data=data, interval=interval, path=path)
        reply = self._unary(self.cron.Every, cron_pb2.EveryRequest(request=message_to_pb(request)))
        return cron_task_from_pb(reply.task)

    def cron_stop(self, signer: Signer, task: str) -> CronTask:
        """Stop `task`; `signer` must be its creator."""
        request = build_request(signer, "Stop", task)
        reply = self._unary(self.cron.Stop, cron_pb2.StopRequest(request=message_to_pb(request)))
        return cron_task_from_pb(reply.task)

    def cron_list_page(
        self, page_size: int = 0, page_token: str = "", process: str = "", creator: str = ""
    ) -> tuple[list[CronTask], str]:
        """One page of the node's live tasks (oldest first) and the next page's token ("" after the last)."""
        request = cron_pb2.ListRequest(
            page_size=page_size, page_token=page_token, process=process, creator=creator
        )
        reply = self._unary(self.cron.List, request)
        return [cron_task_from_pb(t) for t in reply.tasks], reply.next_page_token

    def cron_list(self, process: str = "", creator: str = "") -> list[CronTask]:
        """Every live task (of `process`, of `creator`, when given), following pages."""
        out: list[CronTask] = []
        token = ""
        while True:
            tasks, token = self.cron_list_page(page_token=token, process=process, creator=creator)
            out += tasks
            if not token:
                return out


def operator_request(signer: Signer, action: str, tags: Sequence[tuple[str, str]]) -> Message:
    """An operator action (docs/network.md, docs/replication.md): signed, with `Action` and the current
    time as `Issued-At` (the node refuses copies used again or older than five minutes)."""
    all_tags = [Tag("Action", action), Tag("Issued-At", str(time.time_ns() // 1_000_000))]
    all_tags += [Tag(k, v) for k, v in tags]
    return sign_message(Message(anchor=new_anchor(), tags=tuple(all_tags)), signer)


def _push_state(state: int) -> State:
    if state == process_pb2.PUSH_STATE_DONE:
        return "done"
    if state == process_pb2.PUSH_STATE_FAILED:
        return "failed"
    if state == process_pb2.PUSH_STATE_INCOMPLETE:
        return "incomplete"
    return "running"


def _count(report: PushReport) -> None:
    """Delivery counts recomputed from the tree (the sync reply carries only the tree)."""
    nodes = [n for n in report.tree.walk() if n.kind != "root" and n.slot is not None]
    report.existing = sum(1 for n in nodes if n.existing)
    report.delivered = len(nodes) - report.existing
    report.undelivered = sum(1 for n in report.tree.walk() if n.stopped.startswith("unreachable:"))


def new_anchor() -> str:
    """A random 32-character anchor: two otherwise equal messages get different IDs."""
    return secrets.token_urlsafe(24)


def build_message(
    signer: Signer,
    target: str,
    *,
    action: str | None = None,
    data: bytes = b"",
    tags: Sequence[tuple[str, str]] = (),
    anchor: str | None = None,
) -> Message:
    """A signed AO message to `target` (Data-Protocol/Variant/Type tags as aoconnect sets them)."""
    all_tags = [*AO_TAGS, Tag("Type", "Message")]
    if action is not None:
        all_tags.append(Tag("Action", action))
    all_tags += [Tag(name, value) for name, value in tags]
    message = Message(
        target=target, anchor=new_anchor() if anchor is None else anchor, tags=tuple(all_tags), data=data
    )
    return sign_message(message, signer)


def build_process(
    signer: Signer,
    *,
    module: str,
    scheduler: str,
    device: str,
    tags: Sequence[tuple[str, str]] = (),
    data: bytes = b"",
) -> Message:
    """A signed Process message for `module`, scheduled by `scheduler` (an address)."""
    all_tags = [
        *AO_TAGS,
        Tag("Type", "Process"),
        Tag("Module", module),
        Tag("Scheduler", scheduler),
        Tag("Execution-Device", device),
        *(Tag(name, value) for name, value in tags),
    ]
    return sign_message(Message(anchor=new_anchor(), tags=tuple(all_tags), data=data), signer)


def build_module(
    signer: Signer, code: bytes, content_type: str, tags: Sequence[tuple[str, str]] = ()
) -> Message:
    """A signed module message: the code as data, with its Content-Type."""
    all_tags = [
        *AO_TAGS,
        Tag("Type", "Module"),
        Tag("Content-Type", content_type),
        *(Tag(name, value) for name, value in tags),
    ]
    return sign_message(Message(tags=tuple(all_tags), data=code), signer)


def assignment_json(a: Assignment) -> dict[str, Any]:
    """An assignment as the CLI prints it (IDs as 43-character base64url)."""
    return {
        "process": ids.encode_id(a.process),
        "slot": a.slot,
        "message": ids.encode_id(a.message),
        "timestamp": a.timestamp,
        "block-height": a.block_height,
        "block-hash": ids.b64url_encode(a.block_hash),
        "epoch": a.epoch,
        "hash-chain": ids.encode_id(a.hash_chain),
        "id": ids.encode_id(a.id),
        "scheduler": str(ids.address_of(a.signature.owner)) if a.signature else None,
    }
