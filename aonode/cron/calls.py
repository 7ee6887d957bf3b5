"""Path tasks: a cron task that calls a path on its process instead of scheduling a message to it
(HyperBEAM's `cron-path`, e.g. `/<process>~process@1.0/now`).

Two paths exist, the two a timer is useful for:

- `now`: compute every slot assigned so far (keeps results and the live worker current, so readers of
  `Compute`/`Now` are answered from the store);
- `push`: compute, then push the outbox of every slot not pushed by this task yet, in slot order, at most
  `max_push_slots` per call (the rest on the next tick). The task's `cursor` is the first slot it has not
  pushed.

Both are idempotent (compute is a function of the schedule; push delivers each (process, slot, outbox
index) at most once), so re-running a call after a crash, or two calls for one tick, changes nothing. A
call that finds nothing new does nothing. Missed ticks of a path task are not replayed: one call covers
them all.

The calls go through the `ProcessCalls` port; `EngineCalls` implements it on the node's compute engine
and pusher.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

from aonode.compute import ComputeEngine
from aonode.errors import InvalidArgument
from aonode.push import Pusher

CronPath = Literal["now", "push"]
PATHS: tuple[CronPath, ...] = ("now", "push")

# "now", "/push", "/<process>/now", "/<process>~process@1.0/now" (any case for the key).
_PATH = re.compile(r"^/?(?:(?P<process>[A-Za-z0-9_-]{43})(?:~process@1\.0)?/)?(?P<key>[A-Za-z]+)/?$")


def parse_path(text: str, process: str) -> CronPath:
    """The path a task calls on `process`, from what a caller wrote; INVALID_ARGUMENT with the reason."""
    m = _PATH.match(text.strip())
    if m is None:
        raise InvalidArgument(
            f"path {text!r}: expected now or push, optionally as /<process>[~process@1.0]/<key>"
        )
    named = m.group("process")
    if named is not None and named != process:
        raise InvalidArgument(f"path {text!r} names process {named}, but the task is for {process}")
    key = m.group("key").lower()
    for known in PATHS:
        if key == known:
            return known
    raise InvalidArgument(f"path {text!r}: unknown key {key!r}; a task can call now or push")


class ProcessCalls(Protocol):
    """What a path task calls."""

    async def now(self, process: bytes) -> int:
        """Compute every assigned slot; the latest slot."""
        ...

    async def push(self, process: bytes, first: int, limit: int) -> int:
        """Push slots `first`.. (at most `limit`, not beyond the latest); the first slot not pushed."""
        ...


class EngineCalls:
    """`ProcessCalls` on the node's compute engine and pusher."""

    def __init__(self, engine: ComputeEngine, pusher: Pusher) -> None:
        self._engine = engine
        self._pusher = pusher

    async def now(self, process: bytes) -> int:
        return (await self._engine.now(process)).slot

    async def push(self, process: bytes, first: int, limit: int) -> int:
        tip = await self.now(process)
        end = min(tip + 1, first + limit)
        for slot in range(first, end):
            await self._pusher.push(process, slot, result_depth=0)  # raises AonodeError if it fails
        return max(first, end)


__all__ = ["PATHS", "CronPath", "EngineCalls", "ProcessCalls", "parse_path"]
