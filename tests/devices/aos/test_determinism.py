"""The runtime's own output never depends on table iteration order: two VMs, same schedule, same results."""

from __future__ import annotations

from aonode.crypto import Ed25519Signer
from aonode.devices.aos import example_source
from aonode.model import Result
from tests.devices.aos.conftest import Proc

SCRIPT = [
    "Things = {} for i = 1, 40 do Things['key' .. i] = i; Things[i * 3] = 'v' .. i end",
    "return Things",
    "return json.encode({a = Things, list = {1, 2, 3}})",
    "for i = 1, 20 do\n"
    "  Send({Target = 'T' .. i, ['Tag' .. i] = i, Zed = 'z', Alpha = 'a', Data = {x = i, y = {i}}})\n"
    "end",
    "Handlers.add('fail', 'Fail', function(msg) local t = {} t.c = 1 t.b = 2 t.a = 3 error(t) end)",
    example_source("token").decode(),
]


def _run(owner: Ed25519Signer) -> list[Result]:
    p = Proc(owner=owner)
    try:
        results = [p.eval(code) for code in SCRIPT]
        results.append(p.send([("Action", "Fail")]))
        for i in range(10):
            transfer = [("Action", "Transfer"), ("Recipient", f"r{i % 3}"), ("Quantity", str(i + 1))]
            results.append(p.send(transfer))
        results.append(p.send([("Action", "Balances")]))
        results.append(p.send([("Action", "Unhandled"), ("B", "2"), ("A", "1")], "data"))
        results.append(p.eval("return Inbox[1]"))
        return results
    finally:
        p.close()


def test_same_schedule_same_results() -> None:
    owner = Ed25519Signer.from_private_bytes(b"o" * 32)
    first = _run(owner)
    second = _run(owner)
    assert [r.digest for r in first] == [r.digest for r in second]
    things = first[1].output.data
    assert things.startswith('{\n  [3] = "v1",\n  [6] = "v2",')
    assert things.index("key10 = 10") < things.index("key2 = 2")
    assert first[6].error.endswith("\n\nerror:\n{\n  a = 3,\n  b = 2,\n  c = 1\n}")
