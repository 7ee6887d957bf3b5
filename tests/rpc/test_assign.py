"""Assignments (`SchedulerService.Assign`, ao's `assign`): a stored message takes another process's next
slot; the built-in AOS runtime takes it only when the process declared it assignable (AOS 2's
`ao.addAssignable`), else refuses it with AOS's text; an Eval its owner signed for one process is no longer
replayable into another; assigning twice answers the same assignment; GetAssignment finds both.

One real node over gRPC; every case spawns its own processes on the built-in runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.crypto import Ed25519Signer
from aonode.ids import decode_id, encode_id
from aonode.scheduler import verify_schedule
from tests.conftest import ServerThread, make_config
from tests.hostile.support import OWNER, spawn_aos

USER = Ed25519Signer.generate()
REFUSED = "Assignment is not trusted by this process!"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path_factory.mktemp("assign"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(node: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(node.address, timeout=120) as c:
        yield c


def evaluate(client: NodeClient, pid: str, code: str) -> str:
    slot = client.schedule(build_message(OWNER, pid, action="Eval", data=code.encode())).slot
    result = client.compute(pid, slot).result
    assert not result.error, result.error
    return str(result.output.data)


def test_an_assignment_reaches_the_handler_only_when_assignable(
    client: NodeClient, node: ServerThread
) -> None:
    p1, p2 = spawn_aos(client), spawn_aos(client)
    evaluate(client, p2, "Handlers.add('ping', 'Ping', function(msg) Got = msg.Data end)")
    ping = build_message(USER, p1, action="Ping", data=b"first")
    client.schedule(ping)
    mid = encode_id(ping.id)

    # Not assignable (the default): in p2's schedule, refused as AOS 2 refuses it, the handler not run.
    a = client.assign(p2, mid)
    assert encode_id(a.process) == p2 and a.message == ping.id
    page = client.get_schedule(p2, from_slot=a.slot, limit=1, include_messages=True)
    assert page.messages[0].id == ping.id and page.messages[0].target == p1
    result = client.compute(p2, a.slot).result
    assert not result.error, result.error
    assert f"Assignment is not trusted! From: {USER.address} - Owner: {USER.address}" in result.output.data
    assert [(m.target, m.data) for m in result.messages] == [(str(USER.address), REFUSED.encode())]
    assert evaluate(client, p2, "return tostring(Got) .. ' ' .. #Inbox") == "nil 0"

    # Declared assignable: the next assignment runs the handler (and a non-matching one is still refused).
    evaluate(client, p2, "ao.addAssignable('pings', { Action = 'Ping' })")
    second = build_message(USER, p1, action="Ping", data=b"second")
    other = build_message(USER, p1, action="Pong", data=b"other")
    client.schedule(second)
    client.schedule(other)
    slot = client.assign(p2, encode_id(second.id)).slot
    assert not client.compute(p2, slot).result.error
    refused = client.compute(p2, client.assign(p2, encode_id(other.id)).slot).result
    assert [m.data for m in refused.messages] == [REFUSED.encode()]
    assert evaluate(client, p2, "return Got") == "second"
    # Removed again: refused.
    evaluate(client, p2, "ao.removeAssignable('pings')")
    third = build_message(USER, p1, action="Ping", data=b"third")
    client.schedule(third)
    assert client.compute(p2, client.assign(p2, encode_id(third.id)).slot).result.messages[0].data == (
        REFUSED.encode()
    )
    assert evaluate(client, p2, "return Got") == "second"
    # The schedule with assignments verifies (the independent verifier).
    verify_schedule(node.node.store, decode_id(p2)).raise_for_problems()


def test_an_owner_eval_is_not_replayed_into_another_process(client: NodeClient) -> None:
    """The concern behind the old 501: the owner's Eval for p1, assigned to p2 (same owner), must not run
    there as the owner."""
    p1, p2 = spawn_aos(client), spawn_aos(client)
    order = build_message(OWNER, p1, action="Eval", data=b"Pwned = 'yes'")
    client.schedule(order)
    slot = client.assign(p2, encode_id(order.id)).slot
    result = client.compute(p2, slot).result
    assert not result.error and result.messages[0].data == REFUSED.encode()
    assert evaluate(client, p2, "return tostring(Pwned)") == "nil"
    assert evaluate(client, p1, "return tostring(Pwned)") == "yes"
    # A user redefining ao.isAssignment does not let one in: the runtime decides what an assignment is.
    evaluate(client, p2, "ao.isAssignment = function() return false end")
    again = build_message(OWNER, p1, action="Eval", data=b"Pwned = 'again'")
    client.schedule(again)
    client.compute(p2, client.assign(p2, encode_id(again.id)).slot)
    assert evaluate(client, p2, "return tostring(Pwned)") == "nil"


def test_assigning_twice_answers_the_same_assignment(client: NodeClient) -> None:
    p1, p2 = spawn_aos(client), spawn_aos(client)
    m = build_message(USER, p1, action="Ping")
    own = client.schedule(m)
    mid = encode_id(m.id)
    first = client.assign(p2, mid)
    again = client.assign(p2, mid)
    assert again == first and again.id == first.id
    assert client.get_slot(p2).current_slot == first.slot
    # On its own target, Assign is scheduling: the assignment it already has.
    assert client.assign(p1, mid) == own
    # GetAssignment: its own target by default, the assignment when the process is named.
    assert client.get_assignment(mid) == own
    assert client.get_assignment(mid, p2) == first
    assert client.get_assignment(mid, p1) == own
    with pytest.raises(ClientError) as caught:
        client.get_assignment(mid, spawn_aos(client))
    assert caught.value.code == "NOT_FOUND"


def test_assign_refusals(client: NodeClient, node: ServerThread) -> None:
    p1, p2 = spawn_aos(client), spawn_aos(client)
    m = build_message(USER, p1, action="Ping")
    client.schedule(m)
    unknown = encode_id(b"\x07" * 32)

    def code(process: str, message: str) -> str:
        with pytest.raises(ClientError) as caught:
            client.assign(process, message)
        return caught.value.code

    assert code(p2, unknown) == "NOT_FOUND"  # a message this node does not hold
    assert code(unknown, encode_id(m.id)) == "NOT_FOUND"  # a process it does not know
    assert code(p2, p1) == "INVALID_ARGUMENT"  # a Process message
    assert code(p2, "not-an-id") == "INVALID_ARGUMENT"
    assert code("", encode_id(m.id)) == "INVALID_ARGUMENT"
    assert client.get_slot(p2).current_slot == 0  # nothing was assigned


def test_a_relayed_message_is_not_assignable_elsewhere(tmp_path: Path) -> None:
    relay = Ed25519Signer.generate()
    server = ServerThread(make_config(tmp_path / "node", trusted_relays=str(relay.address))).start()
    try:
        with NodeClient(server.address, timeout=120) as client:
            p1, p2 = spawn_aos(client), spawn_aos(client)
            for tag in ("From-Process", "Cron-From"):
                relayed = build_message(relay, p1, action="Credit-Notice", tags=[(tag, p1)])
                client.schedule(relayed)  # on its own target: the relay's to deliver
                with pytest.raises(ClientError) as caught:
                    client.assign(p2, encode_id(relayed.id))
                assert caught.value.code == "PERMISSION_DENIED" and tag in caught.value.details
            assert client.get_slot(p2).current_slot == 0
    finally:
        server.stop()
