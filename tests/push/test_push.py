"""Push in one process: ping-pong (self and between two processes), spawns, bounds, idempotency and resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aonode.errors import InvalidArgument, NotFound
from aonode.ids import decode_id, encode_id
from aonode.push import PushConfig, Pusher, PushReport
from store import LmdbStore, MemoryStore
from tests.compute.lua_helpers import needs_lua
from tests.push.helpers import BOUNCE, PING_SELF, Node, deliveries, stops
from tests.scheduler.helpers import run

pytestmark = needs_lua

PONG = """
Handlers.add("ping", "Ping", function(msg) msg.reply({Action = "Pong"}) end)
"""

PINGER = """
Handlers.add("start", "Start", function(msg) Send({Target = msg.Data, Action = "Ping"}) end)
Handlers.add("pong", "Pong", function(msg) print("GOT PONG") end)
"""

CHILD = 'Handlers.add("hello", "Hello", function(msg) print("HELLO FROM " .. msg.From) end)'

SPAWNER = (
    """
Handlers.add("make", "Make", function(msg)
  Spawn(ao._module, {Data = [==["""
    + CHILD
    + """]==], ["On-Boot"] = "Data", Authority = msg.Data}).onReply(function(reply)
    Send({Target = reply.Process, Action = "Hello"})
    print("SPAWNED " .. reply.Process)
  end)
end)
"""
)


def test_ping_pong_with_itself_ends_done() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        p = await node.spawn(PING_SELF)
        first = await node.send(p, "Ping", "", ("Count", "1"))
        report = await node.pusher.push(p, first)
        assert report.state == "done" and report.delivered == 9 and not stops(report.tree)
        assert node.head(p) == 10  # slot 0 the Process, 1 the user's Ping, 2..10 its own
        assert [n.slot for n in deliveries(report.tree)] == list(range(2, 11))
        outputs = await node.outputs(p)
        assert outputs[10] == "Done." and "Done." not in outputs[:10]
        last = deliveries(report.tree)[-1]
        assert last.result is not None and last.result.output.data == "Done."
        message = node.scheduler.get_message(node.scheduler.read_assignments(p, 5, 1)[0].message)
        assert message.tag_values("From-Process") == [encode_id(p)]
        assert message.owner_address == node.scheduler.address
        await node.close()

    run(go())


def test_two_processes_ping_pong() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        ponger = await node.spawn(PONG)
        pinger = await node.spawn(PINGER)
        slot = await node.send(pinger, "Start", encode_id(ponger))
        report = await node.pusher.push(pinger, slot)
        assert report.state == "done" and report.delivered == 2
        ping = deliveries(report.tree)[0]
        assert ping.process == encode_id(ponger) and ping.slot == 1
        pong = ping.children[0]
        assert pong.process == encode_id(pinger) and pong.slot == 2
        assert pong.result is not None and pong.result.output.data == "GOT PONG"
        await node.close()

    run(go())


def test_spawn_then_message_the_child_in_the_same_push() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        parent = await node.spawn(SPAWNER)
        slot = await node.send(parent, "Make", node.scheduler.address)
        report = await node.pusher.push(parent, slot, result_depth=2)
        assert report.state == "done", report.error
        spawn, notice = report.tree.children
        assert spawn.kind == "spawn" and spawn.slot == 0
        assert notice.kind == "spawned" and notice.process == encode_id(parent)
        child = spawn.process
        process = node.scheduler.get_message(
            node.scheduler.read_assignments(decode_id(child), 0, 1)[0].message
        )
        assert process.tag("From-Process") == encode_id(parent)
        assert process.tag("Scheduler") == node.scheduler.address  # filled in: scheduled here
        assert process.tag("Module") is not None
        hello = notice.children[0]
        assert hello.kind == "message" and hello.process == child and hello.slot == 1
        assert hello.result is not None and hello.result.output.data == f"HELLO FROM {encode_id(parent)}"
        assert notice.result is not None and f"SPAWNED {child}" in notice.result.output.data
        await node.close()

    run(go())


INLINE_CHILD = (
    "function compute(base, req) base.results = {output = {data = 'inline ' .. req.slot}} return base end"
)
INLINE_SPAWNER = (
    """
