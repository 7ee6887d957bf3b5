"""Handlers: patterns, order, once, continue/break, resolvers, receive; replies."""

from __future__ import annotations

from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from tests.devices.aos.conftest import Proc, tags_of


def test_ping_handler_added_by_eval_replies_to_sender(proc: Proc) -> None:
    proc.ok("Handlers.add('ping', 'Ping', function(msg) msg.reply({Data = 'pong', Action = 'Pong'}) end)")
    sender = Ed25519Signer.generate()
    m = proc.message([("Action", "Ping"), ("Reference", "7"), ("X-Origin", "somewhere")], signer=sender)
    r = proc.deliver(m)
    assert r.error == ""
    assert len(r.messages) == 1
    reply = r.messages[0]
    assert reply.target == sender.address
    assert reply.data == b"pong"
    tags = tags_of(reply)
    assert tags["Action"] == "Pong"
    assert tags["X-Reference"] == "7"
    assert tags["X-Origin"] == "somewhere"
    assert tags["Data-Protocol"] == "ao"
    assert tags["Type"] == "Message"
    assert tags["Reference"] == "1"
    assert reply.anchor == "0" * 31 + "1"
    assert r.output.print is True
    assert r.output.data == ""
    # A second ping: the reference counter moves on.
    r = proc.send([("Action", "Ping")])
    assert tags_of(r.messages[0])["Reference"] == "2"
    assert "X-Reference" not in tags_of(r.messages[0])


def test_reply_to_and_forward(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('fwd', 'Fwd', function(msg) msg.forward('TargetProcess', {Extra = 'yes'}) end)\n"
        "Handlers.add('r', 'R', function(msg) msg.reply('plain') end)"
    )
    r = proc.send([("Action", "R"), ("Reply-To", "Elsewhere")])
    assert r.messages[0].target == "Elsewhere"
    assert r.messages[0].data == b"plain"
    r = proc.send([("Action", "Fwd"), ("Reference", "9"), ("Note", "n")], "body")
    fwd = r.messages[0]
    tags = tags_of(fwd)
    assert fwd.target == "TargetProcess"
    assert fwd.data == b"body"
    assert tags["Action"] == "Fwd"
    assert tags["Note"] == "n"
    assert tags["Extra"] == "yes"
    assert tags["Reply-To"] == proc.owner.address
    assert tags["X-Reference"] == "9"
    assert tags["X-Origin"] == proc.owner.address
    assert tags["Reference"] == "2"  # its own, not the forwarded message's


def test_order_prepend_before_after(proc: Proc) -> None:
    proc.ok(
        "Order = {}\n"
        "local function h(name) return function() table.insert(Order, name) end end\n"
        "local any = function() return 'continue' end\n"
        "Handlers.add('b', any, h('b'))\n"
        "Handlers.add('d', any, h('d'))\n"
        "Handlers.prepend('a', any, h('a'))\n"
        "Handlers.before('d').add('c', any, h('c'))\n"
        "Handlers.after('d').add('e', any, h('e'))\n"
    )
    proc.send([("Action", "Anything")])
    assert proc.ok("return table.concat(Order, ',')") == "a,b,c,d,e"
    names = proc.ok(
        "local n = {} for _, o in ipairs(Handlers.list) do n[#n+1] = o.name end return table.concat(n, ',')"
    )
    assert names == "a,b,c,d,e"
    proc.ok("Handlers.remove('c'); Order = {}")
    proc.send([("Action", "Anything")])
    assert proc.ok("return table.concat(Order, ',')") == "a,b,d,e"
    # Adding a name that exists updates it in place.
    proc.ok(
        "Handlers.add('a', function() return 'continue' end, function() table.insert(Order, 'A')"
        " end); Order = {}"
    )
    proc.send([("Action", "Anything")])
    assert proc.ok("return table.concat(Order, ',')") == "A,b,d,e"
    assert proc.eval("Handlers.before('missing').add('x', 'X', function() end)").error != ""


