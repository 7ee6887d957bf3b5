"""Push over real gRPC: sync tree, async ID with GetPush, the CLI, and a push across two nodes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, sign_location
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Location
from aonode.rpc.convert import location_to_pb
from aonode.v1 import scheduler_pb2
from tests.compute.lua_helpers import needs_lua
from tests.conftest import ServerThread, make_config
from tests.push.helpers import PING_SELF

pytestmark = needs_lua

USER = Ed25519Signer.generate()


@pytest.fixture
def client(server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(server.address, timeout=60) as c:
        yield c


def spawn(client: NodeClient, boot: str, authority: str, scheduler: str | None = None) -> str:
    process = build_process(
        USER,
        module=encode_id(runtime_module().id),
        scheduler=scheduler or client.info().address,
        device="lua@5.3a",
        tags=[("Authority", authority), ("On-Boot", "Data")],
        data=boot.encode(),
    )
    client.schedule(process)
    return encode_id(process.id)


def test_sync_push_returns_the_tree(client: NodeClient) -> None:
    node = client.info().address
    pid = spawn(client, PING_SELF, node)
    slot = client.schedule(build_message(USER, pid, action="Ping", tags=[("Count", "1")])).slot
    report = client.push(pid, slot)
    assert report.state == "done" and report.delivered == 9
    chain = [n for n in report.tree.walk() if n.kind == "message"]
    assert [n.slot for n in chain] == list(range(2, 11))
    assert chain[-1].result is not None and chain[-1].result.output.data == "Done."
    again = client.push(pid, slot, result_depth=0)
    assert again.delivered == 0 and again.existing == 9 and again.tree.result is None
    assert client.get_slot(pid).current_slot == 10


def test_async_push_and_get_push(client: NodeClient) -> None:
    pid = spawn(client, PING_SELF, client.info().address)
    slot = client.schedule(build_message(USER, pid, action="Ping", tags=[("Count", "1")])).slot
    started = client.push(pid, slot, async_=True)
    assert started.push_id
    deadline = time.monotonic() + 30
    while (report := client.get_push(started.push_id)).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert report.state == "done" and report.delivered == 9
    with pytest.raises(ClientError) as caught:
        client.get_push("unknown")
    assert caught.value.code == "NOT_FOUND"


def test_cli_push_json(client: NodeClient, server: ServerThread) -> None:
    pid = spawn(client, PING_SELF, client.info().address)
    slot = client.schedule(build_message(USER, pid, action="Ping", tags=[("Count", "8")])).slot
    out = CliRunner().invoke(cli, ["push", pid, "--slot", str(slot), "--node", server.address, "--json"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.output)
    assert document["state"] == "done" and document["delivered"] == 2
    assert document["tree"]["children"][0]["slot"] == slot + 1
    text = CliRunner().invoke(cli, ["push", pid, "--slot", str(slot), "--node", server.address])
    assert text.exit_code == 0 and "0 delivered, 2 existing" in text.output
    missing = CliRunner().invoke(cli, ["push", "x" * 43, "--slot", "1", "--node", server.address])
    assert missing.exit_code == 1 and "error:" in missing.output


def test_push_across_two_nodes(tmp_path: Path) -> None:
    front = ServerThread(make_config(tmp_path / "front")).start()
    # home schedules what front's processes push to it only because it is told to trust front as a relay
    home = ServerThread(make_config(tmp_path / "home", trusted_relays=front.node.address)).start()
    try:
        with (
            NodeClient(home.address, timeout=60) as to_home,
            NodeClient(front.address, timeout=60) as to_front,
        ):
            record = sign_location(
                Location("", home.address, nonce=1, ttl_ms=60_000, timestamp=1), home.node.signer
            )
            to_front.scheduler.RegisterLocation(
                scheduler_pb2.RegisterLocationRequest(location=location_to_pb(record))
            )
            # B lives on home and trusts what the front node relays; front knows B's Process message.
            listener = 'Handlers.add("hi", "Hi", function(msg) print("HI FROM " .. msg.From) end)'
            b = spawn(to_home, listener, front.node.address, scheduler=home.node.address)
            to_front.publish(to_home.get_message(b))
            sender = 'Handlers.add("go", "Go", function(msg) Send({Target = msg.Data, Action = "Hi"}) end)'
            a = spawn(to_front, sender, front.node.address)
            slot = to_front.schedule(build_message(USER, a, action="Go", data=b.encode())).slot
            report = to_front.push(a, slot)
            assert report.state == "done"
            (delivery,) = report.tree.children
            assert delivery.process == b and delivery.slot == 1 and delivery.node == home.address
            assert delivery.stopped.startswith("remote")
            assert to_home.compute(b, 1).result.output.data == f"HI FROM {a}"
            again = to_front.push(a, slot)  # the home scheduler answers with the same assignment
            assert again.tree.children[0].slot == 1 and to_home.get_slot(b).current_slot == 1
    finally:
        front.stop()
        home.stop()
