"""Server assembly: the aonode.v1 services, standard health and reflection, explicit limits, and a
graceful stop; every call counted by RPC and status (`metrics.MetricsInterceptor`), and, with `--metrics`,
the Prometheus /metrics HTTP server on the same event loop (docs/metrics.md).

Limits are set here rather than left to grpcio defaults: message sizes, RPCs in flight (excess calls get
RESOURCE_EXHAUSTED at once instead of queueing), calls received but not yet picked up (core's pending
queue: its defaults cancelled bursts of 2,000+ calls with a bare CANCELLED), streams per connection,
keepalive enforcement, metadata size. On stop, health turns NOT_SERVING first (so probes and balancers
move away), in-flight RPCs get `grace_seconds` to finish, then the node closes its store, which drains
queued writes.

Once serving, the objects made by start-up (modules, descriptors, compiled code: a few hundred thousand)
are moved out of the cyclic garbage collector's reach (`gc.freeze`): a full collection otherwise walks them
all and stalls the event loop for 10-20 ms, which showed up directly in the p99 latency of Schedule.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from aonode.config import NodeConfig
from aonode.logs import log_event
from aonode.metrics.http import MetricsServer
from aonode.node import Node
from aonode.rpc.cron_service import CronServicer
from aonode.rpc.metrics import MetricsInterceptor
from aonode.rpc.network_client import GrpcNetwork
from aonode.rpc.network_service import NetworkServicer
from aonode.rpc.node_service import NodeServicer
from aonode.rpc.process_service import ProcessServicer, stalls_to_pb
from aonode.rpc.replication_service import GrpcLeader, ReplicationServicer
from aonode.rpc.scheduler_service import SchedulerServicer
from aonode.rpc.service import register
from aonode.v1 import cron_pb2, network_pb2, node_pb2, process_pb2, replication_pb2, scheduler_pb2
from store.lock import DirectoryLock

if TYPE_CHECKING:
    from aonode.gateway import RunningGateway

log = logging.getLogger("aonode.server")

COMPUTE_GRACE = 1.0
"""Seconds of the stop's grace running computations get before they are interrupted."""

SERVICES = (
    node_pb2.DESCRIPTOR.services_by_name["NodeService"],
    scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"],
    process_pb2.DESCRIPTOR.services_by_name["ProcessService"],
    cron_pb2.DESCRIPTOR.services_by_name["CronService"],
    replication_pb2.DESCRIPTOR.services_by_name["ReplicationService"],
    network_pb2.DESCRIPTOR.services_by_name["NetworkService"],
)


RESPONSE_SLACK = 64 * 1024
"""Bytes a response may exceed `max_message_bytes` by (see `server_options`)."""


def server_options(config: NodeConfig) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        # A read's response carries a message (up to what a request could) plus its assignment and page
        # fields: a stored message must never be too large to read back.
        ("grpc.max_send_message_length", config.max_message_bytes + RESPONSE_SLACK),
        ("grpc.max_concurrent_streams", config.max_concurrent_streams),
        # Calls gRPC core has received but the asyncio server has not picked up yet: core's defaults
        # (1,000 soft, 3,000 hard, randomly dropped between) cancel a burst's excess with a bare
        # CANCELLED before the node sees it. One threshold, far above max_concurrent_rpcs, lets the node
        # answer the excess itself (RESOURCE_EXHAUSTED, retried by clients with backoff).
        ("grpc.server.max_pending_requests", config.max_pending_rpcs),
        ("grpc.server.max_pending_requests_hard_limit", config.max_pending_rpcs),
        ("grpc.max_metadata_size", 16 * 1024),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 30_000),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.max_connection_idle_ms", 300_000),
        ("grpc.so_reuseport", 0),
    ]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    node: Node
    http: RunningGateway | None = None
    """The HTTP gateway, when `config.http` is set (docs/http.md)."""
    metrics: MetricsServer | None = None
    """The `--metrics` HTTP server, when configured."""

    @property
    def address(self) -> str:
        host = self.node.config.listen.rpartition(":")[0]
        return f"{host}:{self.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving (NOT_SERVING first), let in-flight RPCs finish, then close the node. Computations
        get at most COMPUTE_GRACE of the grace: then they are interrupted (a slot can run for the whole
        wall-clock backstop, longer than any grace)."""
        grace = self.node.config.grace_seconds if grace is None else grace
        halt = asyncio.get_running_loop().call_later(min(grace, COMPUTE_GRACE), self.node.halt_compute)
        try:
            await self.health.enter_graceful_shutdown()
            if self.http is not None:
                await self.http.stop()
            await self.server.stop(grace)
        finally:
            halt.cancel()
        if self.metrics is not None:
            await self.metrics.stop()
        await self.node.close()


def servicers(node: Node) -> dict[str, object]:
    """Servicer objects by service name; services without one answer UNIMPLEMENTED per method."""
    return {
        "NodeService": NodeServicer(node),
        "SchedulerService": SchedulerServicer(node.scheduler, stalls=lambda: stalls_to_pb(node.engine)),
        "ProcessService": ProcessServicer(node.engine, node.pusher),
        "CronService": CronServicer(node.cron),
        "ReplicationService": ReplicationServicer(node.scheduler, node.store, node.replication),
        "NetworkService": NetworkServicer(node.network),
    }


def open_node(config: NodeConfig) -> Node:
    """A node with the wire layer's ports plugged in."""
    forwarder = GrpcNetwork()  # also continues pushes on other nodes, gossips and asks the directory
    return Node.open(
        config,
        forwarder=forwarder,
        remote=forwarder,
        peers=forwarder,
        assignments=forwarder,
        leader=lambda url: GrpcLeader(url, config.max_message_bytes + RESPONSE_SLACK),
    )


