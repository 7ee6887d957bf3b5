"""Utils (AOS's functional helpers), require, and the boot path's errors."""

from __future__ import annotations

from tests.devices.aos.conftest import Proc


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
    assert proc.ok("return require('ao') == ao and require('.stringify').format({1}) == '{ 1 }'") == "true"
    assert proc.ok("package.preload['mine'] = function() return {v = 3} end return require('mine').v") == "3"
    assert "not found" in proc.eval("return require('nope')").error


def test_colors_and_prompt(proc: Proc) -> None:
    assert proc.ok("return Colors.reset") == "\x1b[0m"
    assert proc.ok("function Prompt() return 'custom> ' end return 1") == "1"
    assert proc.eval("return 2").output.prompt == "custom> "


def test_boot_error_is_the_slot_error() -> None:
    p = Proc(tags=[("On-Boot", "Data")], data=b"print('starting') error('bad boot')")
    try:
        assert p.boot.error == 'starting\n\n[string "aos"]:1: bad boot'
        assert p.ok("return Owner") == p.owner.address
    finally:
        p.close()
