"""Conversions between protobuf messages (aonode.v1) and the model (aonode.model), in one module.

IDs cross the wire as 43-character base64url strings and live in the model as 32 raw bytes; a string that
is not an ID is an InvalidArgument naming the field. Signature schemes are an enum on the wire and a name
in the model.
"""

from __future__ import annotations

from collections.abc import Iterable

from aonode import ans104, ids
from aonode.cron import CronTask, parse_interval
from aonode.errors import InvalidArgument
from aonode.model import (
    MAX_U64,
    SCHEME_ED25519,
    SCHEME_RSA_PSS_SHA512,
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
)
from aonode.push.config import PushNode
from aonode.v1 import cron_pb2, process_pb2
from aonode.v1 import types_pb2 as pb

_SCHEME_TO_PB: dict[str, pb.SignatureScheme] = {
    SCHEME_ED25519: pb.SIGNATURE_SCHEME_ED25519,
    SCHEME_RSA_PSS_SHA512: pb.SIGNATURE_SCHEME_RSA_PSS_SHA512,
}
_SCHEME_FROM_PB = {value: key for key, value in _SCHEME_TO_PB.items()}


def scheme_to_pb(scheme: str) -> pb.SignatureScheme:
    return _SCHEME_TO_PB.get(scheme, pb.SIGNATURE_SCHEME_UNSPECIFIED)


def signature_from_pb(sig: pb.Signature, what: str) -> Signature:
    scheme = _SCHEME_FROM_PB.get(sig.scheme)
    if scheme is None:
        raise InvalidArgument(f"{what}.signature: unknown or unspecified scheme ({sig.scheme})")
    return Signature(scheme=scheme, owner=sig.owner, value=sig.value)


def signature_to_pb(sig: Signature) -> pb.Signature:
    return pb.Signature(scheme=scheme_to_pb(sig.scheme), owner=sig.owner, value=sig.value)


# A page token is the next slot in plain ASCII decimal, as this node issues it. int() would also take
# other scripts' digits, underscores, signs and spaces, and raise (INTERNAL) past 4,300 digits.
_MAX_TOKEN_DIGITS = len(str(MAX_U64))


def page_token_slot(token: str) -> int:
    """The slot a GetSchedule page token names; INVALID_ARGUMENT for anything this node did not issue."""
    if not (token.isascii() and token.isdigit() and len(token) <= _MAX_TOKEN_DIGITS) or int(token) > MAX_U64:
        raise InvalidArgument("page_token: not a token this node issued")
    return int(token)


def id_from_pb(text: str, what: str) -> bytes:
    return ids.decode_id(text, what)


def tags_from_pb(tags: Iterable[pb.Tag]) -> tuple[Tag, ...]:
    return tuple(Tag(t.name, t.value) for t in tags)


def tags_to_pb(tags: Iterable[Tag | tuple[str, str]]) -> list[pb.Tag]:
    """Model tags, or (name, value) pairs as clients give them."""
    return [
        pb.Tag(name=t.name, value=t.value) if isinstance(t, Tag) else pb.Tag(name=t[0], value=t[1])
        for t in tags
    ]


def message_from_pb(m: pb.Message, what: str = "message") -> Message:
    """The model message; an `ans104` form decodes to an `Ans104Message` (verified where the node checks
    every message, like any other)."""
    if m.ans104:
        if m.target or m.anchor or m.tags or m.data or m.HasField("signature"):
            raise InvalidArgument(f"{what}: ans104 is the whole message; leave the other fields empty")
        try:
            return ans104.decode(m.ans104)
        except InvalidArgument as exc:
            raise InvalidArgument(f"{what}.ans104: {exc}") from None
    return Message(
        target=m.target,
        anchor=m.anchor,
        tags=tags_from_pb(m.tags),
        data=m.data,
        signature=signature_from_pb(m.signature, what) if m.HasField("signature") else None,
    )


def message_to_pb(m: Message) -> pb.Message:
    if type(m) is not Message and isinstance(m, ans104.Ans104Message):
        return pb.Message(ans104=m.raw)
    out = pb.Message(
        target=m.target,
        anchor=m.anchor,
        tags=tags_to_pb(m.tags),
        data=m.data,
    )
    if m.signature is not None:
        out.signature.CopyFrom(signature_to_pb(m.signature))
    return out


def assignment_to_pb(a: Assignment) -> pb.Assignment:
    encode_id = ids.encode_id
    out = pb.Assignment()
    out.process = encode_id(a.process)
    out.slot = a.slot
    out.message = encode_id(a.message)
    out.timestamp = a.timestamp
    out.block_height = a.block_height
    out.block_hash = ids.b64url_encode(a.block_hash)
    out.epoch = a.epoch
    out.hash_chain = encode_id(a.hash_chain)
    out.id = encode_id(a.id)
    sig = a.signature
    if sig is not None:
        target = out.signature
        target.scheme = scheme_to_pb(sig.scheme)
        target.owner = sig.owner
        target.value = sig.value
    return out


