"""Hand-off with real nodes on 127.0.0.1 over real gRPC: `aonode replica promote` after the leader is
killed; the new scheduler continues the same chain with its own key; the old leader, restarted, learns
the owner-signed record (pushed by the new scheduler, or by a follower's Follow request) and redirects
instead of scheduling; forged records are refused; other followers re-point to the new scheduler and
accept its signatures only with the record."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent import futures
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import ClientError, NodeClient, build_message
from aonode.codec import decode_assignment, encode_message
from aonode.crypto import Signer, sign_assignment
from aonode.ids import address_of, decode_id, encode_id, next_hash_chain
from aonode.model import Assignment, Message
from aonode.replication.handoff import build_record, segments
from aonode.rpc.convert import message_to_pb
from aonode.scheduler import verify_schedule
from aonode.scheduler.config import Block
from aonode.testing import LocalNode
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc, types_pb2
from aonode.wallet import create_wallet
from tests.conftest import ServerThread, make_config, wait_for
from tests.hostile.test_replication import OTHER, SCHED, Malicious, Slot, frame, schedule
from tests.hostile.test_replication import USER as HOSTILE_USER
from tests.replication.helpers import (
    USER,
    add_replica,
    assignments,
    operator_request,
    send,
    spawn_owned,
    stored_slot,
)


def promote(wallet: Path, node: str, pid: str, *extra: str) -> dict[str, Any]:
    args = ["replica", "promote", pid, "--wallet", str(wallet), "--node", node, "--json", *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def put_record(node: str, record: object) -> pb.PutSchedulerRecordResponse:
    with NodeClient(node) as client:
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        reply: pb.PutSchedulerRecordResponse = client._unary(
            stub.PutSchedulerRecord,
            pb.PutSchedulerRecordRequest(record=message_to_pb(record)),  # type: ignore[arg-type]
        )
        return reply


def signers(node: ServerThread, pid: str) -> list[str]:
    return [str(address_of(decode_assignment(a).signature.owner)) for a in assignments(node, pid)]  # type: ignore[union-attr]


def port_of(node: ServerThread) -> str:
    return node.address.rsplit(":", 1)[1]


def _redirected_to(address: str, pid: str) -> str:
    """Whom the node at `address` redirects a write to `pid` to."""
    with NodeClient(address, timeout=10) as client, pytest.raises(ClientError) as caught:
        client.schedule(build_message(USER, pid, action="Eval", data=b"x = 0"))
    assert caught.value.code == "FAILED_PRECONDITION", caught.value
    return caught.value.metadata["aonode-scheduler"]


def _holds_record(address: str, pid: str) -> bool:
    """Read only (a write probe would be assigned a slot until the record arrives)."""
    try:
        with NodeClient(address, timeout=5, retry_attempts=1) as client:
            return bool(to_new_records_of(client, pid))
    except ClientError:
        return False


def test_promote_after_the_leader_is_killed_and_the_old_leader_redirects(tmp_path: Path) -> None:
    owner = create_wallet(tmp_path / "owner.json")
    leader = LocalNode(tmp_path / "leader").start()  # a real `aonode serve`, killed with SIGKILL below
    replica = ServerThread(make_config(tmp_path / "replica")).start()
    try:
        old_node = leader.address
        with NodeClient(old_node) as to_leader:
            old_address = to_leader.info().address
            pid = spawn_owned(to_leader, owner, old_address)
            send(to_leader, pid, 10)
        add_replica(replica, old_node, [pid])
        wait_for(lambda: stored_slot(replica, pid) == 10)
        leader.kill()  # kill -9

        done = promote(tmp_path / "owner.json", replica.address, pid)  # the old leader: from the replica
        assert done["from_slot"] == 11 and done["role"] == "scheduler"
        assert (done["old_leader"]["node"], done["old_leader"]["reached"]) == (old_node, False)
        new_address = replica.node.address
        with NodeClient(replica.address) as to_new:
            a = to_new.schedule(build_message(USER, pid, action="Eval", data=b"x = 11"))
            assert a.slot == 11  # the same chain, continued
            assert to_new.get_slot(pid).scheduler == new_address
            send(to_new, pid, 4, start=12)
        assert signers(replica, pid) == [old_address] * 11 + [new_address] * 5
        # The stored schedule verifies from slot 0 as one chain, with the signer the record names.
        changes = segments(replica.node.replication.records(decode_id(pid)))
        assert changes == [(11, new_address)]
        report = verify_schedule(replica.node.store, decode_id(pid), handoffs=changes)
        assert report.ok and report.head_slot == 15, report.summary()
        assert not verify_schedule(replica.node.store, decode_id(pid)).ok  # one signer only: refused
        assert not replica.node.replication.followers  # it follows nothing any more

        # The old leader comes back on its address: the new scheduler delivers the record to it, and
        # from then on it redirects writes instead of assigning slots.
        leader.start()
        wait_for(lambda: _holds_record(old_node, pid), timeout=30)
        assert _redirected_to(old_node, pid) == new_address
        with NodeClient(old_node) as to_leader, pytest.raises(ClientError) as caught:
            to_leader.schedule(build_message(USER, pid, action="Eval", data=b"x = 0"))
        assert caught.value.metadata["aonode-location-url"] == replica.address
        leader.kill()
        leader.start()  # killed again and restarted: the record was stored, it still redirects
        assert _redirected_to(old_node, pid) == new_address
        with NodeClient(old_node) as to_leader:
            held = to_leader.get_slot(pid)
            assert held.current_slot == 10 and held.scheduler == old_address  # nothing assigned after 10
    finally:
        replica.stop()
        leader.stop()


def port_of_address(address: str) -> str:
    return address.rsplit(":", 1)[1]


def test_forged_records_refused(tmp_path: Path) -> None:
    owner = create_wallet(tmp_path / "owner.json")
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    replica = ServerThread(make_config(tmp_path / "replica")).start()
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn_owned(to_leader, owner, leader.node.address)
            send(to_leader, pid, 5)
        add_replica(replica, leader.address, [pid])
        wait_for(lambda: stored_slot(replica, pid) == 5)
        new = replica.node.address

        def refused(record: object, code: str, text: str) -> None:
            with pytest.raises(ClientError) as caught:
                put_record(replica.address, record)
            assert caught.value.code == code and text in caught.value.details, caught.value.details

        # Not the owner (nor an Authority the Process names).
        refused(build_record(USER, pid, new, 5, 6), "PERMISSION_DENIED", "neither the owner")
        # A From-Slot that is not the slot after the last one this replica holds.
        refused(build_record(owner, pid, new, 5, 8), "FAILED_PRECONDITION", "must start at From-Slot 6")
        refused(build_record(owner, pid, new, 5, 3), "FAILED_PRECONDITION", "holds slots 3..5")
        # Malformed.
        refused(build_record(owner, pid, new, 0, 6), "INVALID_ARGUMENT", "Nonce")
        refused(build_record(owner, pid, "not an address", 5, 6), "INVALID_ARGUMENT", "Scheduler")
        # To another node: this replica holds slots 3..5, which a hand-off from slot 3 would drop.
        other = str(USER.address)
        refused(build_record(owner, pid, other, 5, 3), "FAILED_PRECONDITION", "drops")
        assert stored_slot(replica, pid) == 5 and replica.node.replication.records(decode_id(pid)) == []
        # A valid one, then one with a lower nonce.
        assert put_record(replica.address, build_record(owner, pid, new, 5, 6)).role == "scheduler"
        refused(build_record(owner, pid, other, 4, 7), "FAILED_PRECONDITION", "not above")
        refused(build_record(owner, pid, other, 5, 7), "FAILED_PRECONDITION", "not above")
        # Sending the same record again is harmless.
        assert put_record(replica.address, build_record(owner, pid, new, 5, 6)).known
        # The leader, told too, stops scheduling: it refuses writes from now on.
        reply = put_record(leader.address, build_record(owner, pid, new, 5, 6))
        assert (reply.role, reply.head_slot, reply.orphaned) == ("redirect", 5, 0)
        with NodeClient(leader.address) as to_leader, pytest.raises(ClientError) as caught:
            to_leader.schedule(build_message(USER, pid, action="Eval", data=b"x = 0"))
        assert caught.value.metadata["aonode-scheduler"] == new
    finally:
        replica.stop()
        leader.stop()


def test_old_leader_learns_from_a_follower_and_followers_repoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aonode.replication import manager

    monkeypatch.setattr(manager, "DELIVER_SECONDS", 3600.0)  # only a follower can tell the old leader
    owner = create_wallet(tmp_path / "owner.json")
    leader_config = make_config(tmp_path / "leader")
    leader = ServerThread(leader_config).start()
    promoted = ServerThread(make_config(tmp_path / "promoted")).start()
    other = ServerThread(make_config(tmp_path / "other")).start()
    fresh = ServerThread(make_config(tmp_path / "fresh")).start()
    try:
        old_node = leader.address
        with NodeClient(old_node) as to_leader:
            pid = spawn_owned(to_leader, owner, leader.node.address)
            send(to_leader, pid, 8)
        add_replica(promoted, old_node, [pid])
        wait_for(lambda: stored_slot(promoted, pid) == 8)
        send_and_wait = stored_slot(promoted, pid)
        add_replica(other, old_node, [pid])
        wait_for(lambda: stored_slot(other, pid) == send_and_wait)
        leader.stop()
        promote(tmp_path / "owner.json", promoted.address, pid)
        with NodeClient(promoted.address) as to_new:
            send(to_new, pid, 3, start=100)  # slots 9..11, signed by the promoted node
            records = to_new_records(to_new, pid)
        assert len(records) == 1

        # `other` still follows the (dead) old leader; it learns the record from the owner's operator.
        with NodeClient(other.address) as to_other:
            stub = replication_pb2_grpc.ReplicationServiceStub(to_other.channel)
            reply = stub.PutSchedulerRecord(pb.PutSchedulerRecordRequest(record=records[0]))
        assert reply.role == "redirect"
        # The old leader comes back: `other` reconnects and sends the record with its Follow request.
        leader = ServerThread(replace(leader_config, listen=f"127.0.0.1:{port_of_address(old_node)}")).start()
        wait_for(lambda: decode_id(pid) in leader.node.scheduler.replicated, timeout=30)
        assert stored_slot(leader, pid) == 8

        # `other` re-points to the new scheduler: it resumes at its last slot, and accepts the new
        # signatures from From-Slot on (it holds the record).
        (old_replica,) = other.node.replication.followers
        remove = operator_request(other.node.signer, "Remove-Replica", [("Replica", old_replica)])
        with NodeClient(other.address) as to_other:
            stub = replication_pb2_grpc.ReplicationServiceStub(to_other.channel)
            stub.RemoveReplica(pb.RemoveReplicaRequest(authorization=message_to_pb(remove)))
        add_replica(other, promoted.address, [pid])
        # A fresh node follows the new scheduler from slot 0: both signers verify, with the record.
        add_replica(fresh, promoted.address, [pid])
        for node in (other, fresh):
            wait_for(lambda n=node: stored_slot(n, pid) == 11, timeout=30)  # type: ignore[misc]
            assert assignments(node, pid) == assignments(promoted, pid)
            (status,) = [s for s in node.node.replication.list() if s.state != "stopped"]
            assert status.state == "following" and status.processes[0].scheduler == promoted.node.address
        # Persisted: the replica's process record names the new scheduler after a restart too.
        config = fresh.config
        fresh.stop()
        fresh = ServerThread(config).start()
        assert fresh.node.scheduler.replicated[decode_id(pid)][0] == promoted.node.address
    finally:
        for n in (fresh, other, promoted, leader):
            n.stop()


def to_new_records(client: NodeClient, pid: str) -> list[types_pb2.Message]:
    stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
    reply = client._unary(stub.GetSchedulerRecords, pb.GetSchedulerRecordsRequest(process=pid))
    assert reply.scheduler and not reply.redirect_url
    return list(reply.records)


def to_new_records_of(client: NodeClient, pid: str) -> list[types_pb2.Message]:
    stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
    reply = client._unary(stub.GetSchedulerRecords, pb.GetSchedulerRecordsRequest(process=pid))
    return list(reply.records)


# -- a leader that changes signer: accepted only at From-Slot, with the owner's record ------------------


def _extend(base: list[Slot], n: int, signer: Signer) -> list[Slot]:
    """`base` continued up to n slots, signed by `signer`; one chain."""
    out = list(base)
    link = out[-1][0].hash_chain
    pid = out[0][0].process
    for slot in range(len(base), n):
        m = build_message(HOSTILE_USER, encode_id(pid), data=b"after %d" % slot)
        link = next_hash_chain(link, m.id)
        a = Assignment(pid, slot, m.id, 2000 + slot, 0, Block().hash, 0, link)
        out.append((sign_assignment(a, signer), m))
    return out


def _records_frame(pid: bytes, from_slot: int, *records: Message) -> pb.FollowResponse:
    return pb.FollowResponse(
        process=encode_id(pid), from_slot=from_slot, records=[encode_message(r) for r in records]
    )


def _follow_malicious(
    tmp_path: Path, script: list[pb.FollowResponse], until: str
) -> tuple[ServerThread, int]:
    servicer = Malicious([script])  # type: ignore[abstract]
    server = grpc.server(futures.ThreadPoolExecutor(4))
    replication_pb2_grpc.add_ReplicationServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    pid = encode_id(HANDED[0][0].process)
    try:
        add_replica(follower, f"127.0.0.1:{port}", [pid])
        replicas = follower.node.replication
        if until == "failed":
            wait_for(lambda: replicas.list()[0].state == "failed", timeout=30)
        else:
            wait_for(lambda: stored_slot(follower, pid) == len(HANDED) - 1, timeout=30)
        return follower, stored_slot(follower, pid)
    finally:
        servicer.stop.set()
        server.stop(0)


BEFORE = schedule(5)
HANDED = _extend(BEFORE, 8, OTHER)  # SCHED signs slots 0..4, OTHER from slot 5
HANDED_PID = HANDED[0][0].process


def _record(signer: Signer = HOSTILE_USER, from_slot: int = 5, nonce: int = 1) -> Message:
    return build_record(signer, encode_id(HANDED_PID), str(OTHER.address), nonce, from_slot)


def test_follower_refuses_a_new_signer_without_the_record(tmp_path: Path) -> None:
    follower, slot = _follow_malicious(tmp_path, [frame(HANDED[:5]), frame(HANDED[5:])], "failed")
    try:
        assert slot == 4  # the old scheduler's slots; none signed by the new one
        (status,) = follower.node.replication.list()
        assert "not the process's scheduler" in status.last_error
    finally:
        follower.stop()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (lambda: _record(from_slot=6), "not the process's scheduler"),  # the signer changes too early
        (lambda: _record(signer=SCHED), "neither the owner"),  # not the owner's record
    ],
)
def test_follower_refuses_a_record_that_does_not_authorise_the_change(
    tmp_path: Path, record: Callable[[], Message], reason: str
) -> None:
    script = [frame(HANDED[:5]), _records_frame(HANDED_PID, 5, record()), frame(HANDED[5:])]
    follower, slot = _follow_malicious(tmp_path, script, "failed")
    try:
        assert slot == 4
        (status,) = follower.node.replication.list()
        assert reason in status.last_error, status.last_error
    finally:
        follower.stop()


def test_follower_accepts_the_new_signer_from_the_records_from_slot(tmp_path: Path) -> None:
    script = [frame(HANDED[:5]), _records_frame(HANDED_PID, 5, _record()), frame(HANDED[5:])]
    follower, slot = _follow_malicious(tmp_path, script, "stored")
    try:
        assert slot == 7
        (status,) = follower.node.replication.list()
        assert status.state != "failed" and status.processes[0].scheduler == str(OTHER.address)
        # Writes now go to the new scheduler; the record is held and served.
        assert follower.node.scheduler.replicated[HANDED_PID][0] == str(OTHER.address)
        assert [r.nonce for r in follower.node.replication.records(HANDED_PID)] == [1]
    finally:
        follower.stop()


def test_replica_that_holds_slots_after_from_slot_refuses_the_record(tmp_path: Path) -> None:
    # The leader sends slots 0..6 of the old scheduler first (6 > From-Slot 5), then the record.
    old = _extend(BEFORE, 7, SCHED)
    script = [frame(old), _records_frame(HANDED_PID, 7, _record())]
    follower, slot = _follow_malicious(tmp_path, script, "failed")
    try:
        assert slot == 6
        (status,) = follower.node.replication.list()
        assert "holds slots 5..6" in status.last_error and "drops" in status.last_error
        assert follower.node.replication.records(HANDED_PID) == []
    finally:
        follower.stop()


def test_live_old_leader_stops_and_reports_its_orphans(tmp_path: Path) -> None:
    owner = create_wallet(tmp_path / "owner.json")
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    replica = ServerThread(make_config(tmp_path / "replica")).start()
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn_owned(to_leader, owner, leader.node.address)
            send(to_leader, pid, 10)
            (rid,) = [add_replica(replica, leader.address, [pid]).id]
            wait_for(lambda: stored_slot(replica, pid) == 10)
            remove = operator_request(replica.node.signer, "Remove-Replica", [("Replica", rid)])
            with NodeClient(replica.address) as to_replica:
                stub = replication_pb2_grpc.ReplicationServiceStub(to_replica.channel)
                stub.RemoveReplica(pb.RemoveReplicaRequest(authorization=message_to_pb(remove)))
            send(to_leader, pid, 5, start=10)  # slots 11..15: acknowledged, but no replica holds them
            done = promote(tmp_path / "owner.json", replica.address, pid, "--leader", leader.address)
            assert done["from_slot"] == 11
            assert done["old_leader"] == {
                "node": leader.address,
                "reached": True,
                "role": "redirect",
                "head_slot": 15,
                "orphaned": 5,
            }
            with pytest.raises(ClientError) as caught:
                to_leader.schedule(build_message(USER, pid, action="Eval", data=b"x = 0"))
            assert caught.value.metadata["aonode-scheduler"] == replica.node.address
            # The new scheduler delivers the record too, learns of the orphans and schedules their
            # messages again: none is lost, each has a new slot (here the same numbers, in order).
            orphans = to_leader.get_schedule(pid, from_slot=11, limit=5).assignments
            with NodeClient(replica.address) as to_new:
                wait_for(lambda: stored_slot(replica, pid) == 15, timeout=30)
                again = to_new.get_schedule(pid, from_slot=11, limit=5).assignments
            assert [a.message for a in again] == [a.message for a in orphans]
            assert {a.signature.address for a in again if a.signature} == {replica.node.address}
            # The old leader cannot follow the new schedule: it holds slots the hand-off dropped.
            with pytest.raises(grpc.RpcError) as refused:
                add_replica(leader, replica.address, [pid])
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "dropped" in (refused.value.details() or "")
            # A later record (the process moves on again) is still taken by the retired scheduler.
            later = build_record(owner, pid, str(USER.address), int(done["nonce"]) + 1, 13)
            reply = put_record(leader.address, later)
            assert (reply.role, reply.orphaned) == ("redirect", 3)
            with pytest.raises(ClientError) as caught:
                to_leader.schedule(build_message(USER, pid, action="Eval", data=b"x = 0"))
            assert caught.value.metadata["aonode-scheduler"] == str(USER.address)
            assert stored_slot(leader, pid) == 15
    finally:
        replica.stop()
        leader.stop()
