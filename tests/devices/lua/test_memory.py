"""Memory against the node: no message or process code makes lupa allocate outside a protected call (a Lua
PANIC aborts the whole node), a message too large for the process is its slot's error, and a state filled
to the limit still leaves room for the next message.

Each case that used to abort runs in a child interpreter first, so that a regression fails the test
instead of killing pytest."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from aonode.devices.base import Limits
from aonode.devices.lua.device import too_large_error
from aonode.devices.lua.sandbox import GRACE
from aonode.model import Message, Tag
from tests.devices.lua.helpers import RUNNER, LuaProc

MiB = 1024 * 1024
SMALL = Limits(memory_bytes=8 * MiB, instructions=50_000_000, wall_seconds=30.0)


def _survives(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` (after the imports above) in a child interpreter; it must exit 0 (a PANIC aborts it)."""
    prelude = (
        "from aonode.devices.base import Limits\n"
        "from aonode.model import Message, Tag\n"
        "from tests.devices.lua.helpers import RUNNER, LuaProc\n"
        "MiB = 1024 * 1024\n"
        "SMALL = Limits(memory_bytes=8 * MiB, instructions=50_000_000, wall_seconds=30.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    return done


def test_a_message_larger_than_the_limit_is_the_slots_error_not_an_abort() -> None:
    out = _survives(
        """
        p = LuaProc(RUNNER, limits=SMALL)
        r = p.send(Message(tags=(Tag("A", "b"),), data=b"x" * (9 * MiB)))
        print(r.error)
        print(p.run("return 2").output.data)
        """
    ).stdout.splitlines()
    assert out == [too_large_error(9 * MiB + 2, 8 * MiB), "2"]


def test_a_message_that_does_not_fit_what_the_state_leaves_is_a_memory_error() -> None:
    out = _survives(
        """
        p = LuaProc(RUNNER, limits=SMALL)
        keep = "KEEP = {} for i = 1, 6 do KEEP[i] = string.rep(string.char(64 + i), 1000000) end"
        assert p.run(keep).error == ""
        print(p.send(Message(data=b"x" * (3 * MiB))).error)
        print(p.run("return #KEEP").output.data)
        print(p.run("KEEP = nil return 3").output.data)
        """
    ).stdout.splitlines()
    assert out == ["memory limit exceeded", "6", "3"]


def test_the_too_large_check_is_deterministic_and_counts_tags() -> None:
    p = LuaProc(RUNNER, limits=SMALL)
    m = Message(tags=(Tag("Big", "v" * (4 * MiB)), Tag("Other", "w" * (4 * MiB))), data=b"d" * 100)
    size = 100 + 3 + 4 * MiB + 5 + 4 * MiB
    assert p.send(m).error == too_large_error(size, 8 * MiB)
    assert p.run("return 7").output.data == "7"


def test_a_state_filled_to_the_limit_leaves_room_for_the_next_message() -> None:
    p = LuaProc(RUNNER, limits=SMALL)
    fill = "local i = 0 while true do i = i + 1 {name}[#{name} + 1] = tostring(i) .. '{name}' end"
    # X's array fails to double first; Y's small strings then take the rest, up to the brim
    code = f"X = {{}} pcall(function() {fill.format(name='X')} end) Y = {{}} {fill.format(name='Y')}"
    assert p.run(code).error == "memory limit exceeded"
    assert p.device.memory_bytes() > SMALL.memory_bytes - 64 * 1024
    r = p.run("X, Y = nil, nil return 'freed'")
    assert (r.error, r.output.data) == ("", "freed")
    assert p.run("return 1 + 1").output.data == "2"
    assert p.device.memory_bytes() < SMALL.memory_bytes // 2


def test_the_grace_is_bounded() -> None:
    p = LuaProc(RUNNER, limits=SMALL)
    fill = "T = T or {} local i = 0 while true do i = i + 1 T[#T + 1] = tostring(i) .. 'padding' end"
    for _ in range(4):
        assert p.run(fill).error == "memory limit exceeded"
        assert p.device.memory_bytes() <= SMALL.memory_bytes + GRACE


def test_a_patch_is_built_without_an_unprotected_allocation() -> None:
    out = _survives(
        """
        p = LuaProc(RUNNER, limits=SMALL)
        keep = "KEEP = {} for i = 1, 5 do KEEP[i] = string.rep(string.char(64 + i), 1000000) end"
        assert p.run(keep).error == ""
        try:
            p.device.apply_patch({"big": "x" * (4 * MiB)})
        except Exception as exc:
            print(type(exc).__name__)
        print(p.run("return 5").output.data)
        """
    ).stdout.splitlines()
    assert out[-1] == "5"  # applied or refused with a DeviceError, but the interpreter lives
    assert out[:-1] in ([], ["DeviceError"])
