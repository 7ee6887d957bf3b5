"""Push over real gRPC: sync tree, async ID with GetPush, the CLI, and a push across two nodes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
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
from aonode.wallet import load_or_create_wallet
from tests.compute.lua_helpers import needs_lua
from tests.conftest import ServerThread, make_config
from tests.push.helpers import BOUNCE, PING_SELF

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
        # one Authority tag per address: AOS (the conformance fixtures too) never splits a value at commas
        tags=[*(("Authority", a) for a in authority.split(",")), ("On-Boot", "Data")],
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
    assert caught.value.code == "INVALID_ARGUMENT"
    with pytest.raises(ClientError) as caught:
        client.get_push(encode_id(bytes(32)))
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


@contextmanager
def two_nodes(tmp_path: Path) -> Iterator[tuple[NodeClient, NodeClient, str, str, str, str]]:
    """front and home on 127.0.0.1, each trusting the other as a relay and knowing its location; yields
    clients to them, their addresses and their URLs."""
    front_config, home_config = make_config(tmp_path / "front"), make_config(tmp_path / "home")
    front_address, home_address = (
        load_or_create_wallet(c.node_wallet_path, c.wallet_type).address for c in (front_config, home_config)
    )
    front = ServerThread(replace(front_config, trusted_relays=home_address)).start()
    home = ServerThread(replace(home_config, trusted_relays=front_address)).start()
    try:
        with (
            NodeClient(front.address, timeout=60) as to_front,
            NodeClient(home.address, timeout=60) as to_home,
        ):
            for server, other in ((front, to_home), (home, to_front)):
                now = int(time.time() * 1000)  # valid now: an expired record is never used
                record = sign_location(
                    Location("", server.address, nonce=1, ttl_ms=600_000, timestamp=now), server.node.signer
                )
                other.scheduler.RegisterLocation(
                    scheduler_pb2.RegisterLocationRequest(location=location_to_pb(record))
                )
            yield to_front, to_home, front_address, home_address, front.address, home.address
    finally:
        front.stop()
        home.stop()


def test_push_continues_across_two_nodes(tmp_path: Path) -> None:
    with two_nodes(tmp_path) as (to_front, to_home, front, home, front_url, home_url):
        listener = 'Handlers.add("hello", "Hello", function(msg) print("HELLO FROM " .. msg.From) end)'
        c = spawn(to_home, listener, home, scheduler=home)
        relay = (
            f'Handlers.add("hi", "Hi", function(msg) Send({{Target = "{c}", Action = "Hello"}}); '
            'Send({Target = msg.From, Action = "Thanks"}) end)'
        )
        b = spawn(to_home, relay, front, scheduler=home)
        sender = """
Handlers.add("go", "Go", function(msg) Send({Target = msg.Data, Action = "Hi"}) end)
Handlers.add("thanks", "Thanks", function(msg) print("THANKS FROM " .. msg.From) end)
"""
        a = spawn(to_front, sender, f"{front},{home}")
        to_front.publish(to_home.get_message(b))  # front redirects to home what goes to B
        to_home.publish(to_front.get_message(a))  # and home to front what goes to A
        slot = to_front.schedule(build_message(USER, a, action="Go", data=b.encode())).slot
        report = to_front.push(a, slot)
        assert report.state == "done" and not [n.stopped for n in report.tree.walk() if n.stopped]
        (delivery,) = report.tree.children
        assert delivery.process == b and delivery.slot == 1 and delivery.node == home_url
        # home pushed B's slot and returned its tree: B's messages to C (on home) and back to A (on front)
        to_c, to_a = delivery.children
        assert (to_c.process, to_c.slot, to_c.node, to_c.from_process) == (c, 1, home_url, b)
        assert (to_a.process, to_a.slot, to_a.node) == (a, slot + 1, front_url)
        assert to_c.result is not None and to_c.result.output.data == f"HELLO FROM {b}"
        assert to_a.result is not None and to_a.result.output.data == f"THANKS FROM {b}"
        assert report.delivered == 3
        assert to_home.compute(c, 1).result.output.data == f"HELLO FROM {b}"  # computed where it lives
        assert to_front.compute(a, slot + 1).result.output.data == f"THANKS FROM {b}"
        again = to_front.push(a, slot)  # nothing is delivered twice, on either node
        assert [n.slot for n in again.tree.walk()] == [slot, 1, 1, slot + 1]
        assert to_home.get_slot(b).current_slot == 1 and to_home.get_slot(c).current_slot == 1
        assert to_front.get_slot(a).current_slot == slot + 1


def test_cross_node_bounce_stops_at_the_hop_bound(tmp_path: Path) -> None:
    with two_nodes(tmp_path) as (to_front, to_home, front, home, front_url, _):
        both = f"{front},{home}"
        a = spawn(to_front, BOUNCE, both)
        b = spawn(to_home, BOUNCE, both, scheduler=home)
        to_front.publish(to_home.get_message(b))
        to_home.publish(to_front.get_message(a))
        slot = to_front.schedule(build_message(USER, a, action="Kick", data=b.encode())).slot
        report = to_front.push(a, slot, result_depth=0, max_hops=6)  # home's own bound is 32
        assert report.state == "done" and report.delivered == 6
        chain, node = [], report.tree
        while node.children:
            (node,) = node.children
            chain.append((node.process, node.slot))
        assert chain == [(b, 1), (a, 2), (b, 2), (a, 3), (b, 3), (a, 4)]
        assert [n.stopped for n in report.tree.walk() if n.stopped] == [
            f"hop-limit: 1 hops reached; the slot on {front_url} is not pushed"
        ]  # the last push (on home, with the one hop left) made the 6th hop and stopped
        assert to_front.get_slot(a).current_slot == 4 and to_home.get_slot(b).current_slot == 3
