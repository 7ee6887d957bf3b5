"""The aiohttp application: one catch-all route that reads the path the way HyperBEAM and ao's units do
and hands it to the route modules, a middleware that turns domain errors into statuses (`status.py`) and
bounds the requests in flight, and the server's start and stop.

Paths (docs/http.md has them all, with curl examples):
- `/~meta@1.0/info[/<key>]`, `/~scheduler@1.0/status`, `/~scheduler@1.0/location?address=`, POST
  `/~scheduler@1.0/schedule` (an item: spawned or scheduled on its target, as `POST /`);
- `/<pid>~process@1.0/<key>...` and `/<pid>/<key>...` (`process.py`);
- `/push` (aoconnect mainnet spawn, or any item: scheduled on its target and pushed);
- `/<id>~ans104@1.0` (a stored item's exact bytes);
- aoconnect legacy's MU/CU/SU routes: `/`, `/result/<id>`, `/results/<pid>`, `/dry-run`, `/graphql`,
  `/monitor/<pid>`, `/timestamp`, `/<id>` (`legacy.py`, `graphql.py`).

Bodies are bounded: aiohttp refuses more than `max_message_bytes` + 64 KiB (413) while reading, and JSON
bodies more than 1 MiB. At most `max_concurrent_rpcs` requests are handled at once; more are answered 429
at once. Handlers keep large work off the event loop: decoding large bodies, store scans, message
reads and the JSON of schedule pages and result lists run on threads, compute on the engine's;
signatures are verified by the scheduler, as for gRPC (`verify_threads`). Every answer carries CORS
headers (any origin: all served data is public).

`build_app(node, extra_routes=..., middlewares=...)` takes more routes (e.g. `/metrics`), matched before
the catch-all, and outer middlewares (e.g. request counters).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aonode import ans104, ids
from aonode.config import ConfigError
from aonode.devices.aos import runtime_module
from aonode.devices.registry import LUA
from aonode.errors import AonodeError, InvalidArgument
from aonode.gateway import graphql, shapes
from aonode.gateway.common import (
    BODY_SECONDS,
    BODY_SECONDS_KEY,
    ROUTE_KEY,
    get_message,
    json_response,
    read_body,
)
from aonode.gateway.items import parse_item_async
from aonode.gateway.legacy import MAX_LISTED_PROCESSES, LegacyRoutes, submit
from aonode.gateway.process import PathError, ProcessRoutes, navigate, schedule_and_push
from aonode.gateway.status import error_headers, http_status
from aonode.logs import log_event
from aonode.metrics.http import http_logger
from aonode.node import Node

log = logging.getLogger("aonode.gateway")

BODY_SLACK = 64 * 1024
PROCESS_DEVICE = "~process@1.0"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Gateway:
    """The routes of one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.body_limit = node.config.max_message_bytes + BODY_SLACK
        gateway_settings = node.config.extra.get("gateway") or {}
        interval = str(gateway_settings.get("monitor_interval", "10-seconds"))
        try:
            self.body_seconds = float(gateway_settings.get("body_seconds", BODY_SECONDS))
        except (TypeError, ValueError):
            raise ConfigError("[gateway] body_seconds: a number of seconds") from None
        self.process = ProcessRoutes(node, self.body_limit)
        self.legacy = LegacyRoutes(
            node, self.body_limit, interval, push=bool(gateway_settings.get("legacy_push", False))
        )
        self.runtime_module = ids.encode_id(runtime_module().id)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        request[ROUTE_KEY] = "unmatched"  # until a route below takes the request
        path = request.path
        segments = [s for s in path.split("/") if s != ""] if path != "/" else []
        method = request.method
        if not segments:
            request[ROUTE_KEY] = "root"
            if method == "POST":
                return await self.legacy.post_root(request)
            if method in ("GET", "HEAD"):
                return await self.legacy.root()
            raise web.HTTPMethodNotAllowed(method, ["GET", "POST"])
        head, rest = segments[0], segments[1:]
        if head == "~meta@1.0":
            request[ROUTE_KEY] = "meta/info"
            return self.meta(rest)
        if head == "~scheduler@1.0":
            request[ROUTE_KEY] = "scheduler"
            return await self.scheduler(request, rest)
        if head == "push" and not rest and method == "POST":
            request[ROUTE_KEY] = "push"
            message = await parse_item_async(await read_body(request, self.body_limit))
            return await schedule_and_push(self.node, message)
        if head == "graphql" and method == "POST":
            request[ROUTE_KEY] = "graphql"
            return await graphql.answer(self.node, request)
        if head == "dry-run" and method == "POST":
            request[ROUTE_KEY] = "dry-run"
            return await self.legacy.dryrun(request)
        if head == "result" and len(rest) == 1 and method == "GET":
            request[ROUTE_KEY] = "result"
            return await self.legacy.result(request, rest[0])
        if head == "results" and len(rest) == 1 and method == "GET":
            request[ROUTE_KEY] = "results"
            return await self.legacy.results(request, rest[0])
        if head == "monitor" and len(rest) == 1 and method in ("POST", "DELETE"):
            request[ROUTE_KEY] = "monitor"
            return await self.legacy.monitor(request, rest[0])
        if head == "timestamp" and not rest:
            request[ROUTE_KEY] = "timestamp"
            return await self.legacy.timestamp()
        if head == "modules" and not rest and method == "POST":
            request[ROUTE_KEY] = "modules"
            return await self.publish_module(request)
        pid_text, _, device = head.partition("~")
        if device == "ans104@1.0" and not rest and method in ("GET", "HEAD"):
            request[ROUTE_KEY] = "ans104"
            return await self.raw_item(pid_text)
        if device and "~" + device != PROCESS_DEVICE:
            raise PathError(f"device {device[:64]!r}: this node serves process@1.0, scheduler@1.0, meta@1.0")
        if device or ids.is_id(pid_text):
            if rest:
                return await self.process.handle(request, pid_text, rest)
            if method == "GET" and not device:
                request[ROUTE_KEY] = "su/read"
                return await self.legacy.id_read(request, pid_text)
            if method == "GET":  # `/PID~process@1.0`: the process definition (its Process message)
                request[ROUTE_KEY] = "process"
                self.node.scheduler.head(ids.decode_id(pid_text, "process"))
                message = await get_message(self.node, ids.decode_id(pid_text, "process"))
                return json_response(shapes.message_json(message))
        raise PathError(f"no route for {method} {path[:128]}")

    async def raw_item(self, text: str) -> web.Response:
        """`GET /<id>~ans104@1.0`: a stored ANS-104 message's exact bytes (the signed item, as its sender
        made it); 404 for a message that is not one (it has no such bytes)."""
        message = await get_message(self.node, ids.decode_id(text, "id"))
        if not isinstance(message, ans104.Ans104Message):
            raise PathError(f"message {text} is not an ANS-104 item (it is in aonode's own format)")
        return web.Response(body=message.raw, content_type="application/ans104")

    def info(self) -> dict[str, object]:
        node = self.node
        return {
            "address": node.address,
            "node": "aonode",
            "version": node.version,
            "scheme": node.signer.scheme,
            "devices": node.devices.names(),
            "runtime-module": self.runtime_module,
            "runtime-device": LUA,
            "max-message-bytes": node.config.max_message_bytes,
            "accept-unsigned": node.config.accept_unsigned,
            "public-url": node.config.public_url,
        }

    def meta(self, rest: list[str]) -> web.Response:
        if not rest or rest[0] != "info":
            raise PathError("~meta@1.0: only info")
        return navigate(self.info(), rest[1:])

    async def scheduler(self, request: web.Request, rest: list[str]) -> web.Response:
        key = rest[0] if rest else ""
        sched = self.node.scheduler
        if key == "status":
            processes = await asyncio.to_thread(sched.processes)
            return json_response(
                {
                    "address": str(sched.address),
                    "processes": [ids.encode_id(p) for p in processes[:MAX_LISTED_PROCESSES]],
                    "cache-control": "no-store",
                }
            )
        if key == "schedule" and request.method == "POST":
            # HyperBEAM's scheduler device takes any message: a Process is spawned, others join their target.
            message = await parse_item_async(await read_body(request, self.body_limit))
            return await submit(self.node, message)
        if key == "location":
            address = request.query.get("address") or str(sched.address)
            loc = sched.locations.get(address)
            return json_response(
                {
                    "address": loc.address,
                    "url": loc.url,
                    "nonce": loc.nonce,
                    "time-to-live": loc.ttl_ms,
                    "timestamp": loc.timestamp,
                    "type": "scheduler-location",
                    "variant": "ao.N.1",
                }
            )
        raise PathError("~scheduler@1.0: status, location, or POST schedule")

    async def publish_module(self, request: web.Request) -> web.Response:
        """`POST /modules`: an item tagged `Type=Module` is stored (not scheduled); same as `POST /`."""
        message = await parse_item_async(await read_body(request, self.body_limit))
        if message.tag("Type") != "Module":
            raise InvalidArgument("a module item is tagged Type=Module")
        return await submit(self.node, message)


