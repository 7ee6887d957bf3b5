"""Helpers for the compute tests: schedules built with the real Scheduler on a fixed clock (so two stores
given the same messages hold byte-identical schedules), and engines with the fake devices registered."""

from __future__ import annotations

import itertools
from typing import Any

from aonode.compute import ComputeConfig, ComputeEngine
from aonode.crypto import sign_message
from aonode.devices.base import DeviceRegistry
from aonode.devices.registry import default_registry
from aonode.ids import ProcessId, encode_id
from aonode.model import Assignment, Message, Tag
from aonode.scheduler import Scheduler, SchedulerConfig
from store import MemoryStore, ObjectStore
from tests.compute.fakes import FakeDevice, SnapDevice
from tests.scheduler.helpers import CLIENT_KEY, NODE_KEY, run

CLOCK_MS = 1_700_000_000_000
_counter = itertools.count()

__all__ = ["run"]


def scheduler(store: ObjectStore, **config: Any) -> Scheduler:
    return Scheduler(store, NODE_KEY, SchedulerConfig(**config), clock=lambda: CLOCK_MS)


def registry() -> DeviceRegistry:
    reg = default_registry()
    reg.register(FakeDevice.name, FakeDevice)
    reg.register(SnapDevice.name, SnapDevice)
    return reg


def engine(
    store: ObjectStore, sched: Scheduler, reg: DeviceRegistry | None = None, **config: Any
) -> ComputeEngine:
    return ComputeEngine(store, sched, reg or registry(), ComputeConfig(**config))


def process_message(
    device: str = FakeDevice.name, *extra: tuple[str, str], nonce: str | None = None
) -> Message:
    tags = [
        Tag("Type", "Process"),
        Tag("Execution-Device", device),
        Tag("Nonce", nonce if nonce is not None else str(next(_counter))),
        *(Tag(k, v) for k, v in extra),
    ]
    return sign_message(Message(tags=tuple(tags), data=b"process"), CLIENT_KEY)


def message(process: bytes, data: bytes | str, *extra: tuple[str, str]) -> Message:
    body = data.encode() if isinstance(data, str) else data
    tags = (Tag("Action", "Test"), *(Tag(k, v) for k, v in extra))
    return sign_message(Message(target=encode_id(process), tags=tags, data=body), CLIENT_KEY)


def messages(process: bytes, datas: list[str], start: int = 0) -> list[Message]:
    """Messages carrying `datas`, made distinct by their anchors (`a<index>`), so two stores given the
    same calls hold the same messages."""
    out = []
    for i, d in enumerate(datas):
        m = Message(
            target=encode_id(process), anchor=f"a{start + i}", tags=(Tag("Action", "Test"),), data=d.encode()
        )
        out.append(sign_message(m, CLIENT_KEY))
    return out


async def spawn(sched: Scheduler, proc: Message, datas: list[str] | None = None) -> ProcessId:
    """Schedule `proc` and one message per item of `datas`; returns the process ID."""
    a = await sched.schedule(proc)
    pid = ProcessId(a.process)
    if datas:
        await send(sched, pid, datas, 1)
    return pid


async def send(sched: Scheduler, pid: bytes, datas: list[str], start: int) -> list[Assignment]:
    outs = await sched.schedule_many(messages(pid, datas, start))
    assignments = []
    for o in outs:
        assert isinstance(o, Assignment), o
        assignments.append(o)
    return assignments


def twin(proc: Message, batches: list[list[str]], starts: list[int]) -> list[tuple[bytes, bytes]]:
    """(digest, hashpath) per slot of the schedule `proc` + `batches` built in a fresh store."""
    store = MemoryStore()
    sched = scheduler(store)
    eng = engine(store, sched)
    try:
        pid = run(spawn(sched, proc))
        for batch, start in zip(batches, starts, strict=True):
            run(send(sched, pid, batch, start))
        last = run(eng.now(pid)).slot
        out = []
        for s in range(last + 1):
            r = eng.stored_result(pid, s)
            assert r is not None
            out.append((r.result_digest, r.hashpath))
        return out
    finally:
        eng.close()
        store.close()
