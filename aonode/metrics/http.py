"""/metrics over HTTP (aiohttp): a handler any aiohttp application can mount, a middleware that counts an
application's requests, and the standalone server of `aonode serve --metrics HOST:PORT`.

Everything runs on the node's own event loop, in the node's process: a scrape reads the node's counters
between two of the loop's callbacks, so it sees them consistently and needs no lock. The answer is the
Prometheus text format (0.0.4), or OpenMetrics 1.0.0 when the scraper's Accept header names
`application/openmetrics-text`. The negotiation is ours, not prometheus_client's `choose_encoder`: that one
raises on a malformed `version=` parameter (a 500 for any client) and echoes the client's parameters into
the answer's Content-Type.

The standalone server answers GET (and HEAD) /metrics only: any other path is 404, any other method on
/metrics 405 (aiohttp's router), and aiohttp's own limits bound what a request can make the node read (a
request line or header field past 8 KiB is a 400). Its requests are counted in `aonode_http_requests_total`
like the gateway's, with label values that stay bounded whatever a client sends: the route is the matched
route's pattern (`unmatched` for a path no route serves) and a method outside the standard set is `other`.
aiohttp logs every malformed request at ERROR with a traceback, so a client could fill the node's log with
them: `http_logger()` turns those (4xx protocol errors) into one debug line; any other error stays an error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from aonode.metrics import NodeMetrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PATH = "/metrics"
ROUTE_KEY = web.RequestKey("aonode.route", str)
"""A handler behind one catch-all route (the gateway reads HyperPATHs itself) may name the route it
served, `request[ROUTE_KEY] = "process/compute"`: the middleware counts that name instead of the pattern.
Names must come from a fixed set, never from the request."""
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class _ClientErrors(logging.Filter):
    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or not 400 <= error.code < 500:
            return True
        if not self._logger.isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg, record.args, record.exc_info = "bad HTTP request: %s", (error.message or error,), None
        return True


def http_logger() -> logging.Logger:
    """The logger to give aiohttp's servers (`AppRunner(..., logger=http_logger())`): client protocol
    errors at debug, without a traceback."""
    logger = logging.getLogger("aonode.http")
    if not any(isinstance(f, _ClientErrors) for f in logger.filters):
        logger.addFilter(_ClientErrors(logger))
    return logger


def metrics_handler(metrics: NodeMetrics) -> Handler:
    """An aiohttp handler answering the node's metrics (mount it with `router.add_get("/metrics", ...)`)."""

    async def handle(request: web.Request) -> web.Response:
        encoder, content_type = encoder_for(request.headers.get("Accept", ""))
        return web.Response(body=encoder(metrics.registry), headers={"Content-Type": content_type})

    return handle


def encoder_for(accept: str) -> tuple[Callable[[CollectorRegistry], bytes], str]:
    """OpenMetrics when `accept` lists its media type, else the Prometheus text format."""
    for item in accept.split(","):
        if item.split(";", 1)[0].strip().lower() == "application/openmetrics-text":
            return openmetrics.generate_latest, openmetrics.CONTENT_TYPE_LATEST
    return generate_latest, CONTENT_TYPE_PLAIN_0_0_4


def route_of(request: web.Request) -> str:
    """The label for `request`'s route: the pattern it matched (`/{pid}/slot`), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def metrics_middleware(metrics: NodeMetrics) -> Middleware:
    """An aiohttp middleware counting every request by route (`ROUTE_KEY` if the handler set it, else the
    matched pattern), method and status in `aonode_http_requests_total` (errors raised as `HTTPException`
    by their status; anything else as 500)."""
    counter = metrics.http_requests

    def count(request: web.Request, status: int) -> None:
        method = request.method if request.method in METHODS else "other"
        route = request.get(ROUTE_KEY) or route_of(request)
        counter.labels(route, method, str(status)).inc()

    @web.middleware
    async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            count(request, exc.status)
            raise
        except Exception:
            count(request, 500)
            raise
        count(request, response.status)
        return response

    return counted


def metrics_app(metrics: NodeMetrics) -> web.Application:
    """The application of the standalone metrics port: GET /metrics, counted."""
    app = web.Application(middlewares=[metrics_middleware(metrics)])
    app.router.add_get(PATH, metrics_handler(metrics))
    return app


def split_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:9100` for IPv6) as (host, port); ValueError when it is not one."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {listen!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


class MetricsServer:
    """`aonode serve --metrics HOST:PORT`: /metrics on its own port, on the running event loop."""

    def __init__(self, metrics: NodeMetrics, listen: str) -> None:
        """`listen` is HOST:PORT (port 0 picks a free port: `port` says which once started)."""
        self._host, self.port = split_listen(listen)
        self._runner = web.AppRunner(
            metrics_app(metrics), access_log=None, handle_signals=False, logger=http_logger()
        )

    @property
    def address(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve; OSError when the address cannot be bound."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(f"cannot serve /metrics on {self.address}: {exc.strerror or exc}") from exc
        sockname = self._runner.addresses[0]
        self.port = int(sockname[1])

    async def stop(self) -> None:
        await self._runner.cleanup()