def error_response(error: BaseException) -> web.Response | None:
    found = http_status(error)
    if found is None:
        return None
    status, name = found
    message = str(error)[:1024] if status != 500 or name == "DATA_LOSS" else "internal error"
    return json_response(
        {"error": message, "status": name}, status=status, headers=error_headers(error, status)
    )


CORS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "process, slot, location, aonode-scheduler, retry-after",
}
"""Browsers may call the node from any page (as ao's units and HyperBEAM allow): everything it serves is
public and every write is signed inside the body, so no cookie or credential is involved."""
PREFLIGHT = {
    **CORS,
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": "*",
    "access-control-max-age": "86400",
}


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=PREFLIGHT)
    response = await handler(request)
    response.headers.update(CORS)
    return response


def make_middleware(limit: int) -> Any:
    """Errors to statuses (`status.py`), and at most `limit` requests in the handlers at once (429)."""
    in_flight = 0

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        if in_flight >= limit:
            return json_response(
                {"error": f"more than {limit} requests in flight; retry", "status": "RESOURCE_EXHAUSTED"},
                status=429,
                headers={"retry-after": "1"},
            )
        in_flight += 1
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                refused = json_response(
                    {"error": exc.text or exc.reason, "status": str(exc.status)}, status=exc.status
                )
                if exc.status in (408, 413):
                    refused.force_close()  # the rest of the body is not read: the connection cannot go on
                return refused
            raise
        except (AonodeError, Exception) as exc:
            answer = error_response(exc)
            if answer is not None:
                return answer
            log.exception("gateway: %s %s failed", request.method, request.path[:200])
            return json_response({"error": "internal error", "status": "INTERNAL"}, status=500)
        finally:
            in_flight -= 1

    return middleware


