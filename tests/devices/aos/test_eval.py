"""Eval: owner-only code in the process environment; values and prints in Output.data; errors."""

from __future__ import annotations

from aonode.crypto import Ed25519Signer
from tests.devices.aos.conftest import Proc


def test_globals_persist(proc: Proc) -> None:
    assert proc.ok("X = 42") == ""
    assert proc.ok("return X") == "42"
    assert proc.ok("X") == "42"


def test_expressions(proc: Proc) -> None:
    assert proc.ok("return 1+1") == "2"
    assert proc.ok("return 2+2") == "4"
    assert proc.ok("1 + 1") == "2"
    assert proc.ok("return 10 / 4") == "2.5"
    assert proc.ok("return 'hello'") == "hello"
    assert proc.ok("return true") == "true"
    assert proc.ok("return nil") == ""


def test_eval_output_is_not_a_print(proc: Proc) -> None:
    r = proc.eval("return 1")
    assert r.output.print is False
    assert r.output.prompt == "test-proc@aos-0.3.0[Inbox:0]> "
    assert r.messages == ()


def test_tables_pretty_printed_deterministically(proc: Proc) -> None:
    proc.ok(
        "T = {zeta = 1, alpha = {3, 2, 1}, [10] = 'ten', 'first', ['not ident'] = false, nested = {x = {}}}"
    )
    expected = (
        "{\n"
        '  "first",\n'
        '  [10] = "ten",\n'
        "  alpha = { 3, 2, 1 },\n"
        "  nested = {\n"
        "    x = {}\n"
        "  },\n"
        '  ["not ident"] = false,\n'
        "  zeta = 1\n"
        "}"
    )
    assert proc.ok("return T") == expected
    assert proc.ok("return T") == expected
    assert proc.ok("T.self = T; return T.nested") == "{\n  x = {}\n}"
    assert "self = <circular reference>" in proc.ok("return T")
    assert proc.ok('return {"a\\n\\"b"}') == '{ "a\\n\\"b" }'


def test_print_is_captured(proc: Proc) -> None:
    assert proc.ok("print('one'); print({1, 2}); print('a', 2, nil); return 'done'") == (
        "one\n{ 1, 2 }\na\t2\tnil\ndone"
    )
    assert proc.ok("return 1") == "1"  # the previous slot's lines are gone


def test_multiline_code_and_functions(proc: Proc) -> None:
    code = "function Add(a, b)\n  return a + b\nend\nlocal r = Add(2, 3)\nreturn r * 10"
    assert proc.ok(code) == "50"
    assert proc.ok("return Add(1, 1)") == "2"


def test_syntax_error_is_an_error_result(proc: Proc) -> None:
    r = proc.eval("x = = 1")
    assert r.error.startswith('\n\nerror:\n[string "aos"]:1:')
    assert r.output.data == ""
    assert proc.ok("return 5") == "5"


def test_runtime_error_keeps_printed_lines(proc: Proc) -> None:
    r = proc.eval("print('before'); Send({Target = ao.id, Data = 'x'}); error('boom')")
    assert r.error == 'before\n\nerror:\n[string "aos"]:1: boom'
    assert r.messages == ()
    r = proc.eval("error({code = 7})")
    assert r.error == "\n\nerror:\n{\n  code = 7\n}"


def test_eval_from_non_owner_is_refused(proc: Proc) -> None:
    stranger = Ed25519Signer.generate()
    r = proc.eval("Pwned = true; return 'ran'", signer=stranger)
    assert r.error == ""
    assert "ran" not in r.output.data
    assert r.output.data.startswith("New Message From ")
    assert proc.ok("return Pwned == nil") == "true"
    assert proc.ok("return #Inbox") == "1"


def test_environment_globals(proc: Proc) -> None:
    assert proc.ok("return ao.id") == proc.id
    assert proc.ok("return Owner") == proc.owner.address
    assert proc.ok("return ao.env.Process.Id == ao.id and ao.env.Process.Owner == Owner") == "true"
    assert proc.ok("return ao.env.Process.Tags.Name") == "test-proc"
    assert proc.ok("return Name") == "test-proc"
    assert proc.ok("return #ao.env.Process.TagArray") == "3"
    assert proc.ok("return type(Handlers.add)") == "function"
    assert proc.ok("Version()") == "version: 0.3.0"
    assert proc.ok("return require('json') == json and require('.json') == json") == "true"


def test_msg_fields(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('inspect', 'Inspect', function(msg) "
        "  Seen = {Id = msg.Id, From = msg.From, Owner = msg.Owner, Target = msg.Target, Data = msg.Data, "
        "    Action = msg.Action, Custom = msg['X-Custom'], TagCustom = msg.Tags['X-Custom'], "
        "    First = msg.TagArray[1].name, Timestamp = msg.Timestamp, Height = msg['Block-Height'], "
        "    Nonce = msg.Nonce, Cron = msg.Cron, Module = msg.Module, Type = msg.Type, TagType ="
        " msg.Tags.Type } "
        "end)"
    )
    m = proc.message([("Action", "Inspect"), ("X-Custom", "v"), ("Type", "Message")], "payload")
    r = proc.deliver(m)
    assert r.error == ""
    slot = proc.slot
    out = proc.ok(
        "return table.concat({Seen.Id, Seen.From, Seen.Owner, Seen.Target, Seen.Data, Seen.Action,"
        " Seen.Custom, "
        "Seen.TagCustom, Seen.First, tostring(Seen.Timestamp), tostring(Seen.Height), tostring(Seen.Nonce), "
        "tostring(Seen.Cron), Seen.Module, tostring(Seen.Type), Seen.TagType}, '|')"
    )
    from aonode.ids import encode_id

    assert out.split("|") == [
        encode_id(m.id),
        proc.owner.address,
        proc.owner.address,
        proc.id,
        "payload",
        "Inspect",
        "v",
        "v",
        "Action",
        str(1_700_000_000_000 + slot * 1000),
        str(1000 + slot),
        str(slot),
        "false",
        "",
        "nil",
        "Message",
    ]


def test_json_data_is_decoded(proc: Proc) -> None:
    proc.ok("Handlers.add('j', 'J', function(msg) Got = msg.Data end)")
    proc.send([("Action", "J"), ("Content-Type", "application/json")], '{"b": [1, 2], "a": "x"}')
    assert proc.ok("return Got.a .. #Got.b") == "x2"
    proc.send([("Action", "J"), ("Content-Type", "application/json")], "not json")
    assert proc.ok("return Got") == "not json"


def test_boot_runs_process_data() -> None:
    p = Proc(tags=[("On-Boot", "Data")], data=b"Booted = 'yes'\nprint('booting')")
    try:
        assert p.boot.error == ""
        assert p.boot.output.data == "booting"
        assert p.ok("return Booted") == "yes"
        assert p.ok("return #Inbox") == "0"
    finally:
        p.close()
