"""HyperPATH reads over a real HTTP server in front of a real node (gRPC writes, HTTP reads)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aonode.client import NodeClient, build_message
from aonode.gateway import build_app
from aonode.gateway.common import ROUTE_KEY
from tests.conftest import ServerThread, plain
from tests.gateway.conftest import USER, Http, spawn_lua


def test_meta_info_and_address(http: Http, grpc_client: NodeClient) -> None:
    info = http.get("/~meta@1.0/info")
    assert info.status == 200
    assert info.json()["address"] == grpc_client.info().address
    assert info.json()["runtime-module"] == grpc_client.info().runtime_module
    assert info.headers["access-control-allow-origin"] == "*"  # browsers may read it (CORS)
    preflight = http.request("OPTIONS", "/push")
    assert preflight.status == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    address = http.get("/~meta@1.0/info/address")
    assert address.status == 200 and address.text == grpc_client.info().address


def test_schedule_slot_compute_now(http: Http, grpc_client: NodeClient) -> None:
    pid = spawn_lua(grpc_client)
    for code in ("X = 20", "return X + 1"):
        grpc_client.schedule(build_message(USER, pid, action="Eval", data=code.encode()))

    definition = http.get(f"/{pid}~process@1.0").json()
    assert definition["id"] == pid and {"name": "Type", "value": "Process"} in definition["tags"]
    slot = http.get(f"/{pid}~process@1.0/slot")
    assert slot.status == 200 and slot.json()["current"] == 2
    assert http.get(f"/{pid}/slot/current").text == "2"

    schedule = http.get(f"/{pid}~process@1.0/schedule?from=1&to=2").json()
    assert schedule["process"] == pid and not schedule["continues"]
    assert sorted(schedule["assignments"]) == ["1", "2"]
    assert schedule["assignments"]["2"]["body"]["data"] == "return X + 1"
    page = http.get(f"/{pid}~process@1.0/schedule&limit=1").json()
    assert list(page["assignments"]) == ["0"] and page["continues"] and page["cursor"] == "1"
    aos2 = http.get(f"/{pid}~process@1.0/schedule", headers={"Accept": "application/aos-2"}).json()
    assert [e["cursor"] for e in aos2["edges"]] == [0, 1, 2]

    for path in (f"/{pid}~process@1.0/compute?slot=2", f"/{pid}~process@1.0/compute&slot=2"):
        computed = http.get(path)
        assert computed.status == 200, computed.text
        assert plain(computed.json()["results"]["Output"]["data"]) == "21"
        assert computed.json()["at-slot"] == 2
    now = http.get(f"/{pid}~process@1.0/now/results/data")
    assert now.status == 200 and plain(now.text) == "21"
    by_message = http.get(f"/{pid}/compute/results=1")
    assert by_message.status == 200 and by_message.json()["slot"] == 1


def test_scheduler_status_and_location(http: Http, grpc_client: NodeClient) -> None:
    pid = spawn_lua(grpc_client)
    status = http.get("/~scheduler@1.0/status").json()
    assert status["address"] == grpc_client.info().address and pid in status["processes"]
    assert http.get("/~scheduler@1.0/location?address=nobody").status == 404


def test_statuses_for_bad_requests(http: Http, grpc_client: NodeClient) -> None:
    pid = spawn_lua(grpc_client)
    unknown = "A" * 43
    assert http.get(f"/{unknown}~process@1.0/slot").status == 404
    assert http.get(f"/{pid}~process@1.0/compute?slot=99").status == 404
    assert http.get(f"/{pid}~process@1.0/compute?slot=-1").status == 400
    assert http.get(f"/{pid}~process@1.0/schedule?from=x").status == 400
    assert http.get("/not-an-id~process@1.0/slot").status == 400
    assert http.get(f"/{pid}~nothing@1.0/slot").status == 404
    assert http.get(f"/{pid}~process@1.0/nothing").status == 404
    assert http.get(f"/{pid}~process@1.0/snapshot").status == 404  # a Lua process has none
    reply = http.get(f"/{pid}~process@1.0/bogus")
    assert reply.json()["status"] == "NOT_FOUND"


def test_requests_are_named_by_route(http_server: ServerThread, grpc_client: NodeClient) -> None:
    """Each request carries a fixed route name (ROUTE_KEY) that outer middlewares (request counters) read,
    never text from the request itself."""
    pid = spawn_lua(grpc_client)
    seen: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            seen.append(request.get(ROUTE_KEY, "?"))

    async def drive() -> None:
        app = build_app(http_server.node, middlewares=[record])
        async with TestClient(TestServer(app)) as client:
            for path in (f"/{pid}~process@1.0/slot", f"/{pid}/compute&slot=0", "/~meta@1.0/info", "/nope/x"):
                await (await client.get(path)).read()

    asyncio.run_coroutine_threadsafe(drive(), http_server.loop).result(timeout=60)
    assert seen == ["process/slot", "process/compute", "meta/info", "unmatched"]
