"""`NodeCollector`: the metrics read from a node when /metrics is scraped.

Every value here is a count or a size the node keeps anyway (the scheduler's committed slots, the compute
engine's `stats()`, the pusher's and cron's outcome counters, the replica manager's per-process status, the
store's LMDB info and stat, the filesystem's free space), so recording them costs the hot paths nothing
beyond their own integer increments. A scrape runs on the node's event loop (the HTTP servers share it), so
it reads the loop's state consistently; each section is read on its own and one that fails (a store closing
under a late scrape) is left out of that scrape, logged at debug, never an error answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aonode.ids import encode_id

if TYPE_CHECKING:
    from aonode.node import Node

log = logging.getLogger("aonode.metrics")

PUSH_OUTCOMES = ("delivered", "remote", "existing", "relay_limit", "error", "cycle")
CRON_OUTCOMES = ("fired", "failed", "skipped")


def _by_outcome(counts: Mapping[str, int], known: tuple[str, ...]) -> list[tuple[str, int]]:
    """Every known outcome (0 until it happens, so rates work from the first scrape), then any other."""
    snapshot = dict(counts)
    return [(k, snapshot.get(k, 0)) for k in known] + sorted(
        (k, v) for k, v in snapshot.items() if k not in known
    )


class NodeCollector(Collector):
    def __init__(self, node: Node) -> None:
        self._node = node

    def collect(self) -> Iterator[Metric]:
        sections: tuple[Callable[[], list[Metric]], ...] = (
            self._info,
            self._scheduler,
            self._compute,
            self._push,
            self._cron,
            self._replication,
            self._store,
        )
        for section in sections:
            try:
                metrics = section()
            except Exception as exc:
                log.debug("metrics: %s left out of this scrape: %s", section.__name__, exc)
                continue
            yield from metrics

    def _info(self) -> list[Metric]:
        info = GaugeMetricFamily(
            "aonode_node_info",
            "This node: its version and wallet address (value 1).",
            labels=["version", "address"],
        )
        info.add_metric([self._node.version, self._node.address], 1)
        return [info]

    def _scheduler(self) -> list[Metric]:
        scheduler = self._node.scheduler
        return [
            CounterMetricFamily(
                "aonode_slots_scheduled",
                "Slots this node assigned and committed (every way in: Schedule, streams, push, cron).",
                value=scheduler.slots_scheduled,
            ),
            CounterMetricFamily(
                "aonode_slots_replicated",
                "Slots stored from leaders this node replicates (verified, not assigned here).",
                value=scheduler.slots_replicated,
            ),
        ]

    def _compute(self) -> list[Metric]:
        stats = self._node.engine.stats()
        return [
            CounterMetricFamily(
                "aonode_slots_computed", "Slots computed and their results stored.", value=stats["computed"]
            ),
            CounterMetricFamily(
                "aonode_slots_verified",
                "Slots recomputed while rebuilding a state and compared with their stored result.",
                value=stats["verified"],
            ),
            CounterMetricFamily("aonode_dryruns", "Dry runs evaluated.", value=stats["dryruns"]),
            GaugeMetricFamily(
                "aonode_worker_cache_bytes",
                "Bytes charged to the live workers kept in the compute worker cache (docs/compute.md).",
                value=stats["worker_memory"],
            ),
            GaugeMetricFamily(
                "aonode_workers", "Live workers in the compute worker cache.", value=stats["workers"]
            ),
            CounterMetricFamily(
                "aonode_worker_evictions",
                "Workers evicted from the cache to stay in bounds.",
                value=stats["evictions"],
            ),
            GaugeMetricFamily("aonode_compute_threads", "Compute threads started.", value=stats["threads"]),
        ]

    def _push(self) -> list[Metric]:
        family = CounterMetricFamily(
            "aonode_push_deliveries",
            "Push deliveries (spawns, their notices, outbox messages) by outcome (docs/metrics.md).",
            labels=["outcome"],
        )
        for outcome, count in _by_outcome(self._node.pusher.deliveries, PUSH_OUTCOMES):
            family.add_metric([outcome], count)
        return [family]

    def _cron(self) -> list[Metric]:
        family = CounterMetricFamily(
            "aonode_cron_ticks",
            "Cron ticks by outcome: fired (scheduled, or the path called), failed (retried later), skipped.",
            labels=["outcome"],
        )
        for outcome, count in _by_outcome(self._node.cron.ticks, CRON_OUTCOMES):
            family.add_metric([outcome], count)
        return [family]

    def _replication(self) -> list[Metric]:
        slots = GaugeMetricFamily(
            "aonode_replication_lag_slots",
            "Slots the leader has that this replica has not stored yet, per followed process.",
            labels=["replica", "process"],
        )
        ms = GaugeMetricFamily(
            "aonode_replication_lag_ms",
            "Milliseconds from the leader's assignment to its commit here, as of the last stored frame.",
            labels=["replica", "process"],
        )
        for replica in self._node.replication.list():
            for p in replica.processes:
                labels = [replica.spec.id, encode_id(p.process)]
                slots.add_metric(labels, max(0, p.leader_slot - p.stored_slot))
                ms.add_metric(labels, p.lag_ms)
        return [slots, ms]

    def _store(self) -> list[Metric]:
        store = self._node.store
        stats = store.stats()
        out: list[Metric] = []
        if "pages_used" in stats:
            out.append(
                GaugeMetricFamily(
                    "aonode_store_size_bytes",
                    "Bytes of the LMDB data file in use (pages used x page size).",
                    value=stats["pages_used"] * stats["page_size"],
                )
            )
        out.append(
            GaugeMetricFamily(
                "aonode_store_map_size_bytes",
                "The LMDB map's current size (it grows by doubling).",
                value=stats["map_size"],
            )
        )
        if "objects" in stats:
            out.append(
                GaugeMetricFamily("aonode_store_objects", "Objects in the store.", value=stats["objects"])
            )
        out.append(
            CounterMetricFamily(
                "aonode_store_commits", "Store transactions committed.", value=stats["commits"]
            )
        )
        free = _free_bytes(self._node.config.store_path)
        if free is not None:
            out.append(
                GaugeMetricFamily(
                    "aonode_store_free_bytes",
                    "Bytes the node may still write on the store's filesystem.",
                    value=free,
                )
            )
        return out


def _free_bytes(path: os.PathLike[str] | str) -> int | None:
    """What this process may still write where the store lives (root may use the reserved blocks too, as
    the store itself counts it)."""
    try:
        fs = os.statvfs(path)
    except OSError:
        return None
    blocks = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail
    return blocks * fs.f_frsize
