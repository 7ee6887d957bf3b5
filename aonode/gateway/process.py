"""Routes under a process: `/<pid>~process@1.0/<key>...` (HyperBEAM's HyperPATHs; `/<pid>/<key>` is the
same, as HyperBEAM's default device for a process ID is the process) and the parts of aoconnect's mainnet
client that use them.

A path segment may carry parameters after `&` (`compute&slot=3`), as HyperBEAM's singleton parser allows,
besides the query string (`compute?slot=3`); `results=<slot|message>` after `compute` selects the slot the
way aoconnect's mainnet `result` asks (`compute/results=3`). What follows the selected key navigates into
the JSON answer (`now/results/data`), case-insensitively; a text or number at the end is answered as
text/plain.

Keys: `schedule` (GET: a page of assignments with their messages, `from`/`to` inclusive, `cursor` to go
on, at most `limit` (1,000) and about 1 MiB of message bodies; POST: an ANS-104 item scheduled on this
process), `slot` (`slot/current`: the current slot as text), `compute`, `now`, `snapshot` (the nearest
stored snapshot's manifest), `push` (POST: an item is scheduled and its slot pushed in the background,
answer `{"slot", "id", "process"}`), `as=execution/compute&Tag=Value...` (a dry-run: the tags from the
path, data and signer from the body item; nothing is stored).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from aonode import ids
from aonode.errors import AonodeError, InvalidArgument, NotFound
from aonode.gateway import shapes
from aonode.gateway.common import (
    ROUTE_KEY,
    anonymous,
    encoded_json_response,
    get_message,
    json_bytes,
    json_response,
    leased,
    parse_int,
    read_body,
    text_response,
)
from aonode.gateway.items import parse_item_async
from aonode.model import Message, Tag
from aonode.node import Node
from aonode.scheduler.budget import ReadLease

MAX_SCHEDULE_PAGE = 1000
SCHEDULE_PAGE_BYTES = 1 << 20
_DRYRUN_SKIP = frozenset({"target", "anchor", "data", "path", "method", "dryrun"})


ROUTE_NAMES = {
    k: "process/" + ("dryrun" if k == "as=execution" else k)
    for k in ("schedule", "slot", "compute", "now", "snapshot", "push", "as=execution")
}


class PathError(NotFound):
    """A path the gateway does not serve."""


def split_segment(segment: str) -> tuple[str, dict[str, str]]:
    """`compute&slot=3` → ("compute", {"slot": "3"}); `results=5` → ("results=5", {})."""
    name, *pairs = segment.split("&")
    params: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key:
            params[key] = value
    return name, params


def navigate(value: Any, keys: list[str]) -> web.Response:
    """The part of a JSON answer that `keys` names (case-insensitive), text/plain for a scalar."""
    for key in keys:
        if not key:
            continue
        if isinstance(value, dict):
            found = next((k for k in value if k.lower() == key.lower()), None)
            if found is None:
                raise PathError(f"no key {key[:64]!r} here")
            value = value[found]
        elif isinstance(value, list) and key.isdigit() and 0 < int(key) <= len(value):
            value = value[int(key) - 1]  # HyperBEAM's lists are 1-based numbered maps
        else:
            raise PathError(f"no key {key[:64]!r} here")
    if isinstance(value, str):
        return text_response(value)
    if isinstance(value, bool | int | float):
        return text_response(str(value).lower() if isinstance(value, bool) else str(value))
    return json_response(value)


class ProcessRoutes:
    def __init__(self, node: Node, body_limit: int) -> None:
        self.node = node
        self.body_limit = body_limit

    async def handle(self, request: web.Request, pid_text: str, rest: list[str]) -> web.Response:
        pid = ids.decode_id(pid_text, "process")
        if not rest:
            raise PathError(f"/{pid_text}~process@1.0: name a key (schedule, slot, compute, now, ...)")
        key, params = split_segment(rest[0])
        if key in ROUTE_NAMES:
            request[ROUTE_KEY] = ROUTE_NAMES[key]
        query: dict[str, str] = {**request.query, **params}
        method = request.method
        if key == "schedule":
            if method == "POST":
                return await self.post_schedule(request, pid)
            return await self.get_schedule(request, pid_text, pid, query)
        if key == "slot":
            return await self.slot(pid_text, pid, rest[1:])
        if key == "compute":
            return await self.compute(request, pid_text, pid, query, rest[1:])
        if key == "now":
            result = await self.node.engine.now(pid)
            body = shapes.computed_json(
                pid_text, result.slot, result.result, result.hashpath, result.result_digest
            )
            return navigate(body, rest[1:])
        if key == "snapshot":
            return await self.snapshot(pid_text, pid, query)
        if key == "push" and method == "POST":
            return await self.push(request, pid)
        if key == "as=execution" and len(rest) > 1:
            return await self.dryrun(request, pid_text, pid, rest[1])
        raise PathError(f"/{pid_text}~process@1.0/{key[:64]}: no such key (or not with {method})")

    # -- schedule ------------------------------------------------------------------------------------------

    async def get_schedule(
        self, request: web.Request, pid_text: str, pid: bytes, query: Mapping[str, str]
    ) -> web.Response:
        start = parse_int(query.get("cursor"), "cursor") or parse_int(query.get("from"), "from", 0) or 0
        to = parse_int(query.get("to"), "to")
        limit = min(parse_int(query.get("limit"), "limit", MAX_SCHEDULE_PAGE) or MAX_SCHEDULE_PAGE, 1000)
        sched = self.node.scheduler
        if to is not None and to < start:
            raise InvalidArgument(f"to ({to}) is below from ({start})")
        aos2 = shapes.AOS2 in request.headers.get("accept", "").replace("%2F", "/")
        shape = shapes.aos2_schedule if aos2 else shapes.hb_schedule

        def read(lease: ReadLease) -> bytes:
            # The page is shaped and encoded on the read executor too (up to ~1 MiB of bodies), as
            # gRPC's GetSchedule encodes its page there: the event loop only sends the bytes.
            page = sched.get_schedule(pid, start, to, limit, True, max_bytes=SCHEDULE_PAGE_BYTES, lease=lease)
            body = shape(pid_text, list(page.assignments), list(page.messages), page.has_next)
            if page.has_next and not aos2:
                body["cursor"] = str(page.next_slot)
            return json_bytes(body)

        encoded, lease = await leased(self.node, read)
        try:
            return encoded_json_response(encoded)
        finally:
            lease.close()

    async def post_schedule(self, request: web.Request, pid: bytes) -> web.Response:
        message = await parse_item_async(await read_body(request, self.body_limit))
        check_target(message, pid)
        assignment = await self.node.scheduler.schedule(message)
        return json_response(shapes.assignment_json(assignment))

    # -- slot, compute, snapshot ---------------------------------------------------------------------------

    async def slot(self, pid_text: str, pid: bytes, rest: list[str]) -> web.Response:
        head = self.node.scheduler.head(pid)
        if rest and rest[0] == "current":
            return text_response(str(head.slot))
        body = {
            "process": pid_text,
            "current": head.slot,
            "timestamp": head.timestamp,
            "block-height": head.block_height,
            "block-hash": ids.b64url_encode(head.block_hash),
            "hash-chain": ids.encode_id(head.hash_chain),
            "scheduler": str(head.scheduler),
            "cache-control": "no-store",
        }
        return navigate(body, rest)

    async def compute(
        self, request: web.Request, pid_text: str, pid: bytes, query: Mapping[str, str], rest: list[str]
    ) -> web.Response:
        slot = parse_int(query.get("slot"), "slot")
        if rest and rest[0].startswith("results="):
            chosen = rest[0].partition("=")[2]
            rest = rest[1:]
            slot = await self.slot_of(pid, chosen)
        engine = self.node.engine
        result = await (engine.now(pid) if slot is None else engine.compute(pid, slot))
        body = shapes.computed_json(
            pid_text, result.slot, result.result, result.hashpath, result.result_digest
        )
        return navigate(body, rest)

    async def slot_of(self, pid: bytes, chosen: str) -> int:
        """A slot named by number or by the ID of a message scheduled on `pid`."""
        if chosen.isdigit():
            slot = parse_int(chosen, "results")
            assert slot is not None
            return slot
        message_id = ids.decode_id(chosen, "results")
        assignment = await asyncio.to_thread(self.node.scheduler.assignment_of, message_id, pid)
        return assignment.slot

    async def snapshot(self, pid_text: str, pid: bytes, query: Mapping[str, str]) -> web.Response:
        slot = parse_int(query.get("slot"), "slot")
        snap = await asyncio.to_thread(self.node.engine.snapshot_manifest, pid, slot)
        m = snap.manifest
        return json_response(
            {
                "process": pid_text,
                "slot": snap.slot,
                "device": m.device,
                "memory-size": m.size,
                "page-size": m.page_size,
                "pages": [ids.encode_id(d) for d in m.pages],
                "manifest-digest": ids.encode_id(snap.digest),
            }
        )

    # -- push and dry-run (aoconnect mainnet) --------------------------------------------------------------

    async def push(self, request: web.Request, pid: bytes) -> web.Response:
        message = await parse_item_async(await read_body(request, self.body_limit))
        check_target(message, pid)
        return await schedule_and_push(self.node, message)

    async def dryrun(self, request: web.Request, pid_text: str, pid: bytes, segment: str) -> web.Response:
        key, params = split_segment(segment)
        if key != "compute":
            raise PathError(f"as=execution/{key[:64]}: only compute")
        body = await read_body(request, self.body_limit)
        data = b""
        if body:
            data = (await parse_item_async(body)).data
        tags = [Tag(k, v) for k, v in params.items() if k.lower() not in _DRYRUN_SKIP]
        for name, value in (("Data-Protocol", "ao"), ("Type", "Message"), ("Variant", "ao.N.1")):
            if not any(t.name.lower() == name.lower() for t in tags):
                tags.append(Tag(name, value))
        message = Message(target=pid_text, tags=tuple(tags), data=data)
        result = await self.node.engine.dryrun(anonymous(message))
        shaped = shapes.result_json(result)
        return json_response({**shaped, "raw": shaped, "process": pid_text})


def check_target(message: Message, pid: bytes) -> None:
    """A message posted under a process must be that process (its Process message) or target it."""
    if message.is_process and bytes(message.id) == bytes(pid):
        return
    if message.target != ids.encode_id(pid):
        raise InvalidArgument(
            f"the message targets {message.target[:64] or 'nothing'}, not the process in the path "
            f"{ids.encode_id(pid)}"
        )


async def schedule_and_push(node: Node, message: Message) -> web.Response:
    """aoconnect mainnet's `/push`: schedule, then push the slot's outbox in the background (HyperBEAM's
    push computes and delivers; the answer here does not wait for the computation)."""
    assignment = await node.scheduler.schedule(message)
    process = ids.encode_id(assignment.process)
    body: dict[str, Any] = {
        "process": process,
        "slot": assignment.slot,
        "id": ids.encode_id(message.id),
        "assignment": shapes.assignment_json(assignment),
    }
    if not message.is_process:
        try:
            report = await node.pusher.start(assignment.process, assignment.slot)
        except AonodeError as exc:
            # The message is scheduled (durably): that is the answer; the push can be run again later
            # (`aonode push`, gRPC Push) and delivers each outbox entry at most once.
            body["push-error"] = str(exc)[:1024]
        else:
            body["push"] = report.push_id
    return json_response(body, headers={"process": process, "slot": str(assignment.slot)})


async def message_and_assignment(node: Node, message_id: bytes, process: bytes | None) -> dict[str, Any]:
    """The ao scheduler's `GET /{message}?process-id=`: the message and its assignment."""
    assignment = await asyncio.to_thread(node.scheduler.assignment_of, message_id, process)
    message = await get_message(node, message_id)
    node_json: dict[str, Any] = shapes.su_edge(assignment, message)["node"]
    return node_json
