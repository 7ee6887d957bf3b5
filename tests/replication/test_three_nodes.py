"""leader → replica → replica of the replica, with traffic on a Lua and a WASM process, a cron task and a
push between two processes: all three nodes end with the same bytes for every assignment and the same
result digest for every slot (each computes on its own devices), and the replicas' compare agrees. Then a
hand-off: the leader dies, the replica is promoted for every process (`aonode replica promote`, signed by
the owner), schedules them itself with more traffic and a push, and the replica of the replica keeps
following across the change of signer: the two agree on every assignment and result digest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.devices.aos import runtime_module
from aonode.ids import decode_id, encode_id
from aonode.replication import Follower
from aonode.wallet import signer_to_jwk
from tests.conftest import ServerThread, make_config, wait_for
from tests.devices.wasm.helpers import MODULES
from tests.replication.helpers import USER, add_replica, assignments, stored_slot

SENDER = 'Handlers.add("go", "Go", function(msg) Send({Target = msg.Data, Action = "Hi"}) end)'
LISTENER = (
    'Handlers.add("hi", "Hi", function(msg) print("HI FROM " .. msg.From) end)\n'
    'Handlers.add("tick", "Tick", function(msg) Ticks = (Ticks or 0) + 1; print(Ticks) end)'
)


def lua(client: NodeClient, boot: str, node: str) -> str:
    process = build_process(
        USER,
        module=encode_id(runtime_module().id),
        scheduler=node,
        device="lua@5.3a",
        tags=[("Authority", node), ("On-Boot", "Data")],
        data=boot.encode(),
    )
    client.schedule(process)
    return encode_id(process.id)


def caught_up(node: ServerThread, heads: dict[str, int]) -> Callable[[], bool]:
    return lambda: all(stored_slot(node, p) >= s for p, s in heads.items())


def counted(follower: Follower, process: bytes, head: int) -> Callable[[], bool]:
    return lambda: follower.status[process].stored_slot >= head


@pytest.mark.skipif(not (MODULES / "aos.wasm").exists(), reason="aos.wasm is not built")
def test_three_nodes_agree_on_every_digest(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    middle = ServerThread(make_config(tmp_path / "middle")).start()
    last = ServerThread(make_config(tmp_path / "last")).start()
    nodes = (leader, middle, last)
    try:
        with NodeClient(leader.address, timeout=60) as to_leader:
            node = leader.node.address
            a = lua(to_leader, SENDER, node)
            b = lua(to_leader, LISTENER, node)
            module = build_module(USER, (MODULES / "aos.wasm").read_bytes(), "application/wasm")
            to_leader.publish(module)
            wasm = build_process(USER, module=encode_id(module.id), scheduler=node, device="wasm64@1.0")
            to_leader.schedule(wasm)
            w = encode_id(wasm.id)
            add_replica(middle, leader.address, [], everything=True)
            add_replica(last, middle.address, [], everything=True)
            for i in range(3):
                to_leader.schedule(build_message(USER, w, action="Count", anchor=f"c{i}"))
            to_leader.cron_every(USER, b, "1-seconds", tags=[("Action", "Tick")])
            slot = to_leader.schedule(build_message(USER, a, action="Go", data=b.encode())).slot
            report = to_leader.push(a, slot)
            assert report.state == "done" and report.delivered == 1
            wait_for(lambda: stored_slot(leader, b) >= 3, timeout=30)  # a delivery and cron ticks
            heads = {p: stored_slot(leader, p) for p in (a, b, w)}
            for replica in (middle, last):
                wait_for(caught_up(replica, heads), timeout=60)
            for p, head in heads.items():
                reference = assignments(leader, p)[: head + 1]
                for replica in (middle, last):
                    assert assignments(replica, p)[: head + 1] == reference, p
                with NodeClient(middle.address, timeout=60) as c2, NodeClient(last.address, timeout=60) as c3:
                    digests = {c.compute(p, head).result_digest for c in (to_leader, c2, c3)}
                assert len(digests) == 1, p
            # Each replica's compare agrees with its own leader on every slot both computed.
            for replica in (middle, last):
                (follower,) = replica.node.replication.followers.values()
                for p, head in heads.items():
                    raw = decode_id(p)
                    wait_for(counted(follower, raw, head))
                    replica.call(follower.compare(raw))
                    status = follower.status[raw]
                    assert status.diverged == 0 and status.agreed >= head + 1, (p, status)
            hand_off(tmp_path, leader, middle, last, heads, a, b, w)
    finally:
        for n in reversed(nodes):
            if not n.loop.is_closed():  # the hand-off stopped the leader
                n.stop()


def hand_off(
    tmp_path: Path,
    leader: ServerThread,
    middle: ServerThread,
    last: ServerThread,
    heads: dict[str, int],
    a: str,
    b: str,
    w: str,
) -> None:
    wallet = tmp_path / "owner.json"
    wallet.write_text(json.dumps(signer_to_jwk(USER)))
    for p in heads:  # everything the leader assigned has reached the middle (promote continues from it)
        wait_for(lambda p=p: stored_slot(middle, p) == stored_slot(leader, p), timeout=60)  # type: ignore[misc]
    leader.stop()
    for p in heads:
        run = CliRunner().invoke(
            cli, ["replica", "promote", p, "--wallet", str(wallet), "--node", middle.address, "--json"]
        )
        assert run.exit_code == 0, run.output
        assert json.loads(run.output)["role"] == "scheduler"
    new = middle.node.address
    with NodeClient(middle.address, timeout=60) as to_middle:
        for i in range(3):
            to_middle.schedule(build_message(USER, w, action="Count", anchor=f"after{i}"))
        slot = to_middle.schedule(build_message(USER, a, action="Go", data=b.encode())).slot
        report = to_middle.push(a, slot)
        assert report.state == "done" and report.delivered == 1
        assert to_middle.get_slot(a).scheduler == new
        after = {p: stored_slot(middle, p) for p in heads}
        assert all(after[p] > heads[p] for p in (a, b, w))
        wait_for(caught_up(last, after), timeout=60)
        with NodeClient(last.address, timeout=60) as to_last:
            for p, head in after.items():
                assert assignments(last, p) == assignments(middle, p), p
                assert to_last.get_slot(p).scheduler == new
                assert to_last.compute(p, head).result_digest == to_middle.compute(p, head).result_digest, p
    (follower,) = last.node.replication.followers.values()
    assert follower.state == "following", follower.last_error
    for p in heads:
        assert follower.status[decode_id(p)].scheduler == new
