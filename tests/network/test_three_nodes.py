"""Three real nodes that know each other only through `aonode peer add` of one seed: gossip makes every
node know every location, the process directory finds processes never seen, and a ball passed across
all three through push needs no hand work; a node stopped during a push gets its delivery by itself,
exactly once, once it is back."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.testing import LocalNode
from tests.compute.lua_helpers import needs_lua
from tests.conftest import wait_for
from tests.network.helpers import USER, aonode, local_node, spawn_ball, wallet_of

pytestmark = needs_lua


@pytest.fixture
def three(tmp_path: Path) -> Iterator[list[LocalNode]]:
    nodes = [local_node(tmp_path, name) for name in ("a", "b", "c")]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def connect(nodes: list[LocalNode]) -> list[str]:
    """`peer add` of the seed (b) on a and c, and `relay trust` of the others on each, all through the
    CLI; returns the node addresses."""
    a, b, c = nodes
    addresses = []
    for node in nodes:
        code, out, err = aonode("info", "--node", node.address, "--json")
        assert code == 0, err
        addresses.append(json.loads(out)["address"])
    for node in (a, c):
        code, out, err = aonode(
            "peer", "add", b.address, "--node", node.address, "--wallet", str(wallet_of(node))
        )
        assert code == 0, err
        assert out.startswith(f"added {b.address}")
    for node, own in zip(nodes, addresses, strict=True):
        for other in addresses:
            if other != own:
                code, _, err = aonode(
                    "relay", "trust", other, "--node", node.address, "--wallet", str(wallet_of(node))
                )
                assert code == 0, err
    return addresses


def knows_all(node: LocalNode, addresses: list[str]) -> bool:
    with NodeClient(node.address) as client:
        return {loc.address for loc in client.locations(valid_only=True)} >= set(addresses)


def test_three_nodes_pass_a_ball_through_push(three: list[LocalNode]) -> None:
    a, b, c = three
    addresses = connect(three)
    for node in three:  # a and c learned each other only through the seed's gossip
        wait_for(functools.partial(knows_all, node, addresses), timeout=60)
    code, out, _ = aonode("location", "list", "--node", a.address)
    assert code == 0 and c.address in out and "expires in" in out
    code, out, _ = aonode("peer", "list", "--node", c.address, "--json")
    (seed,) = json.loads(out)["peers"]
    assert seed["url"] == b.address and seed["address"] == addresses[1] and seed["last_seen_ms"] > 0

    clients = [NodeClient(n.address, timeout=120) for n in three]
    try:
        pa, pb, pc = (spawn_ball(client, addresses) for client in clients)
        to_a = clients[0]
        # a has never seen pb or pc: scheduling on a is redirected there, through the directory
        with pytest.raises(ClientError) as redirect:
            to_a.schedule(build_message(USER, pc, action="Ball"))
        assert redirect.value.code == "FAILED_PRECONDITION"
        assert redirect.value.metadata["aonode-location-url"] == c.address
        with pytest.raises(ClientError) as pushed:  # a push of a process another node schedules too
            to_a.push(pb, 0)
        assert pushed.value.code == "FAILED_PRECONDITION"
        assert pushed.value.metadata["aonode-location-url"] == b.address
        slot = to_a.schedule(build_message(USER, pa, action="Ball", data=f"{pb},{pc},{pa}".encode())).slot
        code, out, err = aonode("push", pa, "--slot", str(slot), "--node", a.address, "--json")
        assert code == 0, out + err
        report = json.loads(out)
        assert report["state"] == "done" and report["delivered"] == 3 and report["undelivered"] == 0
        hop1 = report["tree"]["children"][0]
        hop2 = hop1["children"][0]
        hop3 = hop2["children"][0]
        assert (hop1["process"], hop1["node"]) == (pb, b.address)
        assert (hop2["process"], hop2["node"]) == (pc, c.address)
        assert (hop3["process"], hop3["node"]) == (pa, a.address)
        assert "REST " in hop3["result"]["Output"]["data"] and hop3["children"] == []
        assert f"BALL FROM {pc}" in clients[0].compute(pa, hop3["slot"]).result.output.data
        # pushed again: nothing is delivered twice, the remote deliveries are reported existing
        code, out, _ = aonode("push", pa, "--slot", str(slot), "--node", a.address, "--json")
        again = json.loads(out)
        assert code == 0 and again["delivered"] == 0 and again["existing"] == 3
        assert [clients[i].get_slot(p).current_slot for i, p in enumerate((pa, pb, pc))] == [2, 1, 1]

        # c stops; a ball for it waits: the push is incomplete, the CLI says so and exits 1
        clients[2].close()
        c.stop()
        slot = to_a.schedule(build_message(USER, pa, action="Ball", data=f"{pc},{pa}".encode())).slot
        code, out, err = aonode("push", pa, "--slot", str(slot), "--node", a.address)
        assert code == 1 and "incomplete" in out and "undelivered" in out, out + err
        assert "unreachable: UNAVAILABLE" in out
        push_id = out.rsplit("retries push ", 1)[1].split()[0]
        assert to_a.get_push(push_id).state == "incomplete"
        c.start()  # back on the same port and data: a's retries deliver the ball by themselves
        wait_for(lambda: to_a.get_push(push_id).state == "done", timeout=90)
        done = to_a.get_push(push_id)
        assert done.undelivered == 0
        with NodeClient(c.address) as to_c:
            schedule = to_c.get_schedule(pc, include_messages=True).messages
        relayed = [m for m in schedule if m.tag("From-Process") == pa and m.tag("From-Slot") == str(slot)]
        assert len(relayed) == 1  # exactly once, whatever the retries did
        assert to_a.get_slot(pa).current_slot == slot + 1  # and the ball came back, once
    finally:
        for client in clients:
            client.close()


def test_node_killed_in_the_middle_of_a_push(tmp_path: Path) -> None:
    """A long ball game between a (on node A) and c (on node C) is pushed asynchronously on A; C is
    killed (SIGKILL) while the ball is going back and forth, then restarted: A's retries finish the game
    by themselves, and every hop was delivered exactly once."""
    a, c = local_node(tmp_path, "a"), local_node(tmp_path, "c")
    a.start()
    c.start()
    try:
        connect_pair(a, c)
        with NodeClient(a.address, timeout=120) as to_a, NodeClient(c.address, timeout=120) as to_c:
            addresses = [to_a.info().address, to_c.info().address]
            pa, pc = spawn_ball(to_a, addresses), spawn_ball(to_c, addresses)
            rounds = 14  # 28 hops: within the hop bound (32), long enough to be killed in the middle
            route = ",".join([pc, pa] * rounds)
            slot = to_a.schedule(build_message(USER, pa, action="Ball", data=route.encode())).slot
            push_id = to_a.push(pa, slot, async_=True).push_id
            wait_for(lambda: to_c.get_slot(pc).current_slot >= 3, timeout=120)
        c.kill()
        with NodeClient(a.address, timeout=120) as to_a:
            state = to_a.get_push(push_id).state
            assert state in ("running", "incomplete"), state  # not done: c died in the middle
            wait_for(lambda: to_a.get_push(push_id).state == "incomplete", timeout=60)  # c is down
            c.start()
            wait_for(lambda: to_a.get_push(push_id).state == "done", timeout=240)
            with NodeClient(c.address, timeout=120) as to_c:
                wait_for(lambda: to_a.get_slot(pa).current_slot == slot + rounds, timeout=120)
                assert to_c.get_slot(pc).current_slot == rounds
                for client, process in ((to_a, pa), (to_c, pc)):
                    messages = list(client.iter_schedule_messages(process))
                    origins = [
                        (m.tag("From-Process"), m.tag("From-Slot"), m.tag("Outbox-Index"))
                        for _, m in messages
                        if m.tag("From-Process")
                    ]
                    assert len(origins) == len(set(origins)) == rounds  # each hop exactly once
    finally:
        a.stop()
        c.stop()


def connect_pair(a: LocalNode, c: LocalNode) -> None:
    """c peers with a; each trusts the other as a relay (through the CLI)."""
    code, _, err = aonode("peer", "add", a.address, "--node", c.address, "--wallet", str(wallet_of(c)))
    assert code == 0, err
    for node, other in ((a, c), (c, a)):
        with NodeClient(other.address) as client:
            address = client.info().address
        code, _, err = aonode(
            "relay", "trust", address, "--node", node.address, "--wallet", str(wallet_of(node))
        )
        assert code == 0, err
