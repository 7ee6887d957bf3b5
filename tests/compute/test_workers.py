"""The live-worker LRU: what a worker is charged (device memory, module bytes, fixed overhead), eviction by
those bytes, and the `[compute]` settings that size it."""

from __future__ import annotations

import pytest

from aonode.compute import ComputeConfig
from aonode.compute.definition import ProcessDefinition
from aonode.compute.workers import WORKER_OVERHEAD, Worker, WorkerCache
from aonode.devices.base import Limits
from aonode.ids import ProcessId
from aonode.model import Assignment, Message, Tag
from tests.compute import fakes

MiB = 1024 * 1024


def _worker(n: int, memory: int, module_bytes: int | None) -> Worker:
    pid = ProcessId(bytes([n]) * 32)
    module = (
        None if module_bytes is None else Message(tags=(Tag("Type", "Module"),), data=b"m" * module_bytes)
    )
    definition = ProcessDefinition(
        process_id=pid,
        process=Message(tags=(Tag("Type", "Process"),)),
        assignment=Assignment(pid, 0, pid, 0),
        device="fake@1.0",
        module=module,
        limits=Limits(),
    )
    return Worker(definition, fakes.FakeDevice(), 0, pid, pid, memory=memory)


def test_a_worker_is_charged_its_memory_its_module_and_the_overhead() -> None:
    assert _worker(1, 5 * MiB, 700_000).cost == 5 * MiB + 700_000 + WORKER_OVERHEAD
    assert _worker(2, 0, None).cost == WORKER_OVERHEAD


def test_the_cache_evicts_the_least_recently_used_by_bytes() -> None:
    # Each worker costs 1 MiB + 1 MiB of module + the overhead: three fit in 7 MiB, a fourth does not.
    cache = WorkerCache(max_workers=100, max_memory=7 * MiB)
    workers = [_worker(i, MiB, MiB) for i in range(4)]
    for w in workers[:3]:
        assert cache.checkin(w) == []
    assert cache.checkout(workers[0].process) is workers[0]  # now the most recent once checked in again
    assert cache.checkin(workers[0]) == []
    assert cache.checkin(workers[3]) == [workers[1]]
    assert cache.memory == 3 * workers[0].cost
    assert workers[1].process not in cache and len(cache) == 3
    # Thousands of tiny workers are bounded by bytes too, not only by count: the overhead is charged.
    tiny = WorkerCache(max_workers=10_000, max_memory=100 * WORKER_OVERHEAD)
    for i in range(250):
        tiny.checkin(_worker(i, 0, None))
    assert len(tiny) == 100 and tiny.memory == 100 * WORKER_OVERHEAD


def test_compute_settings_size_the_cache() -> None:
    config = ComputeConfig.from_mapping({"max_workers": 10, "max-worker-memory-mib": 300})
    assert config.max_workers == 10 and config.max_worker_memory == 300 * MiB
    default = ComputeConfig()
    assert default.max_worker_memory == 1024 * MiB and default.max_workers == 256
    with pytest.raises(ValueError):
        ComputeConfig.from_mapping({"max_worker_memory_mib": -1})
    with pytest.raises(ValueError, match="unknown"):
        ComputeConfig.from_mapping({"max_worker_memory": 10})  # bytes: the TOML key is in MiB