def build_app(
    node: Node, *, extra_routes: Iterable[web.RouteDef] = (), middlewares: Iterable[Any] = ()
) -> web.Application:
    """The gateway's application; `extra_routes` (e.g. `/metrics`) are matched before the catch-all, and
    `middlewares` run outside the gateway's own (so they see every answer's final status: request
    counters)."""
    gateway = Gateway(node)
    app = web.Application(
        client_max_size=gateway.body_limit,
        middlewares=[*middlewares, cors, make_middleware(node.config.max_concurrent_rpcs)],
    )
    app[BODY_SECONDS_KEY] = gateway.body_seconds
    app.add_routes(list(extra_routes))
    app.router.add_route("*", "/{tail:.*}", gateway.dispatch)
    return app


@dataclass
class RunningGateway:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_gateway(
    node: Node, listen: str, *, extra_routes: Iterable[web.RouteDef] = (), middlewares: Iterable[Any] = ()
) -> RunningGateway:
    """Serve the gateway on `listen` (HOST:PORT; port 0 picks a free one) on the running event loop."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise InvalidArgument(f"http: expected HOST:PORT, got {listen!r}")
    # A stop gives requests in flight the node's grace (a computation is interrupted after its own short
    # grace anyway: RunningServer.stop); slow clients get `keepalive_timeout` between requests.
    runner = web.AppRunner(
        build_app(node, extra_routes=extra_routes, middlewares=middlewares),
        access_log=None,
        logger=http_logger(),  # malformed requests: one debug line each, not an ERROR traceback
        shutdown_timeout=node.config.grace_seconds,
        keepalive_timeout=30.0,
        # After an answer that left the body unread (408, 413), aiohttp drains what still comes for this
        # long before closing: short, so a refused upload does not hold its connection.
        lingering_time=1.0,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, int(port_text), backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"cannot listen on {listen} (http): {exc.strerror or exc}") from None
    server = site._server  # aiohttp exposes the bound port only here
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else int(port_text)
    log_event(log, logging.INFO, "http serving", listen=f"{host}:{port}")
    return RunningGateway(runner, host, port)
