"""The relay budget across pushes: a `push` cron task on two ping-pong processes used to loop forever
(each tick pushed the slots the last one created); the per-target budget ends it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.cron.calls import EngineCalls
from aonode.errors import ResourceExhausted
from aonode.ids import encode_id
from aonode.push import PushConfig
from aonode.push.relay import RelayBudget, RelayLimitExceeded
from store import MemoryStore
from tests.compute.lua_helpers import needs_lua
from tests.conftest import make_config
from tests.push.helpers import BOUNCE, Node, stops
from tests.scheduler.helpers import run


@needs_lua
@pytest.mark.parametrize("limit", [0, 12])
def test_a_push_task_on_ping_pong_processes_ends_at_the_relay_limit(limit: int) -> None:
    async def go() -> None:
        # Few hops per push, as a cron tick would make many pushes of short chains.
        node = Node.open(MemoryStore(), PushConfig(max_depth=3, relay_limit=limit, relay_window_ms=3_600_000))
        a, b = await node.spawn(BOUNCE), await node.spawn(BOUNCE)
        await node.send(a, "Kick", encode_id(b))
        calls = EngineCalls(node.engine, node.pusher)
        cursors = {a: 1, b: 1}  # what a `push` cron task on each process would keep
        refused: list[str] = []
        for _tick in range(40):
            moved = False
            for p in (a, b):
                first = cursors[p]
                tip = node.head(p)
                for slot in range(first, tip + 1):
                    report = await node.pusher.push(p, slot, result_depth=0)
                    refused += [s for s in stops(report.tree) if s.startswith("relay-limit")]
                cursors[p] = await calls.now(p) + 1 if tip >= first else first
                moved |= tip >= first
            if not moved:
                break
        if limit == 0:  # no guard: still going after 40 ticks (the bug)
            assert moved and node.head(a) + node.head(b) > 100
        else:
            assert not moved, "the loop did not end"
            # each process got its budget's worth of relayed messages (the kick is the user's)
            assert node.head(a) == 1 + limit and node.head(b) == limit
            assert refused and "RESOURCE_EXHAUSTED" in refused[0]
            assert f"relayed {limit} messages" in refused[0]
        await node.close()

    run(go(), timeout=120)


def test_the_budget_refills_with_time_and_forgets_full_buckets() -> None:
    now = [0.0]
    budget = RelayBudget(3, 1000, clock=lambda: now[0])
    for _ in range(3):
        budget.take(b"p", "p")
    with pytest.raises(RelayLimitExceeded) as caught:
        budget.take(b"p", "p")
    assert isinstance(caught.value, ResourceExhausted) and caught.value.status == "RESOURCE_EXHAUSTED"
    budget.take(b"q", "q")  # per target
    now[0] = 0.34  # a third of the window: one token back
    budget.take(b"p", "p")
    with pytest.raises(RelayLimitExceeded):
        budget.take(b"p", "p")
    now[0] = 10.0
    budget.take(b"r", "r")
    assert set(budget._buckets) == {b"r"}  # p and q refilled completely: forgotten
    RelayBudget(0, 1000).take(b"p", "p")  # 0: no limit


def test_the_nodes_settings_reach_the_pusher(tmp_path: Path) -> None:
    from aonode.node import Node as NodeServices

    config = make_config(tmp_path / "n", relay_limit=7, relay_window_seconds=2.5)
    node = NodeServices.open(config)
    try:
        assert (node.pusher.config.relay_limit, node.pusher.config.relay_window_ms) == (7, 2500)
    finally:
        run(node.close())
