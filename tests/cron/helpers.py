"""A cron service on a real scheduler and an LMDB store in a temp dir, restartable on the same data, and
readers of the cron ticks in a schedule."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aonode.cron import Cron, CronConfig
from aonode.ids import ProcessId, decode_id, encode_id
from aonode.model import Assignment, Message
from aonode.scheduler import Scheduler, wall_clock_ms
from store import LmdbStore, ObjectStore
from tests.scheduler.helpers import NODE_KEY, make_scheduler, process_message

FAST = CronConfig(min_interval_ms=10, backoff_base_ms=100, backoff_max_ms=400, scan_interval_ms=100)


class CronNode:
    """Store + scheduler + cron; `await start()`, `await close()`, start again on the same directory."""

    def __init__(
        self, path: Path, config: CronConfig = FAST, clock: Callable[[], int] = wall_clock_ms
    ) -> None:
        self.path = path
        self.config = config
        self.clock = clock
        self.store: ObjectStore | None = None

    async def start(self, **overrides: Any) -> CronNode:
        self.store = LmdbStore(self.path, map_size=64 << 20)
        self.scheduler: Scheduler = make_scheduler(self.store)
        self.cron = Cron(
            self.store, self.scheduler, NODE_KEY, overrides.get("config", self.config), clock=self.clock
        )
        await self.cron.start()
        return self

    async def close(self) -> None:
        await self.cron.close()
        self.scheduler.close()
        assert self.store is not None
        self.store.close()

    async def spawn(self, **tags: str) -> str:
        process = process_message(scheduler=NODE_KEY.address, **tags)
        await self.scheduler.schedule(process)
        return encode_id(process.id)


def _cron_assignments(
    scheduler: Scheduler, process: str, task: str | None
) -> list[tuple[Assignment, Message]]:
    """(assignment, message) of each cron tick in `process`'s schedule (of `task` if given), by slot."""
    pid = ProcessId(decode_id(process))
    out = []
    for a in scheduler.read_assignments(pid, 0, scheduler.head(pid).slot + 1):
        m = scheduler.get_message(a.message)
        if m.tag("Cron") == "true" and (task is None or m.tag("Cron-Task") == task):
            out.append((a, m))
    return out


def cron_ticks(scheduler: Scheduler, process: str, task: str | None = None) -> list[tuple[int, Message]]:
    """(slot, message) of every cron tick in `process`'s schedule (of `task` if given), in slot order."""
    return [(a.slot, m) for a, m in _cron_assignments(scheduler, process, task)]


def tick_times(scheduler: Scheduler, process: str, task: str) -> list[tuple[int, int]]:
    """(assignment timestamp, `Cron-Time` tag) in ms of each tick of `task`: when it was scheduled, and
    when it was due."""
    return [
        (a.timestamp, int(m.tag("Cron-Time") or -1)) for a, m in _cron_assignments(scheduler, process, task)
    ]


def tick_numbers(ticks: list[tuple[int, Message]]) -> list[int]:
    return [int(m.tag("Cron-Tick") or -1) for _, m in ticks]


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until `check()` holds (polling every 20 ms); fail after `timeout` s. Tests wait for what they
    expect instead of sleeping a fixed time, so a loaded machine makes them slower, not red."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        assert loop.time() < deadline, "timed out waiting for the condition"
        await asyncio.sleep(0.02)