def test_append_adds_at_the_end(proc: Proc) -> None:
    proc.ok(
        "Order = {}\n"
        "local function h(name) return function() table.insert(Order, name) end end\n"
        "local any = function() return 'continue' end\n"
        "Handlers.append('b', any, h('b'))\n"
        "Handlers.prepend('a', any, h('a'))\n"
        "Handlers.append('c', any, h('c'))\n"
        "Handlers.append('d', 'Go', h('d'))\n"
    )
    names = (
        "local n = {} for _, o in ipairs(Handlers.list) do n[#n+1] = o.name end return table.concat(n, ',')"
    )
    assert proc.ok(names) == "a,b,c,d"
    proc.send([("Action", "Go")])
    assert proc.ok("return table.concat(Order, ',')") == "a,b,c,d"
    # After the handlers already there, also after ones prepended later; a string pattern matches Action.
    proc.ok("Handlers.prepend('z', function() return 'continue' end, function() end)")
    proc.ok("Handlers.append('e', function() return 'continue' end, function() table.insert(Order, 'e') end)")
    assert proc.ok(names) == "z,a,b,c,d,e"
    proc.ok("Order = {}")
    proc.send([("Action", "Other")])
    assert proc.ok("return table.concat(Order, ',')") == "a,b,c,e"  # d wants Action=Go
    # Appending a name that exists updates it where it stands (as AOS), it does not move it.
    proc.ok("Handlers.append('b', function() return 'continue' end, function() table.insert(Order, 'B') end)")
    assert proc.ok(names) == "z,a,b,c,d,e"
    proc.ok("Order = {}")
    proc.send([("Action", "Go")])
    assert proc.ok("return table.concat(Order, ',')") == "a,B,c,d"  # d's string pattern matched: break


def test_break_stops_and_continue_goes_on(proc: Proc) -> None:
    proc.ok(
        "Order = {}\n"
        "Handlers.add('one', function(msg) return msg.Action == 'Go' and 'continue' or 'skip' end,"
        " function() table.insert(Order, 1) end)\n"
        "Handlers.add('two', function(msg) return msg.Action == 'Go' and 1 or 0 end, function()"
        " table.insert(Order, 2) end)\n"
        "Handlers.add('three', 'Go', function() table.insert(Order, 3) end)\n"
        "Handlers.add('four', function(msg) return true end, function() table.insert(Order, 4) end)\n"
    )
    r = proc.send([("Action", "Go")])
    assert r.error == ""
    assert proc.ok("return table.concat(Order, ',')") == "1,2,3"
    assert proc.ok("return #Inbox") == "0"  # handled: nothing in the Inbox
    proc.ok("Order = {}")
    proc.send([("Action", "Other")])
    assert proc.ok("return table.concat(Order, ',')") == "4"
    proc.ok(
        "Handlers.add('brk', function() return -1 end, function() table.insert(Order, 'b') end); Order = {}"
    )
    proc.send([("Action", "Go")])
    assert proc.ok("return table.concat(Order, ',')") == "1,2,3"


def test_continue_only_still_reaches_inbox(proc: Proc) -> None:
    proc.ok(
        "Count = 0; Handlers.add('count', function() return 'continue' end, function() Count = Count + 1 end)"
    )
    r = proc.send([("Action", "Hello")])
    assert r.output.data.startswith("New Message From ")
    assert r.output.data.endswith(": Action = Hello")
    assert proc.ok("return Count .. ' ' .. #Inbox .. ' ' .. Inbox[1].Action") == "1 1 Hello"


def test_invalid_pattern_result_is_an_error(proc: Proc) -> None:
    proc.ok("Handlers.add('bad', function() return {} end, function() end)")
    r = proc.send([("Action", "X")])
    assert "Pattern result is not valid" in r.error
    proc.ok("Handlers.remove('bad')")
    assert proc.send([("Action", "X")]).error == ""


def test_once(proc: Proc) -> None:
    proc.ok("Hits = 0; Handlers.once('Tick', function() Hits = Hits + 1 end)")
    proc.send([("Action", "Tick")])
    proc.send([("Action", "Tick")])
    assert proc.ok("return Hits") == "1"
    assert proc.ok("return #Inbox") == "1"  # the second Tick was unhandled
    proc.ok("Handlers.once('named', 'Tock', function() Hits = Hits + 10 end)")
    assert proc.ok("return Handlers.list[1].name") == "named"
    proc.send([("Action", "Tock")])
    proc.send([("Action", "Tock")])
    assert proc.ok("return Hits .. ' ' .. #Handlers.list") == "11 0"
    proc.ok("Handlers.add('thrice', 'Tuck', function() Hits = Hits + 100 end, 3)")
    for _ in range(4):
        proc.send([("Action", "Tuck")])
    assert proc.ok("return Hits") == "311"


def test_table_patterns(proc: Proc) -> None:
    proc.ok(
        "Got = {}\n"
        "Handlers.add('exact', {Action = 'T', Kind = 'a'}, function() table.insert(Got, 'exact') end)\n"
        "Handlers.add('wild', {Action = 'T', Kind = '_'}, function() table.insert(Got, 'wild') end)\n"
        "Handlers.add('fn', {Action = 'F', Quantity = function(v) return tonumber(v) > 10 end},"
        " function() table.insert(Got, 'fn') end)\n"
        "Handlers.add('pat', {Action = 'P', Name = '^ab%d+$'}, function() table.insert(Got, 'pat') end)\n"
        "Handlers.add('any', {Action = {'Y', 'Z'}}, function() table.insert(Got, 'any') end)\n"
        "Handlers.add('from', {From = Owner, Action = 'W'}, function() table.insert(Got, 'from') end)\n"
    )
    sends = [
        [("Action", "T"), ("Kind", "a")],
        [("Action", "T"), ("Kind", "b")],
        [("Action", "T")],
        [("Action", "F"), ("Quantity", "11")],
        [("Action", "F"), ("Quantity", "5")],
        [("Action", "P"), ("Name", "ab12")],
        [("Action", "P"), ("Name", "xab12")],
        [("Action", "Z")],
        [("Action", "W")],
    ]
    for tags in sends:
        assert proc.send(tags).error == ""
    assert proc.ok("return table.concat(Got, ',')") == "exact,wild,fn,pat,any,from"
    assert proc.ok("return #Inbox") == "3"


