"""A Lua process whose module is inline (no `Module` tag; the Process's data is the Lua source, Content-Type
`text/x-lua` or `application/lua`), computed end to end: on the engine with LMDB, and through a real node."""

from __future__ import annotations

from pathlib import Path

from aonode.client import NodeClient, build_message
from aonode.crypto import Ed25519Signer, sign_message
from aonode.ids import encode_id
from aonode.model import Message, Tag
from store import LmdbStore
from tests.compute.helpers import engine, run, scheduler, send, spawn
from tests.compute.lua_helpers import COUNTER_MODULE, needs_lua
from tests.conftest import ServerThread
from tests.scheduler.helpers import CLIENT_KEY

pytestmark = needs_lua

# The module sees its own definition: `base.process` is the Process message, its data the module's source.
SELF_AWARE = (
    COUNTER_MODULE
    + """
local inner = compute
function compute(base, req, opts)
  base = inner(base, req, opts)
  local own = base.process.data:find("local inner = compute", 1, true) ~= nil
  base.results.output.data = base.results.output.data .. " " .. tostring(own)
    .. " " .. tostring(base["content-type"])
  return base
end
"""
)


def _inline(source: str, content_type: str = "text/x-lua") -> Message:
    tags = (
        Tag("Type", "Process"),
        Tag("Execution-Device", "lua@5.3a"),
        Tag("Content-Type", content_type),
    )
    return sign_message(Message(tags=tags, data=source.encode()), CLIENT_KEY)


def test_an_inline_module_computes_and_replays_the_same(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "db")
    sched = scheduler(store)
    pid = run(spawn(sched, _inline(SELF_AWARE), [f"m{i}" for i in range(5)]))
    eng = engine(store, sched)
    try:
        r = run(eng.now(pid))
        assert (r.slot, r.result.error) == (5, "")
        assert r.result.output.data == "slot 5 n 6 true text/x-lua"
        first = [eng.stored_result(pid, s) for s in range(6)]
    finally:
        eng.close()
    # A fresh engine replays the process from its inline module and finds every stored result again.
    eng = engine(store, sched)
    try:
        run(send(sched, pid, ["late"], 100))
        r = run(eng.now(pid))
        assert r.result.output.data == "slot 6 n 7 true text/x-lua"
        assert eng.stats()["verified"] == 6
        assert [eng.stored_result(pid, s) for s in range(6)] == first
    finally:
        eng.close()
        sched.close()
        store.close()


def test_an_inline_module_through_a_node(server: ServerThread) -> None:
    user = Ed25519Signer.generate()
    with NodeClient(server.address, timeout=60) as client:
        tags = (
            Tag("Data-Protocol", "ao"),
            Tag("Type", "Process"),
            Tag("Scheduler", client.info().address),
            Tag("Execution-Device", "lua@5.3a"),
            Tag("Content-Type", "application/lua"),
        )
        process = sign_message(Message(tags=tags, data=COUNTER_MODULE.encode()), user)
        client.schedule(process)
        pid = encode_id(process.id)
        for i in range(3):
            client.schedule(build_message(user, pid, action="Tick", data=f"t{i}".encode()))
        latest = client.now(pid)
        assert (latest.slot, latest.result.error) == (3, "")
        assert latest.result.output.data == "slot 3 n 4"
        assert client.compute(pid, 1).result.output.data == "slot 1 n 2"
