"""No Eval, message or handler can lock the Owner out of Eval: whatever user code does to globals, library
tables or the handler list, the Owner's next Eval runs. And messages anyone may send cannot fill the
process's memory through the Inbox."""

from __future__ import annotations

import pytest

from aonode.crypto import Ed25519Signer
from aonode.devices.base import Limits, ProcessContext
from tests.devices.aos import conftest
from tests.devices.aos.conftest import Proc

RUNTIME_GLOBALS = (
    "print", "tostring", "type", "pairs", "ipairs", "error", "pcall", "select", "table", "string",
    "coroutine", "json", "ao", "Handlers", "Utils", "require", "load", "setmetatable", "next", "rawget",
    "rawset", "tonumber", "assert", "package", "_G", "Inbox", "InboxLimit", "Name", "Prompt", "compute",
)  # fmt: skip

ATTACKS = (
    *(f"{name} = nil" for name in RUNTIME_GLOBALS),
    *(f"{name} = 42" for name in RUNTIME_GLOBALS),
    *(f"for k in pairs({lib}) do {lib}[k] = nil end" for lib in ("string", "table", "coroutine", "math")),
    *(
        f"for k in pairs({lib}) do {lib}[k] = function() error('boom') end end"
        for lib in ("string", "table", "coroutine", "math")
    ),
    "compute = function() error({}) end",
    "compute = function() while true do end end",
    "print = function() error('p') end",
    "setmetatable(_G, {__index = function() error('idx') end, __newindex = function() error('nidx') end})",
    "Handlers.list = 5",
    "Handlers.evaluate = nil",
    "Handlers.coroutines = 5",
    "Handlers.add('all', function() return true end, function() error('x') end)",
    "Handlers.prepend('spin', function() while true do end end, function() end)",
    "ao.clearOutbox = nil",
    "ao.isTrusted = function() return false end",
    "ao.isTrusted = function() while true do end end",
    "ao = setmetatable({}, {__pairs = function() while true do end end})",
    "function Prompt() while true do end end",
    "Utils.matchesSpec = nil",
    "json.encode = nil json.decode = nil",
    "Handlers = setmetatable({}, {__index = function() error('h') end})",
    "compute = nil while true do end",
)


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_owner_can_always_eval(attack: str) -> None:
    p = Proc()
    try:
        p.eval(attack)  # its own result does not matter (some fail, some succeed)
        # Prompt is cleared first: a Prompt() that spins fails the slot only after the Eval ran
        r = p.eval("Prompt = nil return 1 + 1")
        assert (r.error, r.output.data) == ("", "2")
        assert p.ok("return 'x' .. 'y'") == "xy"
    finally:
        p.close()


def test_a_stranger_still_cannot_eval_after_the_owner_broke_is_trusted(proc: Proc) -> None:
    proc.ok("ao.isTrusted = function() return true end")
    stranger = Ed25519Signer.generate()
    r = proc.eval("X = 'pwned'", signer=stranger)
    assert r.error == ""
    assert proc.ok("return X") == ""


def test_the_runtime_keeps_its_print_for_eval_output(proc: Proc) -> None:
    proc.ok("print = nil")
    assert proc.ok("return {1, 2}") == "{ 1, 2 }"
    proc.ok("Handlers = nil")
    # user handlers added before keep running from the runtime's own list
    assert proc.ok("require('.handlers').add('ping', 'Ping', function() end) return 1") == "1"


def test_renouncing_ownership_still_works(proc: Proc) -> None:
    proc.ok('Owner = ""')
    r = proc.eval("return 1")
    assert r.output.data.startswith("New Message From ")


def _small_proc(monkeypatch: pytest.MonkeyPatch, memory: str, limit: int) -> Proc:
    def context(**kw: object) -> ProcessContext:
        return ProcessContext(limits=Limits(memory_bytes=limit), **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(conftest, "ProcessContext", context)
    return Proc(tags=[("Memory-Limit", memory)])


def test_the_inbox_is_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _small_proc(monkeypatch, "8-mb", 8 * 1024 * 1024)
    assert p.ok("return InboxMaxBytes") == str(2 * 1024 * 1024)
    stranger = Ed25519Signer.generate()
    for i in range(12):
        r = p.send([("Action", "Fill")], b"%d" % i + b"x" * 500_000, signer=stranger)
        assert r.error == ""
    # four messages of ~500 kB fit in 2 MiB; the oldest were dropped
    assert p.ok("return #Inbox") == "4"
    assert p.ok("return Inbox[1].Data:sub(1, 2)") == "8x"
    assert p.ok("return 1 + 1") == "2"
    p.close()


def test_a_stranger_cannot_fill_memory_through_the_inbox(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _small_proc(monkeypatch, "8-mb", 8 * 1024 * 1024)
    stranger = Ed25519Signer.generate()
    for i in range(40):
        r = p.send([("Action", "Fill"), ("N", str(i))], b"y" * 400_000, signer=stranger)
        assert r.error == ""
    assert p.ok("return 1 + 1") == "2"
    p.close()
