"""AOS behaviours AO programs rely on, written from AOS's public documentation and behaviour, checked on
every runtime the node offers (conftest.py): the built-in runtime and the real AOS WASM builds, which
are the reference. Outputs are compared without colour codes."""

from __future__ import annotations

import json

from aonode.client import NodeClient
from tests.conftest import plain
from tests.runtime.aos_behaviour.conftest import OWNER, STRANGER, AosProcess, Spawn


def out(r: object) -> str:
    return plain(r.output.data).strip()  # type: ignore[attr-defined]


def test_eval_returns_the_value(proc: AosProcess) -> None:
    assert proc.ok("return 1 + 1") == "2"
    assert proc.ok("return 'hello'") == "hello"


def test_state_lives_between_messages(proc: AosProcess) -> None:
    assert proc.ok("Counter = 41") == ""
    assert proc.ok("Counter = Counter + 1 return Counter") == "42"


def test_print_lines_come_before_the_value(proc: AosProcess) -> None:
    lines = proc.ok("print('first') print('second') return 'value'").split("\n")
    assert [line for line in lines if line] == ["first", "second", "value"]


def test_handler_with_string_table_and_function_patterns(proc: AosProcess) -> None:
    proc.ok(
        "Handlers.add('s', 'Ping', function(msg) print('pong ' .. msg.From) end) "
        "Handlers.add('t', {Action = 'Hey', Mood = '_'}, function(msg) print('mood ' .. msg.Mood) end) "
        "Handlers.add('f', function(msg) return msg.Tags.Special == 'yes' end, "
        "function(msg) print('special') end)"
    )
    assert out(proc.send("Ping")[1]) == f"pong {OWNER.address}"
    assert out(proc.send("Hey", tags=[("Mood", "good")])[1]) == "mood good"
    assert out(proc.send("Other", tags=[("Special", "yes")])[1]) == "special"


def test_handlers_utils_and_reply(proc: AosProcess) -> None:
    proc.ok(
        "Handlers.add('info', Handlers.utils.hasMatchingTag('Action', 'Info'), "
        "function(msg) msg.reply({Data = 'info for ' .. msg.From, Kind = 'Answer'}) end)"
    )
    _, r = proc.send("Info", signer=STRANGER)
    assert len(r.messages) == 1
    reply = r.messages[0]
    tags = {t.name: t.value for t in reply.tags}
    assert reply.target == STRANGER.address and reply.data == f"info for {STRANGER.address}".encode()
    assert tags["Kind"] == "Answer" and tags["Type"] == "Message" and "Reference" in tags


def test_unhandled_messages_go_to_the_inbox(proc: AosProcess) -> None:
    before = int(proc.ok("return #Inbox"))
    _, r = proc.send("Unknown", data="hi", signer=STRANGER)
    assert "New Message From" in out(r)
    assert int(proc.ok("return #Inbox")) == before + 1
    assert proc.ok("return Inbox[#Inbox].Action .. ' ' .. Inbox[#Inbox].Data") == "Unknown hi"


def test_handler_error_is_the_result_error(proc: AosProcess) -> None:
    proc.ok("Handlers.add('boom', 'Boom', function(msg) error('kaput') end)")
    _, r = proc.send("Boom")
    assert "kaput" in plain(r.error)
    assert proc.ok("return 'still alive'") == "still alive"


def test_eval_error_is_the_result_error(proc: AosProcess) -> None:
    r = proc.eval("error('boom')")
    assert "boom" in plain(r.error)
    r = proc.eval("x = = 1")
    assert "unexpected symbol" in plain(r.error)


def test_random_is_seeded_and_in_range(proc: AosProcess) -> None:
    values = proc.ok(
        "local t = {} for i = 1, 20 do t[i] = math.random(1, 10) end return table.concat(t, ',')"
    )
    numbers = [int(v) for v in values.split(",")]
    assert all(1 <= n <= 10 for n in numbers) and len(set(numbers)) > 1
    assert 0 <= float(proc.ok("return math.random()")) < 1


def test_os_time_is_the_message_timestamp_in_ms(proc: AosProcess) -> None:
    proc.ok("Handlers.add('t', 'Time', function(msg) print(os.time() .. ' ' .. msg.Timestamp) end)")
    assignment, r = proc.send("Time")
    now, stamp = out(r).split(" ")
    assert int(now) == int(stamp) == assignment.timestamp


