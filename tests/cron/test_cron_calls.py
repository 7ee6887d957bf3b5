"""Path tasks (cron calling `now` or `push` on a process) on the real scheduler, compute engine, lua@5.3a
device and pusher: the path syntax, what each call does, idempotency, and persistence across a restart."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from aonode.cron import Cron, CronTask, EngineCalls, parse_path
from aonode.errors import FailedPrecondition, InvalidArgument
from aonode.ids import encode_id
from aonode.model import Tag
from store import LmdbStore, MemoryStore, ObjectStore
from tests.compute.lua_helpers import needs_lua
from tests.conftest import plain
from tests.cron.helpers import FAST, until
from tests.push.helpers import PING_SELF, Node
from tests.scheduler.helpers import NODE_KEY, run

PID = encode_id(b"p" * 32)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("now", "now"),
        ("push", "push"),
        ("/Now", "now"),
        ("PUSH/", "push"),
        (f"/{PID}/now", "now"),
        (f"/{PID}~process@1.0/push", "push"),
    ],
)
def test_path_forms(text: str, path: str) -> None:
    assert parse_path(text, PID) == path


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("compute", "unknown key 'compute'"),
        ("", "expected now or push"),
        ("now/results", "expected now or push"),
        (f"/{encode_id(b'q' * 32)}/now", "names process"),
        ("/x~process@1.0/now", "expected now or push"),
    ],
)
def test_bad_paths_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        parse_path(text, PID)


class CallsNode:
    """The push tests' node plus a Cron that can call paths on its processes."""

    def __init__(self, store: ObjectStore) -> None:
        self.node = Node.open(store)
        calls = EngineCalls(self.node.engine, self.node.pusher)
        self.cron = Cron(store, self.node.scheduler, NODE_KEY, FAST, calls=calls)

    async def start(self) -> CallsNode:
        await self.cron.start()
        return self

    async def close(self) -> None:
        await self.cron.close()
        await self.node.close()


@needs_lua
def test_now_task_keeps_results_current() -> None:
    async def go() -> None:
        n = await CallsNode(MemoryStore()).start()
        p = await n.node.spawn("")
        for i in range(3):
            await n.node.send(p, "Eval", f"return {i} + 40")
        task = await n.cron.every(encode_id(p), "100-milliseconds", path="now")
        assert task.path == "now" and task.cursor == 0

        async def computed_to(slot: int) -> bool:
            return (
                n.node.engine.stored_result(p, slot) is not None and n.cron.get(task.task).cursor == slot + 1
            )

        await until(lambda: computed_to(3))  # nobody but the task asked for a compute
        assert plain(n.node.engine.stored_result(p, 3).result.output.data) == "42"  # type: ignore[union-attr]
        await n.node.send(p, "Eval", "return 7 * 6")
        await until(lambda: computed_to(4))
        assert n.node.head(p) == 4  # a call schedules nothing
        await n.close()

    run(go())


@needs_lua
def test_push_task_delivers_every_outbox_once() -> None:
    async def go() -> None:
        n = await CallsNode(MemoryStore()).start()
        p = await n.node.spawn(PING_SELF)
        await n.node.send(p, "Ping", "", ("Count", "1"))  # scheduled, not pushed: the task does it
        task = await n.cron.every(encode_id(p), "100-milliseconds", path=f"/{encode_id(p)}~process@1.0/push")
        assert task.path == "push"

        async def done() -> bool:
            return n.node.head(p) == 10 and n.cron.get(task.task).cursor == 11

        await until(done)
        outputs = await n.node.outputs(p)
        assert outputs[10] == "Done." and "Done." not in outputs[:10]
        runs = n.cron.get(task.task).runs
        await until(lambda: n.cron.get(task.task).runs >= runs + 3)
        assert n.node.head(p) == 10  # later calls find every outbox delivered: nothing twice
        await n.close()

    run(go())


@needs_lua
def test_path_task_survives_a_restart(tmp_path: Path) -> None:
    async def go() -> None:
        n = await CallsNode(LmdbStore(tmp_path, map_size=64 << 20)).start()
        p = await n.node.spawn("")
        await n.node.send(p, "Eval", "return 1")
        task = await n.cron.every(encode_id(p), "100-milliseconds", path="now")
        await until(lambda: n.cron.get(task.task).cursor == 2)
        await n.close()
        n.node.store.close()

        n = await CallsNode(LmdbStore(tmp_path, map_size=64 << 20)).start()
        [again] = n.cron.list_tasks()
        assert again.task == task.task and again.path == "now" and again.cursor == 2
        await n.node.send(p, "Eval", "return 2")
        await until(lambda: n.cron.get(task.task).cursor == 3)
        assert CronTask.decode(again.encode()) == again
        await n.close()
        n.node.store.close()

    run(go())


@needs_lua
def test_path_task_errors() -> None:
    async def go() -> None:
        n = await CallsNode(MemoryStore()).start()
        p = encode_id(await n.node.spawn(""))
        with pytest.raises(InvalidArgument, match="no tags and no data"):
            await n.cron.every(p, "1-second", path="now", tags=[Tag("Action", "X")])
        with pytest.raises(InvalidArgument, match="no tags and no data"):
            await n.cron.once(p, delay="1-second", path="push", data=b"x")
        with pytest.raises(InvalidArgument, match="unknown key"):
            await n.cron.every(p, "1-second", path="snapshot")
        # A call on a process this node does not schedule fails, backs off and says why.
        nowhere = encode_id(secrets.token_bytes(32))
        task = await n.cron.every(nowhere, "10-milliseconds", path="now")
        await until(lambda: n.cron.get(task.task).failures >= 2)
        failed = n.cron.get(task.task)
        assert failed.last_error.startswith("NOT_FOUND") and failed.runs == 0
        await n.close()

        plain = Cron(MemoryStore(), n.node.scheduler, NODE_KEY, FAST)  # no calls port
        with pytest.raises(FailedPrecondition, match="cannot call process paths"):
            await plain.every(p, "1-second", path="now")

    run(go())
