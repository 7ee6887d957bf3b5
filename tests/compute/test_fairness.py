"""Slow processes cannot starve the others: a computation leaves its fast lane after `slow_after`, so a
trivial compute of an idle process starts at once while two processes spin on every compute thread the
old fixed pool had (docs/compute.md, Fairness)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from aonode.compute.errors import EngineClosedError, ProcessStalledError
from aonode.compute.lanes import DaemonPool, Lanes
from aonode.devices.base import Limits
from store import ObjectStore
from tests.compute.helpers import engine, run, scheduler
from tests.compute.lua_helpers import COUNTER_MODULE, needs_lua, spawn_module
from tests.compute.test_wall_clock import SPIN


@needs_lua
def test_an_idle_process_computes_while_two_others_spin(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, spin_a = spawn_module(sched, SPIN, ["spin"])
    _, spin_b = spawn_module(sched, SPIN, ["spin"])
    _, idle = spawn_module(sched, COUNTER_MODULE, ["x"])
    eng = engine(mem, sched, threads=2, max_wall_seconds=30, default_limits=Limits(instructions=10**13))

    async def scenario() -> float:
        spinning = [asyncio.ensure_future(eng.compute(p, 1)) for p in (spin_a, spin_b)]
        await asyncio.sleep(0.6)  # both hold a thread, past slow_after
        assert not any(t.done() for t in spinning)
        started = time.monotonic()
        result = await eng.compute(idle, 1)
        elapsed = time.monotonic() - started
        assert result.result.output.data == "slot 1 n 2"
        eng.halt()
        for outcome in await asyncio.gather(*spinning, return_exceptions=True):
            assert isinstance(outcome, EngineClosedError)
        return elapsed

    try:
        elapsed = run(scenario(), timeout=60)
    finally:
        eng.close()
    # Before: both threads were held until the wall clock (30 s here). Generous for a loaded machine.
    assert elapsed < 3.0
    assert eng.stats()["went_slow"] >= 2


@needs_lua
def test_a_stalled_process_answers_at_once_under_load(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, spin = spawn_module(sched, SPIN, ["spin", "spin"])
    eng = engine(mem, sched, max_wall_seconds=0.3, default_limits=Limits(instructions=10**13))
    try:
        with pytest.raises(ProcessStalledError):
            run(eng.now(spin))
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(ProcessStalledError):
                run(eng.now(spin))
        assert time.monotonic() - started < 3.0  # 20 x 0.3 s if each retried the slot
    finally:
        eng.close()


def test_lanes_admit_past_slow_computations() -> None:
    async def scenario() -> None:
        lanes = Lanes(fast=1, total=2, slow_after=0.05)
        first = await lanes.acquire()
        waiter = asyncio.ensure_future(lanes.acquire())
        await asyncio.sleep(0.01)
        assert not waiter.done()  # the only fast lane is young
        await asyncio.sleep(0.1)
        second = await asyncio.wait_for(waiter, 1)  # the first went slow
        third = asyncio.ensure_future(lanes.acquire())
        await asyncio.sleep(0.1)
        assert not third.done()  # total reached, though `second` went slow too
        lanes.release(first)
        lanes.release(await asyncio.wait_for(third, 1))
        lanes.release(second)
        assert (lanes.fast, lanes.running, lanes.waiting()) == (0, 0, 0)

    asyncio.run(scenario())


def test_daemon_pool_never_blocks_on_a_stuck_thread() -> None:
    pool = DaemonPool(2, "test-pool")
    stuck = pool.submit(time.sleep, 30)
    assert pool.submit(lambda: 7).result(5) == 7
    started = time.monotonic()
    assert pool.shutdown(0.2) is False  # the stuck one is left to the interpreter's exit (a daemon)
    assert time.monotonic() - started < 2
    assert not stuck.done()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: 1)


def test_compute_config_from_the_nodes_toml_table() -> None:
    from aonode.compute import ComputeConfig

    config = ComputeConfig.from_mapping(
        {"threads": 3, "max-threads": "8", "slow_after": 0.5, "operators": "a, b", "max_wall_seconds": 2},
        operators=("node",),
        snapshot_every=10,
    )
    assert (config.threads, config.max_threads, config.slow_after, config.max_wall_seconds) == (
        3,
        8,
        0.5,
        2.0,
    )
    assert config.operators == ("node", "a", "b") and config.snapshot_every == 10
    for bad in ({"thread": 1}, {"threads": 4, "max_threads": 2}, {"max_wall_seconds": 0}, {"slow_after": 0}):
        with pytest.raises(ValueError):
            ComputeConfig.from_mapping(bad)


def test_a_bad_compute_table_refuses_to_start_the_node(tmp_path: Path) -> None:
    from aonode.config import ConfigError
    from aonode.node import Node
    from tests.conftest import make_config

    with pytest.raises(ConfigError, match=r"\[compute\]: compute config: unknown setting"):
        Node.open(make_config(tmp_path / "n", extra={"compute": {"bogus": 1}}))
