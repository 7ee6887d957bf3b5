"""A slot stopped by the wall-clock backstop (not by its deterministic budget) is never stored: its result
would depend on this machine's speed. It stalls its process (recorded in the store) until an operator lifts
it or the node's wall-clock limit is raised; `halt` interrupts a running slot at once."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from aonode.compute import layout
from aonode.compute.errors import EngineClosedError, ProcessStalledError
from aonode.crypto import Ed25519Signer, Signer, sign_message
from aonode.devices.base import Limits
from aonode.errors import InvalidArgument, NotFound, PermissionDenied
from aonode.ids import encode_id
from aonode.model import Message, Tag
from store import LmdbStore, ObjectStore, WriteBatch
from tests.compute.helpers import engine, run, scheduler
from tests.compute.lua_helpers import needs_lua, spawn_module
from tests.scheduler.helpers import CLIENT_KEY

SPIN = """
function compute(base, req, opts)
  if req.body.data == "spin" then while true do end end
  base.results = { output = { data = "ok " .. tostring(req.slot) } }
  return base
end
"""

OPERATOR = (str(CLIENT_KEY.address),)
HUGE = Limits(instructions=10**13)


def resume_message(
    pid: bytes, since: int | str, signer: Signer = CLIENT_KEY, action: str = "Resume-Compute"
) -> Message:
    tags = (Tag("Action", action), Tag("Stalled-Since", str(since)))
    return sign_message(Message(target=encode_id(pid), tags=tags), signer)


@needs_lua
def test_wall_clock_stop_stalls_the_process(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, SPIN, ["fine", "spin", "fine"])
    eng = engine(mem, sched, max_wall_seconds=0.2, default_limits=HUGE, operators=OPERATOR)
    try:
        assert run(eng.compute(pid, 1)).result.output.data == "ok 1"
        with pytest.raises(ProcessStalledError, match="slot 2 hit the wall-clock backstop") as info:
            run(eng.compute(pid, 2))
        assert info.value.metadata["stalled-slot"] == "2"
        assert eng.stored_result(pid, 2) is None
        assert eng.stored_result(pid, 1) is not None
        stall = eng.stall(pid)
        assert stall is not None and stall.slot == 2 and stall.wall_seconds == 0.2
        assert [p for p, _ in eng.stalls()] == [pid]
        # Not retried: the next request answers at once, and stored results are still served.
        started = time.monotonic()
        with pytest.raises(ProcessStalledError, match="is stalled since"):
            run(eng.compute(pid, 3))
        with pytest.raises(ProcessStalledError):
            run(eng.now(pid))
        assert time.monotonic() - started < 0.4  # a retry would take a wall clock (0.2 s) apiece
        assert run(eng.compute(pid, 1)).result.output.data == "ok 1"
    finally:
        eng.close()


@needs_lua
def test_stall_survives_a_restart_and_a_larger_limit_lifts_it(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "db")
    try:
        sched = scheduler(store)
        _, pid = spawn_module(sched, SPIN, ["spin"])
        eng = engine(store, sched, max_wall_seconds=0.2, default_limits=HUGE)
        with pytest.raises(ProcessStalledError):
            run(eng.compute(pid, 1))
        eng.close()
    finally:
        store.close()
    store = LmdbStore(tmp_path / "db")
    try:
        sched = scheduler(store)
        eng = engine(store, sched, max_wall_seconds=0.2, default_limits=HUGE)
        with pytest.raises(ProcessStalledError, match="is stalled"):
            run(eng.compute(pid, 1))
        eng.close()
        bigger = engine(store, sched, max_wall_seconds=0.3, default_limits=HUGE)
        assert bigger.stall(pid) is None  # a limit above the one it hit lifts the stall
        with pytest.raises(ProcessStalledError, match=r"\(0.3 s\)"):
            run(bigger.compute(pid, 1))  # tried again, stalls again under the new limit
        bigger.close()
    finally:
        store.close()


@needs_lua
def test_resume_needs_an_operator_and_the_current_stall(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, SPIN, ["spin"])
    eng = engine(mem, sched, max_wall_seconds=0.2, default_limits=HUGE, operators=OPERATOR)
    try:
        with pytest.raises(ProcessStalledError):
            run(eng.compute(pid, 1))
        stall = eng.stall(pid)
        assert stall is not None
        with pytest.raises(PermissionDenied):
            run(eng.resume(pid, resume_message(pid, stall.since_ms, Ed25519Signer.generate())))
        with pytest.raises(PermissionDenied):
            run(eng.resume(pid, Message(target=encode_id(pid), tags=(Tag("Action", "Resume-Compute"),))))
        with pytest.raises(InvalidArgument, match="Stalled-Since"):
            run(eng.resume(pid, resume_message(pid, stall.since_ms + 1)))
        with pytest.raises(InvalidArgument, match="Action"):
            run(eng.resume(pid, resume_message(pid, stall.since_ms, action="Eval")))
        assert eng.stall(pid) is not None
        lifted = run(eng.resume(pid, resume_message(pid, stall.since_ms)))
        assert lifted.slot == 1
        assert eng.stall(pid) is None
        with pytest.raises(NotFound):
            run(eng.resume(pid, resume_message(pid, stall.since_ms)))
        with pytest.raises(ProcessStalledError):  # tried again: the same slot stalls again
            run(eng.compute(pid, 1))
    finally:
        eng.close()


@needs_lua
def test_a_dryrun_over_the_wall_clock_does_not_stall_the_process(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, SPIN, ["fine"])
    eng = engine(mem, sched, max_wall_seconds=0.2, default_limits=HUGE)
    try:
        dry = Message(target=encode_id(pid), tags=(Tag("Action", "Test"),), data=b"spin")
        result = run(eng.dryrun(dry))
        assert "wall-clock" in result.error
        assert eng.stall(pid) is None
        assert run(eng.compute(pid, 1)).result.output.data == "ok 1"
    finally:
        eng.close()


@needs_lua
def test_halt_interrupts_a_spinning_slot_at_once(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, SPIN, ["spin"])
    eng = engine(mem, sched, max_wall_seconds=60, default_limits=HUGE)
    outcome: list[BaseException] = []

    def compute() -> None:
        try:
            run(eng.compute(pid, 1), timeout=90)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=compute)
    thread.start()
    time.sleep(0.5)  # the slot is spinning
    started = time.monotonic()
    eng.close()
    thread.join(30)
    assert time.monotonic() - started < 10  # against a 60 s wall clock
    assert len(outcome) == 1 and isinstance(outcome[0], EngineClosedError)
    with mem.read() as view:
        assert layout.read_stall(view, pid) is None  # a stop is not a stall


def test_close_is_quick_when_idle(mem: ObjectStore) -> None:
    eng = engine(mem, scheduler(mem))
    started = time.monotonic()
    eng.close()
    assert time.monotonic() - started < 2
    with pytest.raises(EngineClosedError):
        asyncio.run(eng.now(b"\0" * 32))


@needs_lua
def test_a_stalled_process_answers_at_once_while_every_thread_is_busy(mem: ObjectStore) -> None:
    """The stall is checked before a computation is admitted to a thread (docs/compute.md, Fairness: with
    every thread held by spinning processes, a stalled one still answers at once)."""
    sched = scheduler(mem)
    _, spinning = spawn_module(sched, SPIN, ["spin"])
    _, stalled = spawn_module(sched, SPIN, ["fine"])
    batch = WriteBatch()
    batch.put(layout.STALLS, stalled, layout.Stall(1, 1, 60.0, "test").encode())
    mem.submit(batch).result()
    eng = engine(mem, sched, max_wall_seconds=60, default_limits=HUGE, threads=1, max_threads=1)

    async def scenario() -> float:
        spin = asyncio.ensure_future(eng.compute(spinning, 1))
        await asyncio.sleep(0.5)  # the only thread is spinning
        started = time.monotonic()
        with pytest.raises(ProcessStalledError):
            await eng.compute(stalled, 1)
        took = time.monotonic() - started
        eng.halt()
        with pytest.raises(EngineClosedError):
            await spin
        return took

    try:
        assert run(scenario(), timeout=20) < 5  # against a 60 s wall clock held by the spinning slot
    finally:
        eng.close()
