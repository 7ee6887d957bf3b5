"""Whatever a module's compute returns, the slot ends with a Result: output that cannot be converted is that
slot's deterministic error, the state stays what it was before the slot, and the process continues."""

from __future__ import annotations

import pytest

from aonode.devices.lua import convert
from aonode.devices.lua.convert import MAX_ERROR_CHARS
from tests.devices.lua.helpers import RUNNER, LuaProc

CASES = [
    (
        "(function() local t = {} for i = 1, 200000 do t = {t} end return {output = {data = t}} end)()",
        "invalid results: results.output.data: a table is nested more than 100 levels deep",
    ),
    (
        "{outbox = {{target = 'x', data = coroutine.create(function() end)}}}",
        "invalid results: results.outbox[1].data: cannot convert a thread value to text",
    ),
    (
        "{outbox = {{target = 'x', tags = {{name = 'a', value = print}}}}}",
        "invalid results: results.outbox[1].tags[1].value: cannot convert a function value to text",
    ),
    (
        "(function() local o = {} for i = 1, 300000 do o[i] = {target = 'x', data = 'y'} end"
        " return {outbox = o} end)()",
        "invalid results: the result is too large (more than 500000 values)",
    ),
    (
        "{outbox = {{target = 'x', tags = {a = setmetatable({}, "
        "{__index = function() error('meta') end})}}}}",
        "",
    ),
    ("{output = {data = math.huge}}", ""),
    ("{output = {data = {1, 2, 3, n = 3}}}", ""),
]


@pytest.mark.parametrize(("results", "error"), CASES)
def test_bad_results_are_the_slots_error_and_the_state_is_kept(results: str, error: str) -> None:
    p = LuaProc(
        "Count = 0 function compute(base, req)"
        " if req.body.data == 'ok' then"
        "   Count = Count + 1 base.results = {output = tostring(Count)} return base"
        " end"
        " base.n = (base.n or 0) + 1"
        f" base.results = {results} return base end"
    )
    r = p.run("bad")
    assert r.error == error
    again = p.run("bad")
    assert again.error == error  # the same input, the same result
    # base.n was set on a new state only when the slot succeeded
    assert p.run("ok").output.data == "1"


def test_non_utf8_text_is_replaced_deterministically() -> None:
    p = LuaProc(
        "function compute(base) base.results = {output = {data = '\\255ok'},"
        " outbox = {{target = '\\237\\160\\128',"
        " tags = {{name = '\\255', value = '\\254'}}}}} return base end"
    )
    r = p.run("")
    assert r.error == ""
    assert r.output.data == "\ufffdok"
    assert r.messages[0].target == "\ufffd\ufffd\ufffd"
    assert (r.messages[0].tags[0].name, r.messages[0].tags[0].value) == ("\ufffd", "\ufffd")


def test_a_huge_error_text_is_cut() -> None:
    p = LuaProc(RUNNER)
    r = p.run("error(string.rep('e', 4 * 1024 * 1024), 0)")
    assert r.error == "e" * MAX_ERROR_CHARS + (
        f"... (error text cut at {MAX_ERROR_CHARS} of {4 * 1024 * 1024} characters)"
    )
    assert p.run("return 1").output.data == "1"


@pytest.mark.parametrize(
    "raw",
    [
        "not enough memory",
        b"not enough memory for buffer allocation",
        '[string "aos"]:12: not enough memory for buffer allocation',
        "[C]: not enough memory",
    ],
)
def test_every_wording_of_lua_running_out_of_memory_is_one_error_text(raw: str | bytes) -> None:
    assert convert.error_text(raw) == convert.MEMORY_ERROR