def test_block_height_advances(proc: AosProcess) -> None:
    proc.ok("Handlers.add('h', 'Height', function(msg) print(msg['Block-Height']) end)")
    height = int(out(proc.send("Height")[1]))
    assert height > 0


def test_tags_reach_the_message_and_msg_tags(proc: AosProcess) -> None:
    proc.ok("Handlers.add('n', 'Norm', function(msg) print(msg.Color .. ' ' .. msg.Tags.Color) end)")
    assert out(proc.send("Norm", tags=[("Color", "red")])[1]) == "red red"


def test_magic_table_json_data(proc: AosProcess) -> None:
    proc.ok("Handlers.add('j', 'Json', function(msg) print(type(msg.Data) .. ' ' .. msg.Data.n) end)")
    _, r = proc.send("Json", data=json.dumps({"n": 7}), tags=[("Content-Type", "application/json")])
    assert out(r) == "table 7"


def test_send_sets_reference_and_table_data_is_json(proc: AosProcess) -> None:
    r = proc.eval("Send({Target = ao.id, Action = 'Note', Data = {a = 1}})")
    assert len(r.messages) == 1
    tags = {t.name: t.value for t in r.messages[0].tags}
    assert tags["Action"] == "Note" and tags["Reference"].isdigit()
    assert tags["Content-Type"] == "application/json" and json.loads(r.messages[0].data) == {"a": 1}


def test_reply_and_on_reply_through_push(client: NodeClient, proc: AosProcess) -> None:
    proc.ok(
        "Handlers.add('q', 'Question', function(msg) msg.reply({Data = 'answer'}) end) "
        "Handlers.add('ask', 'Ask', function(msg) "
        "  Send({Target = ao.id, Action = 'Question'}).onReply(function(reply) Got = reply.Data end) end)"
    )
    assignment, r = proc.send("Ask")
    assert not r.error
    report = client.push(proc.pid, assignment.slot)
    assert report.state == "done"
    assert proc.ok("return Got") == "answer"


def test_receive_waits_for_the_reply(client: NodeClient, proc: AosProcess) -> None:
    proc.ok(
        "Handlers.add('q', 'Question', function(msg) msg.reply({Data = 'later'}) end) "
        "Handlers.add('ask', 'Ask', function(msg) "
        "  local reply = Send({Target = ao.id, Action = 'Question'}).receive() Received = reply.Data end)"
    )
    assignment, _ = proc.send("Ask")
    client.push(proc.pid, assignment.slot)
    assert proc.ok("return Received") == "later"


def test_spawn_with_on_boot(spawn: Spawn) -> None:
    p = spawn(tags=[("On-Boot", "Data")], data="Booted = 'yes'")
    assert p.ok("return Booted") == "yes"


def test_spawn_message_shape(proc: AosProcess) -> None:
    r = proc.eval("Spawn(ao._module, {Name = 'child', Data = 'x = 1'})")
    assert len(r.spawns) == 1
    tags = {t.name: t.value for t in r.spawns[0].tags}
    assert tags["Type"] == "Process" and tags["From-Process"] == proc.pid and tags["Name"] == "child"
    assert "Reference" in tags


def test_authorities_from_every_authority_tag(spawn: Spawn, client: NodeClient) -> None:
    a, b, c = "A" * 43, "B" * 43, "C" * 43
    p = spawn(tags=[("Authority", f"{a},{b}"), ("Authority", c)])
    assert p.ok("return table.concat(ao.authorities, ' ')") == f"{a} {b} {c}"


def test_strangers_may_message_a_process_directly(proc: AosProcess) -> None:
    proc.ok("Handlers.add('p', 'Ping', function(msg) print('from ' .. msg.From) end)")
    _, r = proc.send("Ping", signer=STRANGER)
    assert out(r) == f"from {STRANGER.address}"


def test_only_the_owner_evaluates(proc: AosProcess) -> None:
    proc.ok("Secret = 1")
    r = proc.eval("Secret = 2", signer=STRANGER)
    assert not r.error
    assert proc.ok("return Secret") == "1"