async def start_server(
    node: Node, *, http_routes: Iterable[Any] = (), http_middlewares: Iterable[Any] = ()
) -> RunningServer:
    """Serve gRPC on `config.listen` and, when `config.http` is set, the HTTP gateway with `http_routes`
    (aiohttp route definitions, e.g. `/metrics`) and `http_middlewares` (e.g. request counters) added."""
    config = node.config
    server = grpc.aio.server(
        options=server_options(config),
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        interceptors=[MetricsInterceptor(node.metrics)],
    )
    implementations = servicers(node)
    for service in SERVICES:
        register(server, service, implementations.get(service.name))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [service.full_name for service in SERVICES]
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    try:
        port = server.add_insecure_port(config.listen)
    except RuntimeError:  # grpcio raises this when the bind fails
        port = 0
    if port == 0:
        raise OSError(f"cannot listen on {config.listen}: address in use or not available")
    metrics = MetricsServer(node.metrics, config.metrics) if config.metrics else None
    if metrics is not None:
        try:
            await metrics.start()
        except OSError:
            await server.stop(None)
            raise
    await server.start()
    http = None
    if config.http:
        from aiohttp import web

        from aonode.gateway import start_gateway  # aiohttp loads only when the gateway is on
        from aonode.metrics.http import metrics_handler, metrics_middleware

        routes = [web.get("/metrics", metrics_handler(node.metrics)), *http_routes]
        middlewares = [metrics_middleware(node.metrics), *http_middlewares]
        try:
            http = await start_gateway(node, config.http, extra_routes=routes, middlewares=middlewares)
        except BaseException:
            await server.stop(None)
            if metrics is not None:
                await metrics.stop()
            raise
    host = config.listen.rpartition(":")[0]
    await node.start(f"{host}:{port}")
    serving = health_pb2.HealthCheckResponse.SERVING
    await health_servicer.set("", serving)
    for name in names:
        await health_servicer.set(name, serving)
    return RunningServer(
        server=server, port=port, health=health_servicer, node=node, http=http, metrics=metrics
    )


async def serve(config: NodeConfig) -> None:
    """Run a node until SIGTERM or SIGINT, then stop gracefully. The data directory is locked for the
    node's life (store/lock.py): a second node on it refuses to start (DirectoryLockedError)."""
    with DirectoryLock(config.data):
        await _serve(config)


async def _serve(config: NodeConfig) -> None:
    sys.setswitchinterval(config.gil_switch_ms / 1000)
    node = open_node(config)
    try:
        running = await start_server(node)
    except BaseException:
        await node.close()
        raise
    log_event(
        log,
        logging.INFO,
        "serving",
        listen=running.address,
        http=running.http.address if running.http is not None else "",
        address=node.address,
        metrics=running.metrics.address if running.metrics is not None else "",
        data=str(config.data),
        version=node.version,
    )
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log_event(log, logging.INFO, "stopping", grace_seconds=config.grace_seconds)
    await running.stop()
    log_event(log, logging.INFO, "stopped")
