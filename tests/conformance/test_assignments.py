"""Assignments on the real AOS 2 binaries and on the built-in runtime, side by side: a message whose
Target is another process, assigned to each (`SchedulerService.Assign`), is refused by both in the same
way (a note "Assignment is not trusted by this process!" to its sender, the same printed line) until the
process adds an assignable matching it (`ao.addAssignable`); then both run its handler."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.model import Message
from tests.conformance.conftest import FIXTURES, Fixture, spawn_fixture
from tests.conftest import ServerThread, make_config
from tests.hostile.support import spawn_aos

OWNER = Ed25519Signer.generate()
USER = Ed25519Signer.generate()
REFUSED = b"Assignment is not trusted by this process!"
AOS2 = [f for f in FIXTURES if f.aos2]  # the older AOS 1 binary has no assignment check


def eval_on(client: NodeClient, pid: str, code: str) -> str:
    slot = client.schedule(build_message(OWNER, pid, action="Eval", data=code.encode())).slot
    result = client.compute(pid, slot).result
    assert not result.error, result.error
    return str(result.output.data)


def outcome(client: NodeClient, pid: str, message: Message) -> tuple[list[tuple[str, bytes]], bool]:
    """Assign `message` to `pid` and compute it: the (Target, Data) of its outbox, and whether the refusal
    line was printed."""
    slot = client.assign(pid, encode_id(message.id)).slot
    result = client.compute(pid, slot).result
    assert not result.error, result.error
    line = f"Assignment is not trusted! From: {USER.address} - Owner: {USER.address}"
    return [(m.target, m.data) for m in result.messages], line in str(result.output.data)


@pytest.mark.parametrize("fixture", AOS2, ids=[f.name for f in AOS2])
def test_the_builtin_runtime_takes_assignments_as_aos2_does(fixture: Fixture, tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "node")).start()
    try:
        with NodeClient(server.address, timeout=300) as client:
            node = client.info().address
            real = spawn_fixture(client, OWNER, fixture)
            builtin = spawn_aos(client, OWNER, tags=[("Authority", node)])
            source = spawn_aos(client, OWNER)
            handler = "Handlers.add('ping', 'Ping', function(msg) Got = msg.Data end)"
            for pid in (real, builtin):
                eval_on(client, pid, handler)

            first = build_message(USER, source, action="Ping", data=b"first")
            client.schedule(first)
            refused = [(str(USER.address), REFUSED)], True
            assert outcome(client, real, first) == refused
            assert outcome(client, builtin, first) == refused

            for pid in (real, builtin):
                eval_on(client, pid, "ao.addAssignable('pings', { Action = 'Ping' })")
            second = build_message(USER, source, action="Ping", data=b"second")
            client.schedule(second)
            assert outcome(client, real, second) == outcome(client, builtin, second)
            for pid in (real, builtin):
                assert "second" in eval_on(client, pid, "return Got"), pid
    finally:
        server.stop()