def test_handler_utils(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('tag', Handlers.utils.hasMatchingTag('Action', 'Hi'), Handlers.utils.reply('hello'))\n"
        "Handlers.add('data', Handlers.utils.hasMatchingData('ping'), Handlers.utils.reply({Data ="
        " 'pong', Kind = 'k'}))\n"
        "Handlers.add('of', Handlers.utils.hasMatchingTagOf('Action', {'A', 'B'}),"
        " Handlers.utils.reply('ab'))\n"
        "Handlers.add('cont', Handlers.utils.continue({Action = 'C'}), function() Continued = true end)\n"
    )
    assert proc.send([("Action", "Hi")]).messages[0].data == b"hello"
    r = proc.send([], "ping")
    assert r.messages[0].data == b"pong"
    assert tags_of(r.messages[0])["Kind"] == "k"
    assert proc.send([("Action", "B")]).messages[0].data == b"ab"
    r = proc.send([("Action", "C")])
    assert proc.ok("return Continued") == "true"
    assert proc.ok("return #Inbox") == "1"


def test_resolver_table(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('res', 'Res', {[{Mode = 'x'}] = function() Which = 'x' end, [{Mode = 'y'}] ="
        " function() Which = 'y' end})"
    )
    proc.send([("Action", "Res"), ("Mode", "y")])
    assert proc.ok("return Which") == "y"


def test_handler_error_is_an_error_result(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('boom', 'Boom', function(msg) print('working'); Send({Target = 'x'});"
        " error('kaput') end)"
    )
    r = proc.send([("Action", "Boom")])
    # AOS's framing: what was printed, the "Error handling message" lines, then "error:" and the error.
    assert r.error.startswith("working\nError handling message with Action = Boom\n")
    assert r.error.endswith('\n\nerror:\n[string "aos"]:1: kaput')
    assert r.messages == ()
    # The process goes on; the system handlers are gone from the list.
    assert (
        proc.ok(
            "local n = {} for _, o in ipairs(Handlers.list) do n[#n+1] = o.name end return"
            " table.concat(n, ',')"
        )
        == "boom"
    )


def test_on_reply_and_receive(proc: Proc) -> None:
    other = Ed25519Signer.generate()
    proc.ok(
        f"Handlers.add('ask', 'Ask', function(msg)\n"
        f"  local answer = Send({{Target = '{other.address}', Action = 'Question'}}).receive()\n"
        f"  Answer = answer.Data\n"
        f"  msg.reply({{Data = 'got ' .. answer.Data}})\n"
        f"end)\n"
        f"Handlers.add('cb', 'Cb', function(msg)\n"
        f"  ao.send({{Target = '{other.address}', Action = 'Q2'}}).onReply(function(r) Cb = r.Data end)\n"
        f"end)"
    )
    r = proc.send([("Action", "Ask")])
    assert r.error == ""
    question = r.messages[0]
    assert tags_of(question)["Action"] == "Question"
    ref = tags_of(question)["Reference"]
    assert proc.ok("return Answer") == ""  # suspended
    r = proc.send([("X-Reference", ref)], "42", signer=other)
    assert r.error == ""
    assert proc.ok("return Answer") == "42"
    assert [m.data for m in r.messages] == [b"got 42"]
    assert r.messages[0].target == proc.owner.address
    r = proc.send([("Action", "Cb")])
    ref = tags_of(r.messages[0])["Reference"]
    proc.send([("X-Reference", ref)], "cb-data", signer=other)
    assert proc.ok("return Cb") == "cb-data"
    # A reply from someone else does not match.
    proc.ok("Cb = nil")
    r = proc.send([("Action", "Cb")])
    ref = tags_of(r.messages[0])["Reference"]
    proc.send([("X-Reference", ref)], "spoof")
    assert proc.ok("return Cb") == ""


def test_msg_id_is_text(proc: Proc) -> None:
    proc.ok("Handlers.add('id', 'Id', function(msg) msg.reply({Data = msg.Id}) end)")
    m = proc.message([("Action", "Id")])
    assert proc.deliver(m).messages[0].data == encode_id(m.id).encode()
