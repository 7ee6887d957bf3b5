"""Inbox: unhandled messages, bounded (oldest dropped)."""

from __future__ import annotations

from tests.devices.aos.conftest import Proc


def test_inbox_is_bounded(proc: Proc) -> None:
    assert proc.ok("return InboxLimit") == "10000"
    proc.ok("InboxLimit = 3")
    for i in range(5):
        r = proc.send([("Action", f"M{i}")], f"d{i}")
        assert r.output.print is True
    assert proc.ok(
        "local a = {} for _, m in ipairs(Inbox) do a[#a+1] = m.Action end return table.concat(a, ',')"
    ) == ("M2,M3,M4")
    assert proc.eval("return 1").output.prompt == "test-proc@aos-0.3.0[Inbox:3]> "
    proc.ok("InboxLimit = 1")
    proc.send([("Action", "M5")])
    assert proc.ok("return #Inbox .. Inbox[1].Action") == "1M5"


def test_inbox_keeps_messages(proc: Proc) -> None:
    r = proc.send([], "some data that is rather long")
    assert r.output.data.endswith(": Data = some data that is ra")
    assert (
        proc.ok("return Inbox[1].Data .. '|' .. Inbox[1].From")
        == "some data that is rather long|" + proc.owner.address
    )
