"""Trust: direct messages from their signer are trusted; relayed ones only through an Authority."""

from __future__ import annotations

import pytest

from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.model import Message, Tag
from tests.devices.aos.conftest import Proc

OTHER_PROCESS = encode_id(b"\x07" * 32)


def _state(p: Proc) -> str:
    return p.ok("return json.encode({n = #Inbox, touched = Touched or false, ref = ao.reference})")


def test_relayed_from_outside_authority_is_not_trusted() -> None:
    relay = Ed25519Signer.generate()
    authority = Ed25519Signer.generate()
    p = Proc(tags=[("Authority", authority.address)])
    try:
        p.ok(
            "Handlers.add('touch', function() return true end, function(msg) Touched = true;"
            " msg.reply('hi') end)"
        )
        before = _state(p)
        r = p.send([("Action", "Ping"), ("From-Process", OTHER_PROCESS)], signer=relay)
        assert r.error == ""
        assert r.output.data == "Message is not trusted."
        assert r.messages == () and r.spawns == () and r.assignments == ()
        assert _state(p) == before
        # An Eval relayed "for" the owner is refused the same way.
        r = p.send([("Action", "Eval"), ("From-Process", p.owner.address)], "Touched = 'eval'", signer=relay)
        assert r.output.data == "Message is not trusted."
        assert _state(p) == before
    finally:
        p.close()


@pytest.mark.parametrize("via", ["relay", "from"])
def test_relayed_through_authority_is_trusted(via: str) -> None:
    relay = Ed25519Signer.generate()
    p = Proc(tags=[("Authority", relay.address if via == "relay" else OTHER_PROCESS)])
    try:
        p.ok("Handlers.add('touch', 'Ping', function(msg) Touched = msg.From; msg.reply('hi') end)")
        r = p.send([("Action", "Ping"), ("From-Process", OTHER_PROCESS)], signer=relay)
        assert r.output.data == ""
        assert [m.target for m in r.messages] == [OTHER_PROCESS]
        assert p.ok("return Touched") == OTHER_PROCESS
    finally:
        p.close()


def test_authorities_one_per_tag_as_given() -> None:
    """As the real AOS builds: each Authority tag is one entry, a comma-separated value is not split."""
    a, b, c, d = (Ed25519Signer.generate() for _ in range(4))
    p = Proc(
        tags=[("Authority", f"{a.address},{b.address}"), ("Authority", c.address), ("Authority", d.address)]
    )
    try:
        assert (
            p.ok("return table.concat(ao.authorities, ' ')")
            == f"{a.address},{b.address} {c.address} {d.address}"
        )
        for relay in (c, d):
            r = p.send([("Action", "X"), ("From-Process", OTHER_PROCESS)], signer=relay)
            assert r.output.data != "Message is not trusted."
        for relay in (a, b):
            r = p.send([("Action", "X"), ("From-Process", OTHER_PROCESS)], signer=relay)
            assert r.output.data == "Message is not trusted."
    finally:
        p.close()


def test_no_authorities_trusts_no_relayed_message(proc: Proc) -> None:
    assert proc.ok("return #ao.authorities") == "0"
    r = proc.send([("Action", "X"), ("From-Process", OTHER_PROCESS)], signer=proc.owner)
    assert r.output.data == "Message is not trusted."
    r = proc.send([("Action", "X"), ("From-Process", OTHER_PROCESS)], signer=Ed25519Signer.generate())
    assert r.output.data == "Message is not trusted."


def test_direct_messages_from_any_signer_are_trusted(proc: Proc) -> None:
    r = proc.send([("Action", "Hello")], signer=Ed25519Signer.generate())
    assert r.output.data.endswith(": Action = Hello")
    assert proc.ok("return #Inbox") == "1"


def test_unsigned_messages_are_not_trusted(proc: Proc) -> None:
    m = Message(target=proc.id, tags=(Tag("Action", "Eval"),), data=b"Touched = true")
    r = proc.deliver(m)
    assert r.output.data == "Message is not trusted."
    assert proc.ok("return Touched == nil") == "true"


def test_owner_of_a_spawned_process_is_its_parent() -> None:
    relay = Ed25519Signer.generate()
    p = Proc(tags=[("From-Process", OTHER_PROCESS), ("Authority", relay.address)])
    try:
        # The Process message is signed by the owner key here, but it names a parent process.
        assert p.boot.output.data == "Message is not trusted."
        r = p.send([("Action", "Eval"), ("From-Process", OTHER_PROCESS)], "return Owner", signer=relay)
        assert r.output.data == OTHER_PROCESS
    finally:
        p.close()