Handlers.add("make", "Make", function(msg)
  table.insert(ao.outbox.Spawns, {Target = "", Anchor = "inline-child", Data = [==["""
    + INLINE_CHILD
    + """]==],
    Tags = {{name = "Content-Type", value = "text/x-lua"}}})
end)
"""
)


def test_a_spawn_carrying_its_own_lua_code_does_not_inherit_the_parents_module() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        parent = await node.spawn(INLINE_SPAWNER)
        slot = await node.send(parent, "Make", "")
        report = await node.pusher.push(parent, slot, result_depth=2)
        assert report.state == "done", report.error
        (spawn,) = [c for c in report.tree.children if c.kind == "spawn"]
        child = decode_id(spawn.process)
        process = node.scheduler.get_message(child)
        assert process.tag("Module") is None and process.tag("Execution-Device") is None
        assert process.tag("From-Process") == encode_id(parent)
        computed = await node.engine.compute(child, 0)
        assert computed.result.error == "" and computed.result.output.data == "inline 0"
        await node.close()

    run(go())


def test_endless_bounce_stops_at_the_hop_bound() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        a = await node.spawn(BOUNCE)
        b = await node.spawn(BOUNCE)
        slot = await node.send(a, "Kick", encode_id(b))
        report = await node.pusher.push(a, slot, result_depth=0)
        assert report.state == "done" and report.delivered == 32
        assert len(stops(report.tree)) == 1 and stops(report.tree)[0].startswith("hop-limit")
        assert node.head(a) + node.head(b) == 1 + 32  # the kick, then 32 bounces
        await node.close()

    run(go())


def test_pair_bound_cuts_ping_pong_when_hops_allow_more() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        a = await node.spawn(BOUNCE)
        b = await node.spawn(BOUNCE)
        slot = await node.send(a, "Kick", encode_id(b))
        pusher = node.with_config(PushConfig(max_depth=1000, max_pair=5))
        report = await pusher.push(a, slot, result_depth=0)
        assert report.delivered == 10
        assert [s.split(":")[0] for s in stops(report.tree)] == ["cycle"]
        await node.close()

    run(go())


def test_fan_out_and_root_budgets() -> None:
    burst = """
