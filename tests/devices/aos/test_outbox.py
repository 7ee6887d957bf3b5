"""Send, Spawn, Assign and what they put in the slot's result."""

from __future__ import annotations

import json

from aonode.ids import encode_id
from tests.devices.aos.conftest import Proc, tags_of


def test_send_builds_ao_messages(proc: Proc) -> None:
    r = proc.eval(
        "Send({Target = 'Tgt', Action = 'Do', Quantity = 5, Flag = true, Data = 'hello',"
        " Tags = {{name = 'Z-Last', value = 'z'}, {name = 'Multi', value = '1'}, {name = 'Multi',"
        " value = '2'}}})\n"
        "Send({Target = 'Tgt2', Data = {b = 1, a = {1, 2}}, Tags = {Named = 'x'}})\n"
        "return 'sent'"
    )
    assert r.error == ""
    assert r.output.data == "sent"
    first, second = r.messages
    assert first.target == "Tgt"
    assert first.data == b"hello"
    assert first.anchor == "00000000000000000000000000000001"
    assert [(t.name, t.value) for t in first.tags] == [
        ("Data-Protocol", "ao"),
        ("Variant", "ao.TN.1"),
        ("Type", "Message"),
        ("Reference", "1"),
        ("Action", "Do"),
        ("Flag", "true"),
        ("Quantity", "5"),
        ("Z-Last", "z"),
        ("Multi", "1"),
        ("Multi", "2"),
    ]
    assert second.data == b'{"a":[1,2],"b":1}'
    assert tags_of(second)["Content-Type"] == "application/json"
    assert tags_of(second)["Named"] == "x"
    assert tags_of(second)["Reference"] == "2"


def test_send_display_and_missing_target(proc: Proc) -> None:
    assert proc.ok("return Send({Target = 'T', Data = 'x'})") == "Message added to outbox"
    r = proc.eval("Send({Data = 'nowhere'})")
    assert r.output.data.startswith("WARN: No target specified")
    assert r.messages[0].target == ""


def test_spawn(proc: Proc) -> None:
    r = proc.eval("return Spawn('ModuleId', {Data = 'init', Name = 'child', Tags = {Authority = 'A'}})")
    assert r.error == ""
    assert r.output.data == "Spawn process request added to outbox"
    (spawn,) = r.spawns
    assert spawn.target == ""
    assert spawn.data == b"init"
    assert [(t.name, t.value) for t in spawn.tags] == [
        ("Data-Protocol", "ao"),
        ("Variant", "ao.TN.1"),
        ("Type", "Process"),
        ("From-Process", proc.id),
        ("From-Module", ""),
        ("Module", "ModuleId"),
        ("Reference", "1"),
        ("Name", "child"),
        ("Authority", "A"),
    ]
    r = proc.eval("ao.spawn('M2', {})")
    assert r.spawns[0].data == b"NODATA"
    # Spawn(msg) spawns this process's own module.
    r = proc.eval("Spawn({})")
    assert tags_of(r.spawns[0])["Module"] == ""


def test_spawned_reply(proc: Proc) -> None:
    r = proc.eval("Spawn('M', {}).onReply(function(m) Child = m.Process end)")
    ref = tags_of(r.spawns[0])["Reference"]
    assert proc.send([("Action", "Spawned"), ("Reference", ref), ("Process", "kid")]).error == ""
    # From must be the process itself (the scheduler's Spawned notice); the owner's does not match.
    assert proc.ok("return Child == nil") == "true"


def test_assign(proc: Proc) -> None:
    r = proc.eval("return Assign({Processes = {'P1', 'P2'}, Message = 'M1'})")
    assert r.error == ""
    assert "Assignment added to outbox." in r.output.data
    (a,) = r.assignments
    assert a.processes == ("P1", "P2")
    assert a.message == "M1"
    assert proc.eval("Assign({Processes = 'x', Message = 'M'})").error != ""


def test_ao_assign(proc: Proc) -> None:
    r = proc.eval(
        "ao.assign({Processes = {'P1'}, Message = 'M1'})\n"
        "ao.assign({Processes = {'P2', 'P3'}, Message = 'M2'})"
    )
    assert r.error == ""
    assert [(a.processes, a.message) for a in r.assignments] == [(("P1",), "M1"), (("P2", "P3"), "M2")]
    assert r.messages == () and r.spawns == ()
    assert "Assignment added to outbox." not in r.output.data  # only Assign prints
    # From a handler, too; a malformed assignment is the slot's error and leaves no assignment.
    proc.ok("Handlers.add('fan', 'Fan', function(msg) ao.assign({Processes = {'Q'}, Message = msg.Id}) end)")
    m = proc.message([("Action", "Fan")])
    r = proc.deliver(m)
    assert r.error == "" and [(a.processes, a.message) for a in r.assignments] == [(("Q",), encode_id(m.id))]
    bad = proc.eval(
        "ao.assign({Processes = {'P'}, Message = 'ok'}); ao.assign({Processes = 'P', Message = 'M'})"
    )
    assert "Processes should be a table" in bad.error and bad.assignments == ()


def test_results_are_per_slot(proc: Proc) -> None:
    assert (
        len(
            proc.eval(
                "Send({Target = 'a'}); Spawn('m', {}); Assign({Processes = {'p'}, Message = 'm'})"
            ).messages
        )
        == 1
    )
    r = proc.eval("return 1")
    assert r.messages == () and r.spawns == () and r.assignments == ()


def test_json_tag_values(proc: Proc) -> None:
    r = proc.eval("Send({Target = 'T', List = {3, 1}, Obj = {k = 'v'}, Fn = function() end})")
    tags = tags_of(r.messages[0])
    assert json.loads(tags["List"]) == [3, 1]
    assert tags["Obj"] == '{"k":"v"}'
    assert "Fn" not in tags
