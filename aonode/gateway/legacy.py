"""aoconnect's legacy mode (`connect({MODE: 'legacy', MU_URL, CU_URL, GATEWAY_URL})`, all three this node):
the routes of ao's messenger unit (MU), compute unit (CU) and scheduler unit (SU), translated to the node.

- MU: `POST /` takes an ANS-104 item: `Type=Process` spawns (slot 0 of its own schedule), `Type=Module`
  is stored as a module (published, not scheduled), anything else with a target is scheduled on it; the
  answer is `{"id", "message", "process", "slot"}`. With `[gateway] legacy_push = true` a message's slot
  is then pushed in the background, as ao's MU cranks results (off by default: the node only schedules).
  `POST|DELETE /monitor/{pid}` (an item targeting the process, signed by its owner) starts or stops a
  `now` cron task that keeps the process computed (`monitor_interval`, or the process's own
  `Cron-Interval`). `POST /?process-id=P&assign=M` assigns the stored message M to process P (the ao SU's
  assignment: P's next slot holds M; the process decides whether it takes it, AOS's `ao.isAssignable`).
- CU: `GET /result/{message}?process-id=`, `GET /results/{pid}?from=&to=&sort=&limit=` (cursors are slots;
  `from` exclusive, `to` inclusive; at most 1,000 results and about 4 MiB), `POST /dry-run?process-id=`
  with the unsigned JSON message aoconnect sends (`Id`, `Owner` are not provable and are ignored: the
  process sees no owner).
- SU: `GET /` (the unit's identity), `GET /timestamp`, `GET /{pid}?from=&to=&limit=` (`from`/`to` are
  timestamps in ms as the ao SU takes them, `from` exclusive, `to` inclusive; `from-nonce`/`to-nonce` are
  slots), `GET /{message}?process-id=` (the message and its assignment).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from aonode import ids
from aonode.cron.tasks import CronTask
from aonode.errors import AonodeError, InvalidArgument, NotFound, PermissionDenied
from aonode.gateway import shapes
from aonode.gateway.common import (
    ROUTE_KEY,
    anonymous,
    encoded_json_response,
    get_message,
    json_bytes,
    json_response,
    leased,
    owner_text,
    parse_id,
    parse_int,
    read_body,
    read_json,
)
from aonode.gateway.items import parse_item_async
from aonode.gateway.process import message_and_assignment
from aonode.model import Message, Tag
from aonode.node import Node
from aonode.scheduler.budget import ReadLease

DEFAULT_RESULTS = 25
MAX_RESULTS = 1000
RESULTS_BYTES = 4 << 20
MAX_SU_PAGE = 1000
SU_PAGE_BYTES = 1 << 20
MONITOR_INTERVAL = "10-seconds"
MAX_LISTED_PROCESSES = 10_000
ASSIGN_BODY_BYTES = 1 << 16  # an assignment's body is ignored (the message is named in the query)


class LegacyRoutes:
    def __init__(
        self, node: Node, body_limit: int, monitor_interval: str = MONITOR_INTERVAL, push: bool = False
    ) -> None:
        self.node = node
        self.body_limit = body_limit
        self.monitor_interval = monitor_interval
        self.push = push

    # -- MU ------------------------------------------------------------------------------------------------

    async def post_root(self, request: web.Request) -> web.Response:
        query = request.query
        if "assign" in query or "process-id" in query:
            return await self.assign(request)
        message = await parse_item_async(await read_body(request, self.body_limit))
        return await submit(self.node, message, push=self.push)

    async def assign(self, request: web.Request) -> web.Response:
        """The ao SU's assignment (`POST /?process-id=P&assign=M`): the stored message M takes P's next
        slot (Scheduler.assign; idempotent). Answers `{"id": <assignment ID>, "timestamp", "process",
        "slot", "message"}` (ao's SU: `id` and `timestamp`). Only messages this node holds: `base-layer`
        (an Arweave transaction) is refused."""
        request[ROUTE_KEY] = "assign"  # its own counter (a fixed name, as every route's)
        query = request.query
        if "assign" not in query or "process-id" not in query:
            raise InvalidArgument("assign: send both process-id and assign")
        if "base-layer" in query or "exclude" in query:
            raise InvalidArgument(
                "assign: base-layer and exclude are not supported (assign a message held here)"
            )
        await read_body(
            request, ASSIGN_BODY_BYTES
        )  # aoconnect sends none; read so the connection is reusable
        pid = parse_id(query.get("process-id"), "process-id")
        message_id = ids.decode_id(query.get("assign", ""), "assign")
        assignment = await self.node.scheduler.assign(pid, message_id)
        return json_response(
            {
                "id": ids.encode_id(assignment.id),
                "timestamp": assignment.timestamp,
                "process": ids.encode_id(assignment.process),
                "slot": assignment.slot,
                "message": ids.encode_id(assignment.message),
            }
        )

    async def monitor(self, request: web.Request, pid_text: str) -> web.Response:
        """Start or stop keeping a process computed. The request is the signed item aoconnect sends; its
        signer must be the process's owner (who signed its Process message) or this node: a node task
        costs the node's compute and counts against its cron limits, so not anyone may add one."""
        pid = ids.decode_id(pid_text, "process")
        body = await read_body(request, self.body_limit)
        self.node.scheduler.head(pid)  # NotFound for a process this node does not schedule
        if not body:
            raise InvalidArgument("monitor: the body is an item signed by the process's owner")
        item = await parse_item_async(body, verify=True)
        if item.target and item.target != pid_text:
            raise InvalidArgument(f"the item targets {item.target[:64]}, not {pid_text}")
        process = await get_message(self.node, pid)
        signer = owner_text(item)
        if signer not in (owner_text(process), self.node.address):
            raise PermissionDenied(
                f"monitor: {signer} is not the owner of process {pid_text} ({owner_text(process)})"
            )
        cron = self.node.cron
        if request.method == "DELETE":
            stopped = [t.task for t in self.monitors(pid_text)]
            for task_id in stopped:
                await cron.stop(task_id)
            return json_response({"ok": True, "process": pid_text, "stopped": stopped})
        live = self.monitors(pid_text)
        if live:
            return json_response({"ok": True, "process": pid_text, "task": live[0].task})
        interval = process.tag("Cron-Interval") or self.monitor_interval
        task = await cron.every(pid_text, interval, path="now")
        return json_response({"ok": True, "process": pid_text, "task": task.task, "interval": task.interval})

    def monitors(self, pid_text: str) -> list[CronTask]:
        node_address = self.node.address
        return [
            t
            for t in self.node.cron.list_tasks()
            if t.process == pid_text and t.path == "now" and t.creator in ("", node_address)
        ]

    # -- CU ------------------------------------------------------------------------------------------------

    async def result(self, request: web.Request, message_text: str) -> web.Response:
        message_id = ids.decode_id(message_text, "message")
        process = parse_id(request.query.get("process-id"), "process-id")
        assignment = await asyncio.to_thread(self.node.scheduler.assignment_of, message_id, process)
        computed = await self.node.engine.compute(process, assignment.slot)
        return json_response(shapes.result_json(computed.result))

    async def results(self, request: web.Request, pid_text: str) -> web.Response:
        pid = ids.decode_id(pid_text, "process")
        q = request.query
        sort = (q.get("sort") or "ASC").upper()
        if sort not in ("ASC", "DESC"):
            raise InvalidArgument(f"sort: ASC or DESC, got {sort[:16]!r}")
        limit = min(parse_int(q.get("limit"), "limit", DEFAULT_RESULTS) or DEFAULT_RESULTS, MAX_RESULTS)
        engine = self.node.engine
        tip = engine.tip(pid)
        after = parse_int(q.get("from"), "from")
        to = parse_int(q.get("to"), "to")
        lo = 0 if after is None else after + 1
        hi = tip if to is None else min(to, tip)
        if hi < lo:
            return json_response({"edges": []})
        slots = (
            range(lo, min(hi, lo + limit - 1) + 1)
            if sort == "ASC"
            else range(hi, max(lo, hi - limit + 1) - 1, -1)
        )
        await engine.compute(pid, max(slots))  # one computation for the whole range
        edges: list[dict[str, Any]] = []
        used = 0
        for slot in slots:
            computed = await engine.compute(pid, slot)
            node = shapes.result_json(computed.result)
            used += len(computed.result.output.data) + sum(len(m.data) for m in computed.result.messages)
            edges.append({"cursor": str(slot), "node": node})
            if used > RESULTS_BYTES:
                break
        # Up to ~4 MiB of results: encoded off the event loop.
        return encoded_json_response(await asyncio.to_thread(json_bytes, {"edges": edges}))

    async def dryrun(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidArgument("body: a JSON object (Target, Tags, Data, Anchor)")
        target = str(request.query.get("process-id") or body.get("Target") or "")
        if body.get("Target") and str(body["Target"]) != target:
            raise InvalidArgument("Target differs from process-id")
        pid = ids.decode_id(target, "process-id")
        message = Message(
            target=ids.encode_id(pid),
            anchor=_anchor(body.get("Anchor")),
            tags=_tags(body.get("Tags")),
            data=_data(body.get("Data")),
        )
        result = await self.node.engine.dryrun(anonymous(message))
        return json_response(shapes.result_json(result))

    # -- SU ------------------------------------------------------------------------------------------------

    async def root(self) -> web.Response:
        processes = await asyncio.to_thread(self.node.scheduler.processes)
        return json_response(
            {
                "Unit": "Scheduler",
                "Address": self.node.address,
                "Timestamp": int(time.time() * 1000),
                "Processes": [ids.encode_id(p) for p in processes[:MAX_LISTED_PROCESSES]],
                "Node": "aonode",
                "Version": self.node.version,
            }
        )

    async def timestamp(self) -> web.Response:
        return json_response({"timestamp": int(time.time() * 1000), "block_height": 0})

    async def id_read(self, request: web.Request, text: str) -> web.Response:
        """`GET /{id}`: a process's schedule (SU page), or with `process-id` naming another process, the
        message `id` and its assignment on it."""
        path_id = ids.decode_id(text, "id")
        given = request.query.get("process-id")
        process = ids.decode_id(given, "process-id") if given else None
        if process is not None and process != path_id:
            return json_response(await message_and_assignment(self.node, path_id, process))
        try:
            self.node.scheduler.head(path_id)
        except NotFound:
            if process is None:
                raise
            return json_response(await message_and_assignment(self.node, path_id, process))
        return await self.su_page(path_id, request.query)

    async def su_page(self, pid: bytes, q: Mapping[str, str]) -> web.Response:
        sched = self.node.scheduler
        tip = sched.head(pid).slot
        limit = min(parse_int(q.get("limit"), "limit", MAX_SU_PAGE) or MAX_SU_PAGE, MAX_SU_PAGE)
        start = parse_int(q.get("from-nonce"), "from-nonce")
        end = parse_int(q.get("to-nonce"), "to-nonce")
        if start is None:
            after = parse_int(q.get("from"), "from")
            start = 0 if after is None else await asyncio.to_thread(self._first_after, pid, after, tip)
        if end is None:
            until = parse_int(q.get("to"), "to")
            end = tip if until is None else await asyncio.to_thread(self._first_after, pid, until, tip) - 1
        if end < start or start > tip:
            return json_response(shapes.su_page([], [], False))

        def read(lease: ReadLease) -> bytes:  # shaped and encoded on the read executor (see get_schedule)
            page = sched.get_schedule(pid, start, end, limit, True, max_bytes=SU_PAGE_BYTES, lease=lease)
            return json_bytes(shapes.su_page(list(page.assignments), list(page.messages), page.has_next))

        encoded, lease = await leased(self.node, read)
        try:
            return encoded_json_response(encoded)
        finally:
            lease.close()

    def _first_after(self, pid: bytes, timestamp: int, tip: int) -> int:
        """The first slot whose timestamp is above `timestamp` (tip + 1 when none): a binary search, the
        scheduler's timestamps being non-decreasing along a schedule."""
        lo, hi = 0, tip + 1
        read = self.node.scheduler.read_assignments
        while lo < hi:
            mid = (lo + hi) // 2
            (a,) = read(pid, mid, 1)
            if a.timestamp > timestamp:
                hi = mid
            else:
                lo = mid + 1
        return lo


async def submit(node: Node, message: Message, push: bool = False) -> web.Response:
    """MU semantics for an item: spawn, publish a module, or schedule on its target; with `push`, the
    new slot's outbox is then pushed in the background (as ao's MU cranks results)."""
    message_id = ids.encode_id(message.id)
    kind = message.tag("Type")
    if kind == "Module":
        await node.scheduler.publish(message)
        return json_response({"id": message_id, "message": "Module stored"})
    if not message.is_process and not message.target:
        raise InvalidArgument("the item has no Target (and is neither a Process nor a Module)")
    assignment = await node.scheduler.schedule(message)
    body: dict[str, Any] = {
        "id": message_id,
        "message": "Processing DataItem",
        "process": ids.encode_id(assignment.process),
        "slot": assignment.slot,
        "timestamp": assignment.timestamp,
    }
    if push and not message.is_process:
        try:
            body["push"] = (await node.pusher.start(assignment.process, assignment.slot)).push_id
        except AonodeError as exc:  # scheduled all the same: a push can be run again (`aonode push`)
            body["push-error"] = str(exc)[:1024]
    return json_response(body)


def _anchor(value: object) -> str:
    if value is None or value == "0":
        return ""
    return str(value)


def _tags(value: object) -> tuple[Tag, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidArgument("Tags: a list of {name, value}")
    tags = []
    for i, t in enumerate(value):
        if (
            not isinstance(t, dict)
            or not isinstance(t.get("name"), str)
            or not isinstance(t.get("value"), str)
        ):
            raise InvalidArgument(f"Tags[{i}]: expected {{name: string, value: string}}")
        tags.append(Tag(t["name"], t["value"]))
    return tuple(tags)


def _data(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | float | bool):
        return str(value).encode()
    raise InvalidArgument("Data: a string")