Handlers.add("burst", "Burst", function(msg)
  for i = 1, tonumber(msg.Data) do Send({Target = ao.id, Action = "Noop", N = tostring(i)}) end
end)
Handlers.add("noop", "Noop", function(msg) end)
"""

    async def go() -> None:
        node = Node.open(MemoryStore())
        p = await node.spawn(burst)
        slot = await node.send(p, "Burst", "8")
        report = await node.with_config(PushConfig(max_fanout=5)).push(p, slot, result_depth=0)
        assert report.delivered == 5 and report.tree.stopped.startswith("fan-out")
        again = await node.with_config(PushConfig(max_per_root=3)).push(p, slot, result_depth=0)
        assert again.existing == 3 and again.delivered == 0 and again.tree.stopped.startswith("root-budget")
        rest = await node.pusher.push(p, slot, result_depth=0)
        assert rest.existing == 5 and rest.delivered == 3 and not stops(rest.tree)
        assert node.head(p) == 1 + 8
        await node.close()

    run(go())


def test_pushing_twice_delivers_nothing_twice(tmp_path: Path) -> None:
    async def go() -> None:
        node = Node.open(LmdbStore(tmp_path / "s"))
        p = await node.spawn(PING_SELF)
        first = await node.send(p, "Ping", "", ("Count", "1"))
        one = await node.pusher.push(p, first)
        two = await node.pusher.push(p, first)
        assert one.delivered == 9 and two.delivered == 0 and two.existing == 9
        assert [n.message_id for n in deliveries(one.tree)] == [n.message_id for n in deliveries(two.tree)]
        assert node.head(p) == 10
        await node.close()
        node.store.close()

    run(go())


def test_interrupted_push_resumes_after_restart(tmp_path: Path) -> None:
    """A push cut short (here by the root budget, as a crash would) is finished by pushing the root
    again on a reopened store: every message delivered exactly once."""
    path = tmp_path / "s"

    async def first() -> tuple[bytes, int]:
        node = Node.open(LmdbStore(path))
        p = await node.spawn(PING_SELF)
        slot = await node.send(p, "Ping", "", ("Count", "1"))
        report = await node.with_config(PushConfig(max_per_root=4)).push(p, slot)
        assert report.delivered == 4 and node.head(p) == 5
        await node.close()
        node.store.close()
        return p, slot

    p, slot = run(first())

    async def second() -> None:
        node = Node.open(LmdbStore(path))
        report = await node.pusher.push(p, slot)
        assert report.existing == 4 and report.delivered == 5
        assert node.head(p) == 10 and (await node.outputs(p))[10] == "Done."
        await node.close()
        node.store.close()

    run(second())


def test_async_push_and_unknown_push_id() -> None:
    async def go() -> None:
        node = Node.open(MemoryStore())
        p = await node.spawn(PING_SELF)
        slot = await node.send(p, "Ping", "", ("Count", "1"))
        started = await node.pusher.start(p, slot)
        assert node.pusher.get(started.push_id).state == "running"
        for _ in range(500):
            if node.pusher.get(started.push_id).state != "running":
                break
            await asyncio.sleep(0.01)
        done = node.pusher.get(started.push_id)
        assert done.state == "done" and done.delivered == 9
        with pytest.raises(InvalidArgument):
            node.pusher.get("nope")
        with pytest.raises(NotFound):
            node.pusher.get(encode_id(bytes(32)))
        await node.close()

    run(go())


def test_outbox_message_without_a_valid_target_is_recorded() -> None:
    bad = 'Handlers.add("bad", "Bad", function(msg) Send({Target = "not-a-process", Action = "X"}) end)'

    async def go() -> None:
        node = Node.open(MemoryStore())
        p = await node.spawn(bad)
        slot = await node.send(p, "Bad")
        report = await node.pusher.push(p, slot)
        assert report.state == "done" and report.delivered == 0
        (child,) = report.tree.children
        assert child.slot is None and child.stopped.startswith("error")
        await node.close()

    run(go())


def test_async_push_records_outlive_a_restart_and_are_bounded(tmp_path: Path) -> None:
    """GetPush answers from the record after a restart (state, counts, the whole tree with results); only
    the newest `max_pushes_kept` finished records are kept."""
    path = tmp_path / "s"

    async def wait_done(pusher: Pusher, push_id: str) -> PushReport:
        for _ in range(1000):
            report = pusher.get(push_id)
            if report.state != "running":
                return report
            await asyncio.sleep(0.01)
        raise AssertionError("push did not finish")

    async def first() -> tuple[list[str], PushReport]:
        node = Node.open(LmdbStore(path))
        pusher = node.with_config(PushConfig(max_pushes_kept=2))
        p = await node.spawn(PING_SELF)
        ids = []
        for count in ("7", "8", "9"):
            slot = await node.send(p, "Ping", "", ("Count", count))
            ids.append((await pusher.start(p, slot, result_depth=2)).push_id)
            last = await wait_done(pusher, ids[-1])
        await node.close()
        node.store.close()
        return ids, last

    ids, last = run(first())

    async def second() -> None:
        node = Node.open(LmdbStore(path))
        assert await node.pusher.resume() == 0  # nothing was interrupted
        with pytest.raises(NotFound):
            node.pusher.get(ids[0])  # the oldest of three, beyond max_pushes_kept = 2
        stored = node.pusher.get(ids[2])
        assert stored.state == "done" and stored.delivered == last.delivered == 1
        assert stored.tree.to_json() == last.tree.to_json()  # results included (result_depth 2)
        assert deliveries(stored.tree)[-1].result == deliveries(last.tree)[-1].result
        assert node.pusher.get(ids[1]).state == "done"
        await node.close()
        node.store.close()

    run(second())
