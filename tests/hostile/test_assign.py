"""Hostile: the assignment entry points (`SchedulerService.Assign`, the legacy `POST /?process-id=&assign=`).
Unknown messages and processes, Process messages, malformed IDs, relayed messages, a flood of the same
assignment, and bodies and parameters over HTTP each get their status, assign nothing they should not, and
leave the node serving and the target process computing; a stranger's message assigned into a process
does not run there (the runtime refuses it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from tests.conftest import ServerThread, make_config
from tests.gateway.conftest import Http
from tests.hostile.support import ATTACKER, OWNER, assert_node_healthy, assert_process_computes, spawn_aos
from tests.metrics.scrape import scrape, value

RELAY = Ed25519Signer.generate()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    config = make_config(
        tmp_path_factory.mktemp("assign"), http="127.0.0.1:0", trusted_relays=str(RELAY.address)
    )
    server = ServerThread(config).start()
    try:
        yield server
    finally:
        server.stop()


def code_of(client: NodeClient, process: str, message: str) -> str:
    with pytest.raises(ClientError) as caught:
        client.assign(process, message)
    return caught.value.code


def test_hostile_assignments_over_grpc(node: ServerThread) -> None:
    with NodeClient(node.address, timeout=120) as client:
        victim, elsewhere = spawn_aos(client), spawn_aos(client)
        relayed = build_message(RELAY, elsewhere, action="Credit-Notice", tags=[("From-Process", elsewhere)])
        client.schedule(relayed)
        plain = build_message(ATTACKER, elsewhere, action="Ping")
        client.schedule(plain)
        cases = {
            (victim, encode_id(b"\x01" * 32)): "NOT_FOUND",  # a message nobody stored
            (encode_id(b"\x02" * 32), encode_id(plain.id)): "NOT_FOUND",  # an unknown process
            (victim, victim): "INVALID_ARGUMENT",  # a Process message (its own)
            (victim, elsewhere): "INVALID_ARGUMENT",  # another Process message
            (victim, "x" * 10_000): "INVALID_ARGUMENT",
            ("\u0000" * 43, encode_id(relayed.id)): "INVALID_ARGUMENT",
            (victim, encode_id(relayed.id)): "PERMISSION_DENIED",  # a relay vouched for its target only
        }
        for (process, message), expected in cases.items():
            assert code_of(client, process, message) == expected, (process[:50], message[:50])
        assert client.get_slot(victim).current_slot == 0

        # The owner's Eval for `elsewhere`, assigned by an attacker into `victim` (same owner): refused.
        order = build_message(OWNER, elsewhere, action="Eval", data=b"Owned = 'attacker'")
        client.schedule(order)
        # A flood of the same assignment is one slot.
        slots = {client.assign(victim, encode_id(order.id)).slot for _ in range(50)}
        assert slots == {1} and client.get_slot(victim).current_slot == 1
        result = client.compute(victim, 1).result
        assert not result.error and b"Assignment is not trusted by this process!" in result.messages[0].data
        probe = build_message(OWNER, victim, action="Eval", data=b"return tostring(Owned)")
        assert client.compute(victim, client.schedule(probe).slot).result.output.data == "nil"
        # An attacker's own message assigned: the same.
        own = build_message(ATTACKER, elsewhere, action="Eval", data=b"Owned = 'attacker'")
        client.schedule(own)
        assert not client.compute(victim, client.assign(victim, encode_id(own.id)).slot).result.error
        assert_process_computes(client, victim)
    assert_node_healthy(node.address)


def test_hostile_assignments_over_http(node: ServerThread, tmp_path: Path) -> None:
    assert node.running is not None and node.running.http is not None
    http = Http(node.running.http.url)
    with NodeClient(node.address, timeout=120) as client:
        victim, elsewhere = spawn_aos(client), spawn_aos(client)
        m = build_message(ATTACKER, elsewhere, action="Ping")
        client.schedule(m)
        mid = encode_id(m.id)
        nobody, no_process = encode_id(b"\x03" * 32), encode_id(b"\x04" * 32)
        cases = {
            f"/?process-id={victim}&assign={nobody}": (404, b""),
            f"/?process-id={no_process}&assign={mid}": (404, b""),
            f"/?process-id={victim}&assign={elsewhere}": (400, b""),
            f"/?process-id={victim}&assign=%00%00": (400, b""),
            f"/?process-id={victim}": (400, b""),  # the ao SU: both or neither
            f"/?assign={mid}": (400, b""),
            f"/?process-id={victim}&assign={mid}&base-layer": (400, b""),
            f"/?process-id={victim}&assign={mid}": (413, b"x" * (1 << 17)),  # a body it does not read
        }
        for path, (status, body) in cases.items():
            reply = http.post(path, body)
            assert reply.status == status, (path[:80], reply.status, reply.text)
        assert client.get_slot(victim).current_slot == 0
        first = http.post(f"/?process-id={victim}&assign={mid}", b"").json()
        again = http.post(f"/?process-id={victim}&assign={mid}", b"").json()
        assert (
            first == again and first["slot"] == 1 and first["process"] == victim and first["message"] == mid
        )
        assert first["id"] == encode_id(client.get_assignment(mid, victim).id)
        # Counted under the route's own fixed name.
        samples = scrape(http.base.removeprefix("http://"))
        labels = {"route": "assign", "method": "POST", "status": "200"}
        assert value(samples, "aonode_http_requests_total", labels) == 2
        assert_process_computes(client, victim)
    assert_node_healthy(node.address)
