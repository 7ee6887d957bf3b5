"""The emscripten-built AOS-style module (modules/aos.c → aos.wasm, wasm64): state, outbox, spawns,
assignments, memory growth, stdout, traps, snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.devices.base import Limits
from aonode.devices.wasm import WasmDevice
from aonode.model import Tag
from tests.devices.wasm.helpers import Proc

pytestmark = pytest.mark.skipif(
    not (Path(__file__).parent / "modules" / "aos.wasm").exists(), reason="aos.wasm is not built"
)


def test_counter_and_table_survive_slots_traps_and_restores() -> None:
    proc = Proc("aos")
    device = proc.device()
    assert device.compute(*proc.slot(Action="Count")).output.data == "count=1"
    assert device.compute(*proc.slot("v1", Action="Set", Key="a")).output.data == "ok"
    trapped = device.compute(*proc.slot(Action="Trap"))
    assert trapped.error.startswith("wasm trap:")
    assert device.compute(*proc.slot(Action="Get", Key="a")).output.data == "v1"
    snap = device.snapshot()
    assert snap is not None
    other = WasmDevice()
    other.init(proc.context)
    other.restore(snap)
    nxt = proc.slot(Action="Count")
    assert device.compute(*nxt).digest == other.compute(*nxt).digest
    assert other.compute(*proc.slot(Action="Get", Key="a")).output.data == "v1"


def test_outbox_spawns_and_assignments() -> None:
    proc = Proc("aos")
    device = proc.device()
    r = device.compute(*proc.slot("hello", Action="Send", Recipient="R" * 43))
    assert r.output.data == "sent" and r.output.prompt == "aos> " and r.output.print
    (m,) = r.messages
    assert (m.target, m.data, m.tags) == ("R" * 43, b"hello", (Tag("Action", "Reply"),))
    r = device.compute(*proc.slot("child", Action="Spawn"))
    assert r.spawns[0].data == b"child" and r.spawns[0].tags == (Tag("Type", "Process"),)
    r = device.compute(*proc.slot(Action="Assign", Recipient="P", Message="M"))
    assert r.assignments[0].processes == ("P",) and r.assignments[0].message == "M"
    assert device.compute(*proc.slot(Action="Fail")).error == "failed on request"


def test_memory_growth_and_limit() -> None:
    proc = Proc("aos", Limits(memory_bytes=8 * 1024 * 1024))
    device = proc.device()
    before = device.memory_bytes()
    assert device.compute(*proc.slot("2048", Action="Grow")).output.data == "grown"
    assert device.memory_bytes() > before
    r = device.compute(*proc.slot("65536", Action="Grow"))
    assert r.error  # malloc fails inside the module (its own Error) or the store limit traps
    assert device.compute(*proc.slot(Action="Count")).output.data == "count=1"


def test_stdout_is_captured() -> None:
    proc = Proc("aos")
    device = proc.device()
    assert device.compute(*proc.slot("to stdout", Action="Print")).output.data == "printed"
    assert device.last_stdout == b"to stdout\n"


def test_fuel_limit() -> None:
    proc = Proc("aos", Limits(instructions=2_000))
    device = proc.device()
    assert "out of fuel" in device.compute(*proc.slot(Action="Count")).error


def test_message_buffers_are_freed_so_memory_stays_flat() -> None:
    """The device frees the message/env buffers it wrote (the module exports `free`): thousands of slots
    leave the linear memory, and so every snapshot, the same size."""
    proc = Proc("aos")
    device = proc.device()
    big = "x" * 2000
    for _ in range(120):  # past the first checkpoint (slot 100; until then the initial state is kept as none)
        device.compute(*proc.slot(big, Action="Count"))
    settled = device.memory_bytes()
    for _ in range(2000):
        result = device.compute(*proc.slot(big, Action="Count"))
        assert not result.error
    assert device.memory_bytes() == settled
    device.close()
