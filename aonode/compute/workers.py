"""Live workers: an initialised device holding one process's state after some slot, and the LRU that keeps
them between requests, bounded by count and by the memory the devices report.

A worker is *checked out* while a computation uses it (it is then in no cache and owned by that one
computation, which the engine's per-process lock makes unique) and *checked in* afterwards. The cache is
thread-safe: check-out happens on a compute thread, check-in on the event loop once the worker's results
are durable. Evicted workers are returned to the caller, which closes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from aonode.compute.definition import ProcessDefinition
from aonode.devices.base import Device
from aonode.ids import ProcessId

log = logging.getLogger("aonode.compute")


@dataclass(eq=False)
class Worker:
    """A device and where its state stands: after `slot` (-1: initialised, nothing applied yet), with the
    hashpath and hash chain of that slot (both the process ID at -1)."""

    definition: ProcessDefinition
    device: Device
    slot: int
    hashpath: bytes
    hash_chain: bytes
    memory: int = 0
    snapshot_at: float = field(default_factory=time.monotonic)
    """When this worker's state was last snapshotted (or the worker made); `snapshot_seconds` counts
    from it."""

    @property
    def process(self) -> ProcessId:
        return self.definition.process_id

    def close(self) -> None:
        try:
            self.device.close()
        except Exception:
            log.exception("closing the %s device of a worker failed", self.definition.device)


class WorkerCache:
    """LRU of live workers by process."""

    def __init__(self, max_workers: int, max_memory: int) -> None:
        self.max_workers = max_workers
        self.max_memory = max_memory
        self._items: OrderedDict[bytes, Worker] = OrderedDict()
        self._memory = 0
        self._lock = threading.Lock()
        self.evictions = 0

    def checkout(self, process: bytes) -> Worker | None:
        with self._lock:
            worker = self._items.pop(process, None)
            if worker is not None:
                self._memory -= worker.memory
            return worker

    def checkin(self, worker: Worker) -> list[Worker]:
        """Keep `worker` as the most recently used; returns the workers evicted to stay within bounds
        (possibly `worker` itself, when it alone is above the memory bound), for the caller to close."""
        evicted: list[Worker] = []
        with self._lock:
            old = self._items.pop(worker.process, None)
            if old is not None and old is not worker:
                self._memory -= old.memory
                evicted.append(old)
            self._items[worker.process] = worker
            self._memory += worker.memory
            while self._items and (len(self._items) > self.max_workers or self._memory > self.max_memory):
                _, victim = self._items.popitem(last=False)
                self._memory -= victim.memory
                evicted.append(victim)
                self.evictions += 1
        return evicted

    def drain(self) -> list[Worker]:
        """Remove and return every worker."""
        with self._lock:
            items = list(self._items.values())
            self._items.clear()
            self._memory = 0
            return items

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, process: object) -> bool:
        return process in self._items

    @property
    def memory(self) -> int:
        return self._memory
