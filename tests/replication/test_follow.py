"""A follower on 127.0.0.1 replicating a leader over real gRPC: catch-up then live, byte-identical
schedules, read-replica answers, redirected writes, resume after a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.ids import decode_id, encode_id
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import USER, add_replica, assignments, send, spawn, stored_slot


def test_catch_up_then_live_identical_reads_and_redirects(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        with NodeClient(leader.address) as to_leader, NodeClient(follower.address) as to_follower:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 30)
            replica = add_replica(follower, leader.address, [pid])
            assert replica.leader == leader.address and replica.state in ("connecting", "following")
            wait_for(lambda: stored_slot(follower, pid) == 30)  # the backlog
            send(to_leader, pid, 20, start=30)  # live
            wait_for(lambda: stored_slot(follower, pid) == 50)
            # The identical bytes: every assignment (so every assignment ID and object digest).
            assert assignments(follower, pid) == assignments(leader, pid)
            # Read-replica answers equal the leader's.
            assert to_follower.get_slot(pid) == to_leader.get_slot(pid)
            page_f = to_follower.get_schedule(pid, from_slot=0, limit=100)
            page_l = to_leader.get_schedule(pid, from_slot=0, limit=100)
            assert page_f == page_l
            m7 = encode_id(to_leader.get_schedule(pid, from_slot=7, limit=1).assignments[0].message)
            assert to_follower.get_assignment(m7) == to_leader.get_assignment(m7)
            assert to_follower.get_message(m7) == to_leader.get_message(m7)
            # The follower computes on its own devices: the same result.
            assert to_follower.compute(pid, 50).result_digest == to_leader.compute(pid, 50).result_digest
            # Writes go to the leader.
            with pytest.raises(ClientError) as caught:
                to_follower.schedule(build_message(USER, pid, action="Eval", data=b"x = 1"))
            assert caught.value.code == "FAILED_PRECONDITION"
            assert caught.value.metadata["aonode-scheduler"] == leader.node.address
            assert stored_slot(follower, pid) == 50 and stored_slot(leader, pid) == 50
    finally:
        follower.stop()
        leader.stop()


def test_resume_after_restart(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    config = make_config(tmp_path / "follower")
    follower = ServerThread(config).start()
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 10)
            add_replica(follower, leader.address, [pid])
            wait_for(lambda: stored_slot(follower, pid) == 10)
            # The persisted process record names the scheduler (the redirect after a restart uses it).
            row = follower.node.store.get("replica_procs", decode_id(pid))
            assert row is not None and json.loads(row)["scheduler"] == leader.node.address
            follower.stop()
            send(to_leader, pid, 15, start=10)  # while the follower is down
            follower = ServerThread(config).start()  # the replica is persisted: it resumes
            wait_for(lambda: stored_slot(follower, pid) == 25)
            assert assignments(follower, pid) == assignments(leader, pid)
            (replica,) = follower.node.replication.followers.values()
            wait_for(lambda: replica.status[decode_id(pid)].stored_slot == 25)  # the commit was counted
            (status,) = follower.node.replication.list()
            (proc,) = status.processes
            assert proc.verified == 15  # only what it did not have: nothing stored twice
            assert status.state == "following"
    finally:
        follower.stop()
        leader.stop()


def test_all_processes_including_new_ones_and_recompare(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        with NodeClient(leader.address) as to_leader:
            first = spawn(to_leader, leader.node.address)
            send(to_leader, first, 5)
            add_replica(follower, leader.address, [], everything=True)
            wait_for(lambda: stored_slot(follower, first) == 5)
            second = spawn(to_leader, leader.node.address)  # spawned after the follower joined
            send(to_leader, second, 3)
            wait_for(lambda: stored_slot(follower, second) == 3)
            assert assignments(follower, second) == assignments(leader, second)
            # Recompute and compare: the leader computed, the follower computes and agrees.
            to_leader.compute(first, 5)
            (replica,) = follower.node.replication.followers.values()
            wait_for(lambda: replica.status[decode_id(first)].stored_slot == 5)
            follower.call(replica.compare(decode_id(first)))
            status = replica.status[decode_id(first)]
            assert (status.agreed, status.diverged, status.compared_slot) == (6, 0, 5)
    finally:
        follower.stop()
        leader.stop()


def test_replica_of_a_replica(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    middle = ServerThread(make_config(tmp_path / "middle")).start()
    last = ServerThread(make_config(tmp_path / "last")).start()
    try:
        with NodeClient(leader.address) as to_leader, NodeClient(last.address) as to_last:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 5)
            add_replica(middle, leader.address, [pid])
            add_replica(last, middle.address, [], everything=True)  # follows the replica, not the leader
            send(to_leader, pid, 5, start=5)
            wait_for(lambda: stored_slot(last, pid) == 10)
            # Still the original scheduler's signatures, byte for byte.
            assert assignments(last, pid) == assignments(leader, pid)
            assert to_last.get_slot(pid).scheduler == leader.node.address
            (status,) = last.node.replication.list()
            assert status.processes[0].scheduler == leader.node.address
    finally:
        last.stop()
        middle.stop()
        leader.stop()
