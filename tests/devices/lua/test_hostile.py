"""Hostile process code: each case ends its slot with an error Result (or harmlessly) within its budget, and
the next slot of the same process computes normally."""

from __future__ import annotations

import time

import pytest

from aonode.devices.base import Limits
from aonode.devices.lua.sandbox import REMOVED, SANDBOX_COPY, SANDBOX_HOST
from tests.devices.lua.helpers import RUNNER, LuaProc

BUDGET = 1_000_000
LIMITS = Limits(instructions=BUDGET, memory_bytes=32 * 1024 * 1024, wall_seconds=20.0)
LIMIT = "instruction limit exceeded"
NESTING = "nesting limit exceeded (pcall/xpcall/coroutine.resume deeper than 64)"

CASES: dict[str, tuple[str, str]] = {
    # name: (code, expected error; "" = the slot succeeds harmlessly; "*x" = ends with x)
    "spin": ("while true do end", LIMIT),
    "pcall spin": ("local function spin() while true do end end while true do pcall(spin) end", LIMIT),
    "recursive pcall livelock": ("local function f() while true do pcall(f) end end f()", LIMIT),
    "xpcall with spinning handler": (
        "while true do xpcall(function() while true do end end, function() while true do end end) end",
        LIMIT,
    ),
    "recursive xpcall": ("local function f() while true do xpcall(f, f) end end f()", LIMIT),
    "coroutine spin": (
        "local co = coroutine.create(function() while true do end end) "
        "while true do coroutine.resume(co) end",
        LIMIT,
    ),
    "coroutine.wrap spin": (
        "while true do pcall(coroutine.wrap(function() while true do end end)) end",
        LIMIT,
    ),
    # 5.3's coroutine.wrap prefixes the caller's position at every level it passes the error through
    "coroutine.wrap nesting": (
        "local function g() return coroutine.wrap(function() g()() end) end g()()",
        "*" + NESTING,
    ),
    "recursive coroutines in pcall": (
        "local function f() while true do local co = coroutine.create(function() pcall(f) end) "
        "coroutine.resume(co) end end f()",
        LIMIT,
    ),
    "metamethod recursion": (
        "local t = setmetatable({}, {__index = function(t, k) "
        "while true do pcall(function() return t[k] end) end end}) "
        "return t.x",
        LIMIT,
    ),
    "gsub callback recursion": (
        "local function f() while true do pcall(string.gsub, 'aaa', 'a', function() f() end) end end f()",
        LIMIT,
    ),
    "sort comparator spin": ("table.sort({3, 2, 1}, function(a, b) while true do end end)", LIMIT),
    "__tostring of the error spins": (
        "error(setmetatable({}, {__tostring = function() while true do end end}))",
        LIMIT,
    ),
    "string.rep of 1 GiB": (
        "return #string.rep('x', 1024 * 1024 * 1024)",
        "slot:1: string.rep: a result of 1073741824 bytes is over the 16777216-byte limit",
    ),
    "string.rep method of 1 GiB": (
        "local s = ('x'):rep(1024 * 1024 * 1024) return #s",
        "slot:1: string.rep: a result of 1073741824 bytes is over the 16777216-byte limit",
    ),
    "string.rep in a loop": ("while true do local s = string.rep('x', 1000000) end", LIMIT),
    "table.move over a huge range": ("table.move({}, 1, math.maxinteger - 1, 2)", LIMIT),
    "table.concat in a loop": (
        "local t = {} for i = 1, 1000 do t[i] = string.rep('y', 1000) end while true do table.concat(t) end",
        LIMIT,
    ),
    "exponential pattern": ("return (('a'):rep(24)):find(('a?'):rep(24) .. ('a'):rep(24))", LIMIT),
    "quadratic pattern": ("return (('a'):rep(50000)):find('a*b')", LIMIT),
    "pattern in gmatch": ("for x in (('a'):rep(30)):gmatch(('a?'):rep(30) .. ('a'):rep(30)) do end", LIMIT),
    "load with an endless reader": ("return load(function() return 'x = 1 ' end)", LIMIT),
    "deep recursion": ("local function f() return 1 + f() end return f()", "memory limit exceeded"),
    "binary chunk": (
        "local f, e = load('\\27Lua\\83\\0\\25\\147\\13\\10\\26\\10\\4\\8\\4\\8') assert(f, e)",
        "slot:1: attempt to load a binary chunk (mode is 't')",
    ),
    "string.dump": ("return string.dump(print)", "slot:1: attempt to call a nil value (field 'dump')"),
    "python": ("return python.eval('1')", "slot:1: attempt to index a nil value (global 'python')"),
    "package.loaded.python": (
        "return package.loaded.python.eval('1')",
        "slot:1: attempt to index a nil value (field 'python')",
    ),
    "debug": ("return debug.getinfo(1)", "slot:1: attempt to index a nil value (global 'debug')"),
    "io": ("return io.open('/etc/passwd')", "slot:1: attempt to index a nil value (global 'io')"),
    "os.execute": ("return os.execute('true')", "slot:1: attempt to call a nil value (field 'execute')"),
    "os.exit": ("os.exit(1)", "slot:1: attempt to call a nil value (field 'exit')"),
    "os.getenv": ("return os.getenv('HOME')", "slot:1: attempt to call a nil value (field 'getenv')"),
    "package.loadlib": (
        "return package.loadlib('libc.so.6', 'system')",
        "slot:1: attempt to call a nil value (field 'loadlib')",
    ),
    "require a file": (
        "local m = require('os') return m.execute('true')",
        "slot:1: attempt to call a nil value (field 'execute')",
    ),
    "dofile": ("return dofile('/etc/passwd')", "slot:1: attempt to call a nil value (global 'dofile')"),
    "string metatable tampering": (
        "getmetatable('').__index = {}",
        "slot:1: the string metatable is read-only",
    ),
    "string metatable __add": (
        "getmetatable('').__add = function() end",
        "slot:1: the string metatable is read-only",
    ),
    "rawset on the string metatable stand-in": (
        "local mt = getmetatable('') rawset(mt, '__index', {}) return ('x'):upper()",
        "",
    ),
    "__gc that spins": (
        "setmetatable({}, {__gc = function() while true do end end}) "
        "for i = 1, 20000 do local t = {i, {}} end collectgarbage() return 'done'",
        "",
    ),
    "load('return io')": (
        "return load('return io')().open('/etc/passwd')",
        "slot:1: attempt to index a nil value",
    ),
    "load('return io') in _G": (
        "return load('return io', 'x', 't', _G)().open('/etc/passwd')",
        "slot:1: attempt to index a nil value",
    ),
    "stock functions reached through strings": ("assert(('x').dump == nil) return 'ok'", ""),
}