def assignment_from_pb(a: pb.Assignment, what: str = "assignment") -> Assignment:
    try:
        block_hash = ids.b64url_decode(a.block_hash)
    except ValueError as exc:
        raise InvalidArgument(f"{what}.block_hash: {exc}") from None
    return Assignment(
        process=id_from_pb(a.process, f"{what}.process"),
        slot=a.slot,
        message=id_from_pb(a.message, f"{what}.message"),
        timestamp=a.timestamp,
        block_height=a.block_height,
        block_hash=block_hash,
        epoch=a.epoch,
        hash_chain=id_from_pb(a.hash_chain, f"{what}.hash_chain"),
        signature=signature_from_pb(a.signature, what) if a.HasField("signature") else None,
    )


def result_to_pb(r: Result) -> pb.Result:
    return pb.Result(
        output=pb.Output(data=r.output.data, prompt=r.output.prompt, print=r.output.print),
        messages=[message_to_pb(m) for m in r.messages],
        spawns=[message_to_pb(m) for m in r.spawns],
        assignments=[
            pb.ResultAssignment(processes=list(a.processes), message=a.message) for a in r.assignments
        ],
        error=r.error,
        gas_used=r.gas_used,
    )


def result_from_pb(r: pb.Result) -> Result:
    return Result(
        output=Output(data=r.output.data, prompt=r.output.prompt, print=r.output.print),
        messages=tuple(message_from_pb(m, "result.messages") for m in r.messages),
        spawns=tuple(message_from_pb(m, "result.spawns") for m in r.spawns),
        assignments=tuple(ResultAssignment(tuple(a.processes), a.message) for a in r.assignments),
        error=r.error,
        gas_used=r.gas_used,
    )


def location_to_pb(loc: Location) -> pb.Location:
    out = pb.Location(
        address=loc.address, url=loc.url, nonce=loc.nonce, ttl_ms=loc.ttl_ms, timestamp=loc.timestamp
    )
    if loc.signature is not None:
        out.signature.CopyFrom(signature_to_pb(loc.signature))
    return out


def location_from_pb(loc: pb.Location) -> Location:
    return Location(
        address=loc.address,
        url=loc.url,
        nonce=loc.nonce,
        ttl_ms=loc.ttl_ms,
        timestamp=loc.timestamp,
        signature=signature_from_pb(loc.signature, "location") if loc.HasField("signature") else None,
    )


def push_node_to_pb(n: PushNode) -> process_pb2.PushNode:
    out = process_pb2.PushNode(
        process=n.process,
        slot=n.slot,
        message_id=n.message_id,
        from_process=n.from_process,
        from_slot=n.from_slot or 0,
        outbox_index=n.index or 0,
        children=[push_node_to_pb(c) for c in n.children],
        stopped=n.stopped,
        node=n.node,
        kind=n.kind,
        existing=n.existing,
    )
    if n.result is not None:
        out.result.CopyFrom(result_to_pb(n.result))
    return out


_KINDS = ("root", "message", "spawn", "spawned")


def push_node_from_pb(n: process_pb2.PushNode) -> PushNode:
    """A root has no origin (its from_slot and index read as absent)."""
    kind = n.kind if n.kind in _KINDS else "message"
    return PushNode(
        process=n.process,
        slot=n.slot if n.HasField("slot") else None,
        message_id=n.message_id,
        kind=kind,  # type: ignore[arg-type]
        from_process=n.from_process,
        from_slot=n.from_slot if kind != "root" else None,
        index=n.outbox_index if kind != "root" else None,
        result=result_from_pb(n.result) if n.HasField("result") else None,
        children=[push_node_from_pb(c) for c in n.children],
        stopped=n.stopped,
        node=n.node,
        existing=n.existing,
    )


def cron_task_to_pb(t: CronTask) -> cron_pb2.CronTask:
    return cron_pb2.CronTask(
        task=t.task,
        message=cron_pb2.CronMessage(process=t.process, tags=tags_to_pb(t.tags), data=t.data),
        interval=t.interval,
        next_run=t.due,
        runs=t.runs,
        failures=t.failures,
        last_error=t.last_error,
        tick=t.tick,
        skipped=t.skipped,
        origin=t.origin,
        created=t.created,
        path=t.path,
        cursor=t.cursor,
        creator=t.creator,
    )


def cron_task_from_pb(t: cron_pb2.CronTask) -> CronTask:
    return CronTask(
        task=t.task,
        process=t.message.process,
        tags=tags_from_pb(t.message.tags),
        data=t.message.data,
        interval=t.interval,
        interval_ms=parse_interval(t.interval) if t.interval else 0,
        next_run=t.next_run,
        tick=t.tick,
        runs=t.runs,
        failures=t.failures,
        last_error=t.last_error,
        retry_at=t.next_run if t.failures else 0,
        skipped=t.skipped,
        origin="process" if t.origin == "process" else "user",
        created=t.created,
        path=t.path,
        cursor=t.cursor,
        creator=t.creator,
    )
