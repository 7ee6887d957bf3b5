"""Recompute and compare: the follower computes the replicated process itself and compares each slot's
result digest with the leader's (GetResultDigests), counting agreement and divergence."""

from __future__ import annotations

from pathlib import Path

from aonode.client import NodeClient
from aonode.compute import layout as compute_layout
from aonode.ids import decode_id
from store import WriteBatch
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import add_replica, send, spawn, stored_slot


def test_divergence_counted_and_described(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 4)
            to_leader.compute(pid, 4)
            raw = decode_id(pid)
            # The leader's stored result of slot 2 is not what its schedule gives (a lying or broken node).
            with leader.node.store.read() as view:
                row = compute_layout.read_row(view, raw, 2)
            assert row is not None
            batch = WriteBatch()
            batch.put(compute_layout.RESULTS, compute_layout.slot_key(raw, 2), b"\x09" * 32 + row.hashpath)
            leader.node.store.submit(batch).result(10)
            add_replica(follower, leader.address, [pid])
            wait_for(lambda: stored_slot(follower, pid) == 4)
            (replica,) = follower.node.replication.followers.values()
            wait_for(lambda: replica.status[raw].stored_slot == 4)
            follower.call(replica.compare(raw))
            status = replica.status[raw]
            assert (status.agreed, status.diverged, status.compared_slot) == (4, 1, 4)
            assert status.last_divergence.startswith("slot 2 message ")
    finally:
        follower.stop()
        leader.stop()
