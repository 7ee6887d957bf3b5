"""Hostile input aimed at Lua processes (lua@5.3a and the built-in AOS runtime), over gRPC against a node in
its own OS process (`LocalNode`): a Lua PANIC aborts the node process, which must fail the case, not
kill pytest.

Each case attacks, asserts the slot's deterministic error (or the status), then checks that the node
is SERVING and that the attacked process still computes an Eval from its owner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message
from aonode.devices.lua.device import too_large_error
from aonode.model import Message, Tag
from aonode.testing import LocalNode
from tests.conftest import plain
from tests.hostile.support import (
    ATTACKER,
    OWNER,
    assert_node_healthy,
    assert_process_computes,
    spawn_aos,
)

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    data = tmp_path_factory.mktemp("hostile-lua") / "node"
    with LocalNode(data).start() as running:
        yield running


@pytest.fixture
def client(node: LocalNode) -> Iterator[NodeClient]:
    with NodeClient(node.address) as c:
        yield c


def _eval(client: NodeClient, pid: str, code: str, signer: object = OWNER) -> tuple[int, str, str]:
    """Schedule an Eval and compute it: (slot, error, output data)."""
    message = build_message(signer, pid, action="Eval", data=code.encode())  # type: ignore[arg-type]
    slot = client.schedule(message).slot
    result = client.compute(pid, slot).result
    return slot, result.error, plain(result.output.data)


def _after(node: LocalNode, client: NodeClient, pid: str) -> None:
    assert node.proc is not None and node.proc.poll() is None, "the node process ended"
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


# -- memory: Lua's unprotected "not enough memory" PANIC aborted the node -----------------------------


def test_an_unsigned_dryrun_larger_than_the_memory_limit(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "8-mb")])
    _eval(client, pid, "return 1")
    message = Message(target=pid, tags=(Tag("Action", "Big"),), data=b"x" * (9 * MiB))
    result = client.dryrun(message)
    assert result.error == too_large_error(9 * MiB + 9, 8 * MiB)
    _after(node, client, pid)


def test_a_scheduled_message_larger_than_the_memory_limit_then_a_restart(
    node: LocalNode, client: NodeClient
) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "8-mb")])
    big = build_message(ATTACKER, pid, action="Big", data=b"x" * (9 * MiB))
    slot = client.schedule(big).slot
    error = client.compute(pid, slot).result.error
    assert error.startswith("the message (") and error.endswith(
        "is larger than the process's memory limit (8388608 bytes)"
    )
    assert client.now(pid).slot == slot
    _after(node, client, pid)
    # a `now` cron task on the process: before the fix the node died again on every restart
    task = client.cron_every(OWNER, pid, "1-seconds", path="now")
    # after a restart the process is rebuilt by replaying the schedule, the big slot included
    node.stop()
    node.start()
    with NodeClient(node.address) as again:
        assert again.compute(pid, slot).result.error == error
        time.sleep(2.5)  # a few ticks of the cron task
        assert_process_computes(again, pid)
        again.cron_stop(OWNER, task.task)
    _after(node, client, pid)


def test_messages_that_fill_what_the_state_leaves(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "16-mb")])
    # a handler that keeps every message: the state grows towards the limit with each one
    _, error, _ = _eval(
        client, pid, "Kept = {} Handlers.add('keep', 'Keep', function(m) Kept[#Kept + 1] = m.Data end)"
    )
    assert error == ""
    errors = []
    for _ in range(5):
        m = build_message(ATTACKER, pid, action="Keep", data=b"k" * (4 * MiB))
        errors.append(client.compute(pid, client.schedule(m).slot).result.error)
    assert "memory limit exceeded" in errors
    assert all(e in ("", "memory limit exceeded") for e in errors)
    _after(node, client, pid)
    assert _eval(client, pid, "Kept = {} return 'emptied'")[1:] == ("", "emptied")


def test_a_stranger_cannot_fill_memory_through_the_inbox(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "16-mb")])
    for _ in range(6):
        m = build_message(ATTACKER, pid, action="Spam", data=b"s" * (3 * MiB))
        assert client.compute(pid, client.schedule(m).slot).result.error == ""
    # a quarter of the limit: one 3 MiB message at a time
    assert _eval(client, pid, "return #Inbox")[1:] == ("", "1")
    _after(node, client, pid)


def test_eval_that_fills_memory(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "16-mb")])
    code = "T = {} local i = 0 while true do i = i + 1 T[i] = tostring(i) .. string.rep('m', 100) end"
    assert _eval(client, pid, code)[1] == "memory limit exceeded"
    _after(node, client, pid)


# -- budget: library calls are charged for the bytes they touch ---------------------------------------


def test_upper_of_a_big_string_in_a_loop_hits_the_instruction_budget(
    node: LocalNode, client: NodeClient
) -> None:
    pid = spawn_aos(client)
    code = "local s = string.rep('a', 8 * 1024 * 1024) for i = 1, 2000 do local u = s:upper() end"
    assert _eval(client, pid, code)[1] == "instruction limit exceeded"
    _after(node, client, pid)


@pytest.mark.parametrize(
    "code",
    [
        "local s = string.rep('a', 8 * 1024 * 1024) for i = 1, 2000 do local u = s:sub(2) end",
        "local s = string.rep('a', 8 * 1024 * 1024) for i = 1, 2000 do local u = s:reverse() end",
        "local t = {} for i = 1, 200000 do t[i] = 'x' end for i = 1, 2000 do local u = table.concat(t) end",
        "local s = string.rep('a', 8 * 1024 * 1024) for i = 1, 2000 do local u = s:gsub('b', 'c') end",
    ],
    ids=["sub", "reverse", "table.concat", "gsub"],
)
def test_library_loops_hit_the_instruction_budget(node: LocalNode, client: NodeClient, code: str) -> None:
    pid = spawn_aos(client)
    assert _eval(client, pid, code)[1] == "instruction limit exceeded"
    _after(node, client, pid)


def test_a_spin_hits_the_instruction_budget(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client)
    assert _eval(client, pid, "while true do pcall(function() while true do end end) end")[1] == (
        "instruction limit exceeded"
    )
    _after(node, client, pid)


def test_string_rep_over_the_cap(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "16-mb")])
    _, error, _ = _eval(client, pid, "return string.rep('x', 1 << 30)")
    assert error.endswith("string.rep: a result of 1073741824 bytes is over the 8388608-byte limit")
    _after(node, client, pid)


# -- the Owner's Eval cannot be locked out ---------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "Handlers = nil",
        "print = nil",
        "compute = function() error({}) end",
        "compute = nil while true do end",
        "setmetatable(_G, {__index = function() error('no') end, __newindex = function() error('no') end})",
        "table = nil string = nil coroutine = nil",
        "Handlers.list = 5",
        "ao.isTrusted = function() return false end",
        "ao = setmetatable({}, {__pairs = function() while true do end end})",
    ],
)
def test_the_owner_can_still_eval_after(node: LocalNode, client: NodeClient, attack: str) -> None:
    pid = spawn_aos(client)
    _eval(client, pid, attack)  # the attack's own slot may succeed or fail
    _after(node, client, pid)


def test_a_strangers_eval_runs_nothing(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client)
    _, error, output = _eval(client, pid, "Handlers = nil", signer=ATTACKER)
    assert error == "" and output.startswith("New Message From ")
    assert _eval(client, pid, "return type(Handlers)")[1:] == ("", "table")
    _after(node, client, pid)


# -- bad output from process code is that slot's error -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_part"),
    [
        ("local t = {} t.self = t Send({Target = ao.id, Data = t})", "circular reference"),
        ("local t = {} for i = 1, 200000 do t = {t} end Send({Target = ao.id, Data = t})", "stack overflow"),
        ("local t = {} for i = 1, 200000 do t = {t} end return t", "memory limit exceeded"),
        # the Lua stack (1M slots) or the memory limit, whichever comes first: both deterministic
        ("local function f() return f() + 1 end return f()", "stack overflow|memory limit exceeded"),
        ("Send({Target = ao.id, Data = 'x', Bad = 0/0, F = print})", None),
    ],
    ids=["cycle", "deep nesting", "deep return value", "stack overflow", "nan and function tags"],
)
def test_bad_output_is_the_slots_error(
    node: LocalNode, client: NodeClient, code: str, error_part: str | None
) -> None:
    pid = spawn_aos(client, tags=[("Memory-Limit", "64-mb")])
    slot, error, _ = _eval(client, pid, code)
    if error_part is None:
        assert error == ""
    else:
        assert any(part in error for part in error_part.split("|")), error
    # the same slot computes to the same result again (deterministic)
    assert client.compute(pid, slot).result.error == error
    _after(node, client, pid)


def test_non_utf8_output_is_replaced_not_fatal(node: LocalNode, client: NodeClient) -> None:
    pid = spawn_aos(client)
    _, error, output = _eval(
        client, pid, r"Send({Target = ao.id, Data = '\255\254', X = '\237\160\128'}) return '\255'"
    )
    assert error == "" and output == "\ufffd"
    _after(node, client, pid)


def test_the_log_has_no_panic(node: LocalNode) -> None:
    log = Path(f"{node.data}.log")
    assert "PANIC" not in log.read_text(errors="replace")
