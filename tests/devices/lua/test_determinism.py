"""Determinism is the device's job: the same schedule gives byte-identical results in separate OS processes,
and each source of host-dependence (hash order, sort pivots, random seeds, clocks, addresses, the collector)
is pinned down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aonode.devices.base import Limits
from tests.devices.lua.helpers import RUNNER, T0, LuaProc

ROOT = Path(__file__).resolve().parents[3]


def _child(seed: str, slots: int) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [sys.executable, "-m", "tests.devices.lua.determinism_child", str(slots)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return out.stdout.decode().split()


def test_separate_processes_compute_byte_identical_results() -> None:
    first = _child("1", 1000)
    second = _child("2", 1000)
    assert len(first) == 1001
    assert first == second
    assert len(set(first)) > 800  # most slots differ (repeated errors give repeated results)


def test_aos_libraries_compute_byte_identical_results() -> None:
    # The AOS runtime's libraries are Lua on this device (no host function): bint, crypto, base64, the
    # Mersenne Twister behind math.random and json floats give the same results in every OS process.
    def child(seed: str) -> list[str]:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-m", "tests.devices.lua.aos_libraries_child", "60"],
            cwd=ROOT, env=env, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        return out.stdout.decode().split()

    first, second = child("1"), child("2")
    assert len(first) == 60 and not any(line.startswith("error:") for line in first)
    assert first == second and len(set(first)) == 60


def test_pairs_order() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        """local f = function() end
        local a, b = setmetatable({}, {}), {}
        tostring(b)  -- b gets its id first
        local t = {[b] = 'b', [f] = 'f', [a] = 'a', zeta = 1, alpha = 2, [10] = 3, [2] = 4, [-1.5] = 5,
                   [true] = 6,
                   [false] = 7, Beta = 8, [''] = 9}
        local out = {}
        for k, v in pairs(t) do out[#out + 1] = type(k) == 'string' and ('"' .. k .. '"') or tostring(v) end
        return table.concat(out, ' ')"""
    )
    # numbers ascending, strings by bytes, false, true, then objects by id: a (setmetatable gave it one),
    # b (its tostring), then f (first seen as a key)
    assert r.output.data == '5 4 3 "" "Beta" "alpha" "zeta" 7 6 a b f'


def test_next_walks_the_same_order() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        """local t = {c = 1, a = 2, [3] = 3, b = 4}
        local out, k = {}, nil
        repeat k = next(t, k) out[#out + 1] = tostring(k) until k == nil
        t.a = nil  -- clearing a field during a traversal is allowed
        local ok = pcall(next, t, 'zzz')
        return table.concat(out, ',') .. ' ' .. tostring(next({})) .. ' ' .. tostring(ok)"""
    )
    assert r.output.data == "3,a,b,c,nil nil false"


def test_instruction_counts_do_not_depend_on_hash_order() -> None:
    # The same keys inserted in opposite orders, so C Lua traverses the two tables differently: iterating them
    # must cost exactly the same number of instructions, or the budget would trip at different points on
    # different nodes. (os.clock counts instructions.)
    code = """local forward = ...
    local keys = {}
    for i = 1, 3000 do keys[#keys + 1] = 'k' .. i; keys[#keys + 1] = i * 1.5; keys[#keys + 1] = {} end
    local t = {}
    local from, to, step = 1, #keys, 1
    if not forward then from, to, step = #keys, 1, -1 end
    for i = from, to, step do t[keys[i]] = i end
    for _ = 1, 3 do
      for k, v in pairs(t) do end
      local k = next(t)
      while k ~= nil do k = next(t, k) end
    end
    return string.format('%.8f', os.clock())"""
    costs = []
    for forward in ("true", "false"):
        p = LuaProc(RUNNER, limits=Limits(instructions=10**9))
        costs.append(p.run(f"return load({code!r})({forward})").output.data)
    assert costs[0] == costs[1] and float(costs[0]) > 0.01


def test_table_sort_is_stable_and_deterministic() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        """local a = {}
        for i = 1, 300 do a[i] = {k = i % 3, i = i} end
        table.sort(a, function(x, y) return x.k < y.k end)
        local ok = true
        for i = 2, #a do
          if a[i - 1].k == a[i].k and a[i - 1].i > a[i].i then ok = false end
        end
        local w = {'b', 'a', 'c', 'a'}
        table.sort(w)
        local bad = pcall(table.sort, {1, 'x', 2})
        return tostring(ok) .. ' ' .. table.concat(w) .. ' ' .. a[1].i .. ',' .. a[101].i
          .. ' ' .. tostring(bad)"""
    )
    assert r.output.data == "true aabc 3,1 false"


RANDOM = "return table.concat({math.random(1, 1000000), math.random(1, 1000000), math.random(6)}, ',')"


def test_math_random_is_seeded_from_process_and_slot() -> None:
    p, q = LuaProc(RUNNER), LuaProc(RUNNER)
    a = [p.run(RANDOM).output.data for _ in range(3)]
    b = [q.run(RANDOM).output.data for _ in range(3)]
    assert a == b
    assert len(set(a)) == 3  # a new sequence each slot
    other = LuaProc(RUNNER, tags=[("Name", "other")])
    assert other.run(RANDOM).output.data != a[0]  # and per process
    r = p.run(
        """math.randomseed(42) local x = math.random(1000000) math.randomseed(42)
        local f = math.random()
        return tostring(x == (function() math.randomseed(42) return math.random(1000000) end)())
          .. ' ' .. tostring(f >= 0 and f < 1) .. ' ' .. select(2, pcall(math.random, 0))
          .. ' ' .. math.random(math.mininteger, math.maxinteger) // math.maxinteger"""
    )
    out = r.output.data.split(" ", 2)
    assert out[:2] == ["true", "true"]
    assert "interval is empty" in out[2]


def test_time_is_the_block_time_in_utc() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        """local t = {year = 2024, month = 14, day = 1, hour = 0}
        local n = os.time(t)
        return table.concat({os.time(), os.date('!%Y-%m-%d %H:%M:%S'), os.date('%H'), n, t.year, t.month,
                             os.date('*t', 0).year,
                             os.time({year = 1970, month = 1, day = 1, hour = 0})}, ' ')"""
    )
    now = (T0 + 1000) // 1000
    assert r.output.data == f"{now} 2023-11-14 22:13:21 22 1738368000 2025 2 1970 0"


def test_os_clock_counts_instructions() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        "local a = os.clock() local x = 0 for i = 1, 100000 do x = x + i end local b = os.clock() "
        "return string.format('%.4f %.4f', a, b - a)"
    )
    before, spent = r.output.data.split()
    assert float(spent) >= 0.0019  # ~200k instructions at a nominal 1e8/s
    q = LuaProc(RUNNER)
    assert (
        q.run(
            "local a = os.clock() local x = 0 for i = 1, 100000 do x = x + i end local b = os.clock() "
            "return string.format('%.4f %.4f', a, b - a)"
        ).output.data
        == f"{before} {spent}"
    )


def test_names_of_objects_and_the_collector() -> None:
    p = LuaProc(RUNNER)
    # ids: 1 the weak table (setmetatable), 2-6 its keys (first seen by pairs), 7 t, 8 print
    r = p.run(
        """local t = {}
        local weak = setmetatable({}, {__mode = 'k'})
        for i = 1, 5 do weak[{}] = i end
        for i = 1, 10000 do local g = {i} end
        collectgarbage()
        local n = 0
        for _ in pairs(weak) do n = n + 1 end
        return table.concat({tostring(t), tostring(t), string.format('%s', print), tostring(0/0),
                             collectgarbage('count'), collectgarbage('step'),
                             tostring(collectgarbage('isrunning')),
                             n, select(2, pcall(collectgarbage, 'generational'))}, ' ')"""
    )
    assert r.output.data == (
        "table: 0x00000007 table: 0x00000007 function: 0x00000008 nan 0 0 true 5 "
        "bad argument #1 to 'collectgarbage' (invalid option 'generational')"
    )
