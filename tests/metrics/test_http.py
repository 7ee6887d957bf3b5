"""`aonode.metrics.http` mounted in another aiohttp application, as the HTTP gateway mounts it: /metrics
answers the node's registry, and the middleware counts the application's requests by route pattern (never
the raw path), method and status, errors included."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aonode.metrics import NodeMetrics
from aonode.metrics.http import ROUTE_KEY, encoder_for, metrics_handler, metrics_middleware
from tests.metrics.scrape import parse, value


async def _exercise(metrics: NodeMetrics) -> str:
    async def slot(request: web.Request) -> web.Response:
        if request.match_info["pid"] == "missing":
            raise web.HTTPNotFound(text="no such process")
        if request.match_info["pid"] == "bug":
            raise RuntimeError("a bug in a handler")
        return web.json_response({"slot": 1})

    async def catch_all(request: web.Request) -> web.Response:
        request[ROUTE_KEY] = "named"  # what a catch-all handler found (a fixed name)
        return web.json_response({})

    app = web.Application(middlewares=[metrics_middleware(metrics)])
    app.router.add_get("/{pid}/slot", slot)
    app.router.add_get("/metrics", metrics_handler(metrics))
    app.router.add_get("/named/{tail:.*}", catch_all)
    async with TestClient(TestServer(app)) as client:
        for pid in ("a", "b", "c"):
            assert (await client.get(f"/{pid}/slot")).status == 200
        assert (await client.get("/missing/slot")).status == 404
        assert (await client.get("/bug/slot")).status == 500
        assert (await client.post("/a/slot")).status == 405
        assert (await client.get("/no/such/route")).status == 404
        assert (await client.get("/named/x/y")).status == 200
        reply = await client.get("/metrics")
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await reply.text()


def test_mounted_handler_and_middleware() -> None:
    metrics = NodeMetrics()
    metrics.rpc_requests.labels("aonode.v1.NodeService/GetInfo", "OK").inc()
    samples = parse(asyncio.run(_exercise(metrics)))
    name = "aonode_http_requests_total"
    assert value(samples, name, {"route": "/{pid}/slot", "method": "GET", "status": "200"}) == 3
    assert value(samples, name, {"route": "/{pid}/slot", "method": "GET", "status": "404"}) == 1
    assert value(samples, name, {"route": "/{pid}/slot", "method": "GET", "status": "500"}) == 1
    assert value(samples, name, {"route": "unmatched", "method": "POST", "status": "405"}) == 1
    assert value(samples, name, {"route": "unmatched", "method": "GET", "status": "404"}) == 1
    assert value(samples, name, {"route": "named", "method": "GET", "status": "200"}) == 1
    assert (
        value(samples, "aonode_rpc_requests_total", {"rpc": "aonode.v1.NodeService/GetInfo", "code": "OK"})
        == 1
    )
    assert not [k for k in samples if "/a/slot" in str(k)]  # raw paths never become labels


def test_content_negotiation() -> None:
    assert encoder_for("")[1].startswith("text/plain; version=0.0.4")
    assert encoder_for("text/html, */*")[1].startswith("text/plain; version=0.0.4")
    assert encoder_for("Application/OpenMetrics-Text; version=0.0.1, text/plain")[1].startswith(
        "application/openmetrics-text; version=1.0.0"
    )
    openmetrics, _ = encoder_for("application/openmetrics-text")
    assert openmetrics(NodeMetrics().registry).endswith(b"# EOF\n")
