"""Live workers: an initialised device holding one process's state after some slot, and the LRU that keeps
them between requests, bounded by count and by bytes.

A worker is charged its `cost`: what its device reports (`Device.memory_bytes()`: for wasm64@1.0 the linear
memory's size plus its checkpoint copy, an upper bound on the anonymous memory both take, since pages the
module never touched or that still share wasmtime's copy-on-write image are not resident), plus the data of
its Process and module messages (each worker's definition holds its own copies, read from the store), plus
`WORKER_OVERHEAD` for what no device reports (wasmtime Store and Instance, tables, host I/O buffers, the
Python objects). The cache keeps the sum of the costs within `max_memory`, evicting the least recently used
workers first; evicted workers are closed, which frees their memory at once (nothing holds a wasmtime Store
in a reference cycle: the Store is dropped when the device lets go of it). docs/compute.md, "Live workers
and memory", gives the RSS bound this makes and the measurements behind `WORKER_OVERHEAD`.

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

WORKER_OVERHEAD = 256 * 1024
"""Bytes charged per live worker beyond what its device and module account for. Measured on an idle
wasm64@1.0 worker of the test AOS module: about 150 KiB of RssAnon that is neither its linear memory nor its
checkpoint (Store, Instance, its table, the host I/O buffers, the worker's Python objects); rounded up."""


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

    @property
    def cost(self) -> int:
        """Bytes this worker is charged in the cache (see the module docstring)."""
        definition = self.definition
        held = len(definition.process.data) + (len(definition.module.data) if definition.module else 0)
        return self.memory + held + WORKER_OVERHEAD

    def close(self) -> None:
        try:
            self.device.close()
        except Exception:
            log.exception("closing the %s device of a worker failed", self.definition.device)


class WorkerCache:
    """LRU of live workers by process, within `max_workers` and `max_memory` bytes of `Worker.cost`."""

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
                self._memory -= worker.cost
            return worker

    def checkin(self, worker: Worker) -> list[Worker]:
        """Keep `worker` as the most recently used; returns the workers evicted to stay within bounds
        (possibly `worker` itself, when it alone is above the memory bound), for the caller to close."""
        evicted: list[Worker] = []
        with self._lock:
            old = self._items.pop(worker.process, None)
            if old is not None and old is not worker:
                self._memory -= old.cost
                evicted.append(old)
            self._items[worker.process] = worker
            self._memory += worker.cost
            while self._items and (len(self._items) > self.max_workers or self._memory > self.max_memory):
                _, victim = self._items.popitem(last=False)
                self._memory -= victim.cost
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
        """The sum of the live workers' `cost`."""
        return self._memory
