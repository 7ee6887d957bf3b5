"""The sandbox's string.find/match/gmatch/gsub against Lua's own: with the C-cost limit at -1 every call goes
through patterns.lua (the Lua port), and must give what the C matcher gives, errors included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aonode.devices.lua.sandbox import LuaVM
from tests.devices.lua.helpers import RUNNER, LuaProc

HARNESS = rb"""
local E, S, begin = ...
local function ser(ok, ...)
  local n = select('#', ...)
  local parts = {tostring(ok), tostring(n)}
  for i = 1, n do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) .. ':' .. tostring(v)
  end
  return table.concat(parts, '|')
end
local function all(gm, s, p)
  local ok, it = pcall(gm, s, p)
  if not ok then return 'err:' .. tostring(it) end
  local out = {}
  for _ = 1, 100 do
    local r = table.pack(pcall(it))
    out[#out + 1] = ser(table.unpack(r, 1, r.n))
    if not r[1] or r[2] == nil then break end
  end
  return table.concat(out, ';')
end
local REPL = {
  table = {a = 'T', b = false, ab = 7},
  func = function(x, y) if x == 'b' then return nil end return '<' .. tostring(x) .. tostring(y) .. '>' end,
  bad = function() return {} end,
}
return function(kind, s, p, init, repl)
  begin(1e15, 0, 0)
  if kind == 'find' then
    return ser(pcall(E.find, s, p, init)), ser(pcall(S.find, s, p, init))
  elseif kind == 'plain' then
    return ser(pcall(E.find, s, p, init, true)), ser(pcall(S.find, s, p, init, true))
  elseif kind == 'match' then
    return ser(pcall(E.match, s, p, init)), ser(pcall(S.match, s, p, init))
  elseif kind == 'gmatch' then
    return all(E.gmatch, s, p), all(S.gmatch, s, p)
  else
    local r = REPL[repl] or repl
    return ser(pcall(E.gsub, s, p, r, init)), ser(pcall(S.gsub, s, p, r, init))
  end
end
"""


def _vm(limit: float, plain: int) -> Callable[..., Any]:
    vm = LuaVM(
        memory_bytes=0, seed=(1, 2), timed_out=lambda: False, c_pattern_limit=limit, plain_find_limit=plain
    )
    env, host = vm.env, vm.host
    harness = vm._rt.execute(HARNESS, env[b"string"], host[b"stock_string"], host[b"begin"])
    return harness  # type: ignore[no-any-return]


LUA_PATH = _vm(-1.0, -1)

TOKENS = [
    "a", "b", "x", ".", "%a", "%d", "%s", "%w", "%p", "%x", "%u", "%l", "%A", "%S", "%z", "%.", "%%",
    "[ab]", "[^a]", "[a-c]", "[%a_]", "[]]", "[^]a]", "[%]]", "[a-]",
    "(", ")", "()", "%1", "%2", "%b()", "%bab", "%f[%w]", "%f[%W]", "$", "^",
    "*", "+", "-", "?", "*", "+", "-", "?",
    "%", "[", "%b", "%f", "%g",
]  # fmt: skip

patterns = st.lists(st.sampled_from(TOKENS), max_size=7).map("".join)
subjects = st.text(alphabet="ab()x 1_A\x00é]", max_size=14).map(lambda s: s.encode())
inits = st.one_of(st.none(), st.integers(-20, 20))
repls = st.sampled_from(["%0", "%1", "<%1%2>", "%%", "x", "%", "%a", "table", "func", "bad", ""])


def _check(kind: str, s: bytes, p: str, init: int | None = None, repl: str | None = None) -> None:
    ours, stock = LUA_PATH(kind.encode(), s, p.encode(), init, None if repl is None else repl.encode())
    # called through pcall, C names the function 'string.gsub'; the sandbox's wrappers call it as 'gsub'
    stock = stock.replace(b"to 'string.", b"to '")
    assert ours == stock, (kind, s, p, init, repl)


@settings(max_examples=400)
@given(s=subjects, p=patterns, init=inits)
def test_find_matches_c(s: bytes, p: str, init: int | None) -> None:
    _check("find", s, p, init)
    _check("match", s, p, init)


@settings(max_examples=300)
@given(s=subjects, p=patterns)
def test_gmatch_matches_c(s: bytes, p: str) -> None:
    _check("gmatch", s, p)


@settings(max_examples=300)
@given(s=subjects, p=patterns, n=st.one_of(st.none(), st.integers(-1, 4)), repl=repls)
def test_gsub_matches_c(s: bytes, p: str, n: int | None, repl: str) -> None:
    _check("gsub", s, p, n, repl)


@settings(max_examples=200)
@given(s=subjects, p=st.text(alphabet="ab()x%.", max_size=4).map(lambda s: s), init=inits)
def test_plain_find_matches_c(s: bytes, p: str, init: int | None) -> None:
    _check("plain", s, p, init)


@pytest.mark.parametrize(
    ("kind", "s", "p", "init", "repl"),
    [
        ("find", b"hello world", "o w", None, None),
        ("find", b"  trim me  ", "^%s*(.-)%s*$", None, None),
        ("match", b"key = value", "(%w+)%s*=%s*(%w+)", None, None),
        ("match", b"THE (quick) fox", "%((%a+)%)", None, None),
        ("match", b"abcabc", "(abc)%1", None, None),
        ("find", b"abc", "", 10, None),
        ("find", b"abc", "", 4, None),
        ("find", b"abc", "b", -1, None),
        ("gsub", b"hello world", "(%w+)", None, "<%1>"),
        ("gsub", b"abc", "%w*", None, "-"),
        ("gsub", b"hello world", "o", 1, "0"),
        ("gmatch", b"a=1, b=2", "(%w+)=(%w+)", None, None),
        ("find", b"((a)(b))", "%b()", None, None),
        ("find", b"THE (quick) fox", "%f[%a]%a+", None, None),
        ("match", b"x" * 300, "(" * 33, None, None),
        ("match", b"a" * 250, "a?" * 250, None, None),
    ],
)
def test_known_cases_match_c(kind: str, s: bytes, p: str, init: int | None, repl: str | None) -> None:
    _check(kind, s, p, init, repl)


def test_plain_find_fallback_for_long_needles() -> None:
    _check("plain", b"ab" * 100 + b"abc", "ab" * 40 + "c", None)
    _check("plain", b"x" * 500, "x" * 70 + "y", None)


def test_costly_patterns_give_the_same_answers_through_the_device() -> None:
    p = LuaProc(RUNNER)
    code = """local s = string.rep('ab', 5000) .. 'c'
    local a, b = s:find('[ab]*c')
    local words = {}
    for w in (string.rep('word ', 3000)):gmatch('(%w+)%s') do words[#words + 1] = w end
    local t = string.rep(' x ', 2000):match('^%s*(.-)%s*$')
    return table.concat({tostring(a), tostring(b), #words, #t}, ',')"""
    assert p.run(code).output.data == "1,10001,3000,5998"
