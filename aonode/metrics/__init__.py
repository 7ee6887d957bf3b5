"""Prometheus metrics of one node (docs/metrics.md lists every metric).

Theory of operation:
- Each node owns a `NodeMetrics` with its own `CollectorRegistry`, never prometheus_client's global
  default registry: tests run several nodes in one Python process, and each must report only its own.
- What the node already counts (slots scheduled and computed, push deliveries, cron ticks, the worker
  cache's bytes, replication positions, the store's size) is read when /metrics is scraped, by
  `collector.NodeCollector`, from plain attributes of the domain objects: the hot paths keep a bare
  integer increment, with no lock and no call into this package.
- What must be recorded as it happens (latency histograms; requests by RPC or route and status) goes
  through prometheus-client's own objects, whose per-value locks are the only locks involved. The domain
  never imports this package: the node hands it bound `observe` callables (`Scheduler.observe_latency`,
  `ComputeEngine.observe_latency`), which default to doing nothing.
- The wire layer counts requests: a gRPC server interceptor (`aonode/rpc/metrics.py`) and an aiohttp
  middleware (`http.py`) for HTTP servers. `http.py` also serves the registry: `metrics_handler` for any
  aiohttp application (the gateway mounts it at /metrics), `MetricsServer` for `aonode serve --metrics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

if TYPE_CHECKING:
    from aonode.node import Node

SCHEDULE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds. A durable Schedule takes a few ms on this machine (p50 ~4 ms at 500/s); a disk stall, seconds."""

COMPUTE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Seconds. A stored result is served in well under a millisecond; a replay from slot 0, up to minutes."""


class NodeMetrics:
    """The metrics of one node, in `registry`. Created with the node (`Node.open`); `watch(node)` adds the
    values read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rpc_requests = Counter(
            "aonode_rpc_requests",
            "gRPC requests answered, by RPC (service/method) and status code.",
            ["rpc", "code"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "aonode_http_requests",
            "HTTP requests answered, by route (the route's pattern, not the path), method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.schedule_latency = Histogram(
            "aonode_schedule_latency_seconds",
            "Scheduling one message: from the call to its durable, signed assignment (or the error).",
            buckets=SCHEDULE_BUCKETS,
            registry=self.registry,
        )
        compute = Histogram(
            "aonode_compute_latency_seconds",
            "Compute of one slot's result: `store` when it was already stored, `computed` when it ran.",
            ["source"],
            buckets=COMPUTE_BUCKETS,
            registry=self.registry,
        )
        self.compute_latency = compute
        # Children bound once: `labels()` takes a lock and a dict lookup on every call.
        self._compute_store = compute.labels("store")
        self._compute_run = compute.labels("computed")

    def observe_compute(self, seconds: float, stored: bool) -> None:
        """`ComputeEngine.observe_latency`: one answered Compute (`stored`: served from the store)."""
        (self._compute_store if stored else self._compute_run).observe(seconds)

    def watch(self, node: Node) -> None:
        """Read `node`'s counts and sizes at every scrape (`collector.NodeCollector`)."""
        from aonode.metrics.collector import NodeCollector

        self.registry.register(NodeCollector(node))

    def exposition(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


__all__ = ["NodeMetrics"]
