"""The gateway's middleware and configuration, without a node: requests in flight are bounded (429 with
Retry-After beyond the limit), errors map to statuses, `http` is checked as HOST:PORT."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aonode.config import ConfigError, load_config
from aonode.errors import NotFound, Overloaded
from aonode.gateway.app import make_middleware
from aonode.gateway.status import http_status
from aonode.scheduler.errors import RedirectError
from store import ConflictError, CorruptObjectError, StoreClosedError, StoreError, StoreFullError


async def _in_flight_limit() -> tuple[int, int, str | None]:
    gate = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(text="done")

    app = web.Application(middlewares=[make_middleware(1)])
    app.router.add_get("/", slow)
    async with TestClient(TestServer(app)) as client:
        first = asyncio.ensure_future(client.get("/"))
        await asyncio.sleep(0.2)
        second = await client.get("/")
        gate.set()
        return (await first).status, second.status, second.headers.get("retry-after")


def test_requests_beyond_the_limit_get_429() -> None:
    first, second, retry = asyncio.run(_in_flight_limit())
    assert (first, second, retry) == (200, 429, "1")


def test_status_table() -> None:
    assert http_status(NotFound("x")) == (404, "NOT_FOUND")
    assert http_status(Overloaded("x")) == (429, "RESOURCE_EXHAUSTED")
    assert http_status(RedirectError("p", "addr", "http://x")) == (409, "FAILED_PRECONDITION")
    assert http_status(ValueError("a bug")) is None
    # Store errors: their gRPC status from aonode.rpc.status, then the HTTP one.
    assert http_status(StoreFullError("x")) == (507, "RESOURCE_EXHAUSTED")
    assert http_status(CorruptObjectError("x")) == (500, "DATA_LOSS")
    assert http_status(ConflictError("x")) == (503, "ABORTED")
    assert http_status(StoreClosedError("x")) == (503, "UNAVAILABLE")
    assert http_status(StoreError("x")) == (500, "INTERNAL")


def test_http_setting_is_host_port() -> None:
    assert load_config(env={}, flags={"http": "127.0.0.1:0"}).http == "127.0.0.1:0"
    assert load_config(env={"AONODE_HTTP": "0.0.0.0:7401"}).http == "0.0.0.0:7401"
    with pytest.raises(ConfigError, match="http"):
        load_config(env={}, flags={"http": "7401"})


def test_a_redirect_names_the_scheduler_and_its_url() -> None:
    from aonode.gateway.status import error_headers

    headers = error_headers(RedirectError("p", "addr", "http://other:7401"), 409)
    assert headers["location"] == "http://other:7401" and headers["aonode-scheduler"] == "addr"