@pytest.fixture(scope="module")
def proc() -> LuaProc:
    return LuaProc(RUNNER, limits=LIMITS)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_code_ends_its_slot_and_the_process_goes_on(proc: LuaProc, name: str) -> None:
    code, expected = CASES[name]
    start = time.monotonic()
    r = proc.run(code)
    elapsed = time.monotonic() - start
    if expected.startswith("*"):
        assert r.error.endswith(expected[1:])
    else:
        assert r.error == expected
    assert elapsed < 5.0, f"{name} took {elapsed:.2f} s"
    assert not proc.device.last_slot_nondeterministic
    after = proc.run("local base = ... base.after = (base.after or 0) + 1 return 1 + 1")
    assert (after.error, after.output.data) == ("", "2")


def test_a_table_filled_without_bound_hits_the_memory_limit() -> None:
    p = LuaProc(RUNNER, limits=Limits(instructions=10**10, memory_bytes=32 * 1024 * 1024))
    r = p.run("local t = {} local i = 0 while true do i = i + 1 t[i] = {i} end")
    assert r.error == "memory limit exceeded"
    assert (
        p.run("local base = ... base.x = {} for i = 1, 1000 do base.x[i] = i end return #base.x").output.data
        == "1000"
    )
    # state kept across slots after the error; memory was released
    assert p.run("local base = ... return #base.x").output.data == "1000"
    assert p.device.memory_bytes() < 8 * 1024 * 1024


def test_memory_caught_by_pcall_still_ends_cleanly() -> None:
    p = LuaProc(RUNNER, limits=Limits(instructions=10**8, memory_bytes=16 * 1024 * 1024))
    r = p.run("local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) return e")
    assert r.output.data == "not enough memory"
    assert p.run("return 'fine'").output.data == "fine"


def test_the_wall_clock_stops_a_slot_and_is_flagged() -> None:
    p = LuaProc(RUNNER, limits=Limits(instructions=10**12, wall_seconds=0.2))
    start = time.monotonic()
    r = p.run("while true do end")
    assert r.error == "wall-clock limit exceeded"
    assert time.monotonic() - start < 4.0
    assert p.device.last_slot_nondeterministic
    assert p.run("return 3").output.data == "3"
    assert not p.device.last_slot_nondeterministic


def test_a_limit_in_one_coroutine_poisons_the_others() -> None:
    p = LuaProc(RUNNER, limits=LIMITS)
    code = """
    local spinners = {}
    for i = 1, 50 do spinners[i] = coroutine.create(function() while true do coroutine.yield() end end) end
    local burner = coroutine.create(function() while true do end end)
    coroutine.resume(burner)
    while true do for i = 1, 50 do coroutine.resume(spinners[i]) end end"""
    assert p.run(code).error == LIMIT
    # coroutines created in an earlier slot carry a left-over hook: it heals itself in the next slot
    p.run("local base = ... base.co = coroutine.create(function() while true do coroutine.yield(1) end end)")
    p.run("local base = ... coroutine.resume(base.co) while true do end")
    assert p.run("local base = ... return select(2, coroutine.resume(base.co))").output.data == "1"


def test_the_budget_is_per_slot() -> None:
    p = LuaProc(RUNNER, limits=Limits(instructions=200_000))
    for _ in range(5):  # each slot uses most of the budget; none inherits the previous one's count
        assert p.run("local x = 0 for i = 1, 40000 do x = x + i end return x").output.data == "800020000"


def test_the_whitelist_is_what_the_sandbox_holds() -> None:
    p = LuaProc(RUNNER)
    listing = p.run(
        """local out = {}
        for k, v in pairs(_G) do
          if type(v) == 'table' and k ~= '_G' and k ~= 'package' then
            for f in pairs(v) do out[#out + 1] = k .. '.' .. f end
          else out[#out + 1] = k end
        end
        for k in pairs(package) do out[#out + 1] = 'package.' .. k end
        return table.concat(out, ' ')"""
    ).output.data.split()
    present = set(listing)
    expected = {
        n
        for n in SANDBOX_COPY + SANDBOX_HOST
        if n not in ("math.huge", "math.pi", "math.maxinteger", "math.mininteger")
    }
    expected |= {"compute", "package.path", "package.cpath", "package.config", "package", "utf8.charpattern"}
    expected |= {"math.huge", "math.pi", "math.maxinteger", "math.mininteger"}
    assert present == expected
    assert not present & set(REMOVED)
