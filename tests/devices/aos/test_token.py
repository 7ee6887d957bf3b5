"""The token example (examples/token.lua): balances, transfers and their notices."""

from __future__ import annotations

import json

from aonode.crypto import Ed25519Signer
from aonode.devices.aos import example_source
from tests.devices.aos.conftest import Proc, tags_of

SUPPLY = 10**18


def _token() -> Proc:
    p = Proc()
    assert p.ok(example_source("token").decode()) == ""
    return p


def test_transfer_debit_and_credit_notices() -> None:
    p = _token()
    try:
        alice = Ed25519Signer.generate().address
        r = p.send([("Action", "Transfer"), ("Recipient", alice), ("Quantity", "250"), ("X-Note", "hi")])
        assert r.error == ""
        debit, credit = r.messages
        assert debit.target == p.owner.address
        assert tags_of(debit)["Action"] == "Debit-Notice"
        assert tags_of(debit)["Recipient"] == alice
        assert tags_of(debit)["Quantity"] == "250"
        assert tags_of(debit)["X-Note"] == "hi"
        assert credit.target == alice
        assert tags_of(credit)["Action"] == "Credit-Notice"
        assert tags_of(credit)["Sender"] == p.owner.address
        assert tags_of(credit)["X-Note"] == "hi"
        balances = json.loads(p.send([("Action", "Balances")]).messages[0].data)
        assert balances == {p.owner.address: str(SUPPLY - 250), alice: "250"}
        r = p.send([("Action", "Balance"), ("Recipient", alice)])
        assert r.messages[0].data == b"250"
        assert tags_of(r.messages[0])["Balance"] == "250"
    finally:
        p.close()


def test_transfer_from_other_signers_and_errors() -> None:
    p = _token()
    try:
        alice = Ed25519Signer.generate()
        bob = Ed25519Signer.generate()
        p.send([("Action", "Transfer"), ("Recipient", alice.address), ("Quantity", "100")])
        r = p.send([("Action", "Transfer"), ("Recipient", bob.address), ("Quantity", "60")], signer=alice)
        assert [tags_of(m)["Action"] for m in r.messages] == ["Debit-Notice", "Credit-Notice"]
        r = p.send([("Action", "Transfer"), ("Recipient", bob.address), ("Quantity", "41")], signer=alice)
        assert [tags_of(m)["Action"] for m in r.messages] == ["Transfer-Error"]
        assert tags_of(r.messages[0])["Error"] == "Insufficient Balance!"
        assert p.send(
            [("Action", "Transfer"), ("Recipient", bob.address), ("Quantity", "-1")], signer=alice
        ).error
        assert p.send([("Action", "Transfer"), ("Quantity", "1")], signer=alice).error
        r = p.send(
            [("Action", "Transfer"), ("Recipient", bob.address), ("Quantity", "40"), ("Cast", "true")],
            signer=alice,
        )
        assert r.messages == ()
        assert p.send([("Action", "Balance")], signer=bob).messages[0].data == b"100"
        assert p.send([("Action", "Balance")], signer=alice).messages[0].data == b"0"
        # Mint is for the owner only.
        assert (
            tags_of(p.send([("Action", "Mint"), ("Quantity", "5")], signer=bob).messages[0])["Action"]
            == "Mint-Error"
        )
        p.send([("Action", "Mint"), ("Quantity", "5")])
        assert p.send([("Action", "Total-Supply")]).messages[0].data == str(SUPPLY + 5).encode()
        # Reloading the source keeps the balances.
        assert p.ok(example_source("token").decode()) == ""
        assert p.send([("Action", "Balance")], signer=bob).messages[0].data == b"100"
        info = tags_of(p.send([("Action", "Info")]).messages[0])
        assert (info["Ticker"], info["Denomination"]) == ("PNTS", "12")
    finally:
        p.close()
