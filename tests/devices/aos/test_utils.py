"""Utils (AOS's functional helpers), require, and the boot path's errors."""

from __future__ import annotations

from tests.devices.aos.conftest import Proc, plain


def test_utils(proc: Proc) -> None:
    assert proc.ok("return Utils.map(function(x) return x * 2 end, {1, 2, 3})") == "{ 2, 4, 6 }"
    assert proc.ok("return Utils.map(function(x) return x * 2 end)({1, 2})") == "{ 2, 4 }"
    assert proc.ok("return Utils.filter(function(x) return x > 1 end, {1, 2, 3})") == "{ 2, 3 }"
    assert proc.ok("return Utils.reduce(function(a, x) return a + x end, 0, {1, 2, 3})") == "6"
    assert proc.ok("return Utils.find(function(x) return x > 1 end, {1, 2, 3})") == "2"
    assert proc.ok("return Utils.includes(2, {1, 2, 3})") == "true"
    assert proc.ok("return Utils.concat({1}, {2, 3})") == "{ 1, 2, 3 }"
    assert proc.ok("return Utils.reverse({1, 2, 3})") == "{ 3, 2, 1 }"
    assert (
        proc.ok("return Utils.compose(function(x) return x + 1 end, function(x) return x * 2 end)(3)") == "7"
    )
    assert proc.ok("return Utils.propEq('name', 'Lua')({name = 'Lua'})") == "true"
    assert proc.ok("local k = Utils.keys({b = 1, a = 2}) table.sort(k) return k") == '{ "a", "b" }'
    assert proc.ok("return Utils.matchesSpec({Action = 'X', Tags = {}}, 'X')") == "true"
    assert proc.ok("return Utils.matchesPattern({'a', 'b'}, 'b', {})") == "true"


def test_require(proc: Proc) -> None:
    assert proc.ok("return require('.utils') == Utils and require('handlers') == Handlers") == "true"
    assert (
        proc.ok("return require('ao') == ao and require('.stringify').format({1}) == '{ \\27[34m1\\27[0m }'")
        == "true"
    )
    assert proc.ok("package.preload['mine'] = function() return {v = 3} end return require('mine').v") == "3"
    assert "not found" in proc.eval("return require('nope')").error


def test_colors_and_prompt(proc: Proc) -> None:
    r = proc.eval("return Colors.reset", raw=True)
    assert r.output.data == "\x1b[0m"
    # AOS's prompt, with its colours
    assert r.output.prompt == (
        "\x1b[32mtest-proc\x1b[90m@\x1b[34maos-0.3.0\x1b[90m[Inbox:\x1b[31m0\x1b[90m]\x1b[0m> "
    )
    # print colours numbers green, booleans blue, nil red; stringify colours tables
    r = proc.eval("print(1) print(true) print(nil) print('s') return {'hello', n = 1}", raw=True)
    assert r.output.data.split("\n")[:4] == [
        "\x1b[32m1\x1b[0m",
        "\x1b[34mtrue\x1b[0m",
        "\x1b[31mnil\x1b[0m",
        "s",
    ]
    assert (
        '\x1b[32m"hello"\x1b[0m' in r.output.data and "\x1b[31mn\x1b[0m = \x1b[34m1\x1b[0m" in r.output.data
    )
    assert proc.ok("function Prompt() return 'custom> ' end return 1") == "1"
    assert proc.eval("return 2").output.prompt == "custom> "


def test_boot_error_is_the_slot_error() -> None:
    p = Proc(tags=[("On-Boot", "Data")], data=b"print('starting') error('bad boot')")
    try:
        assert plain(p.boot.error) == (
            'starting\nError handling message \n[string "aos"]:1: bad boot'
            '\n\nerror:\n[string "aos"]:1: bad boot'
        )
        assert p.ok("return Owner") == p.owner.address
    finally:
        p.close()
