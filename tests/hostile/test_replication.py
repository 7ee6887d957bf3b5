"""A malicious leader: a small gRPC server speaking ReplicationService with forged frames. Each kind of bad
frame is refused by a real follower node: nothing of the frame is stored, the replica is marked failed
with the reason, and equivocation evidence (both signed assignments) is kept and exposed. Also: the
operator actions refuse anyone but an operator, and Follow refuses bad requests with clear statuses."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from aonode.client import NodeClient, build_message, build_process
from aonode.codec import encode_assignment, encode_message
from aonode.crypto import Ed25519Signer, sign_assignment
from aonode.ids import encode_id, next_hash_chain
from aonode.model import Assignment, Message
from aonode.rpc.convert import message_to_pb
from aonode.scheduler.config import Block
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import add_replica, operator_request, stored_slot

USER = Ed25519Signer.generate()
SCHED = Ed25519Signer.generate()
OTHER = Ed25519Signer.generate()

Slot = tuple[Assignment, Message]


def schedule(n: int) -> list[Slot]:
    """A valid schedule of `n` slots signed by SCHED."""
    process = build_process(USER, module=encode_id(b"\x01" * 32), scheduler=SCHED.address, device="lua@5.3a")
    messages = [process] + [build_message(USER, encode_id(process.id), data=b"%d" % i) for i in range(1, n)]
    link: bytes = process.id
    out: list[Slot] = []
    for slot, m in enumerate(messages):
        link = next_hash_chain(link, m.id)
        a = Assignment(process.id, slot, m.id, 1000 + slot, 0, Block().hash, 0, link)
        out.append((sign_assignment(a, SCHED), m))
    return out


def frame(slots: list[Slot]) -> pb.FollowResponse:
    return pb.FollowResponse(
        process=encode_id(slots[0][0].process),
        from_slot=slots[0][0].slot,
        assignments=[encode_assignment(a) for a, _ in slots],
        messages=[encode_message(m) for _, m in slots],
        current_slot=slots[-1][0].slot,
        leader_time_ms=int(time.time() * 1000),
    )


def resign(a: Assignment, signer: Ed25519Signer = SCHED, **changes: object) -> Assignment:
    return sign_assignment(dataclasses.replace(a, signature=None, **changes), signer)  # type: ignore[arg-type]


class Malicious(replication_pb2_grpc.ReplicationServiceServicer):
    """Serves connection k the frames of `scripts[k]` (the last script again afterwards), then holds the
    stream open (or ends it, so the follower reconnects, when the script is not the last)."""

    def __init__(self, scripts: list[list[pb.FollowResponse]]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.stop = threading.Event()

    def Follow(self, request: pb.FollowRequest, context: grpc.ServicerContext) -> Iterator[pb.FollowResponse]:
        k = self.connections
        self.connections += 1
        yield from self.scripts[min(k, len(self.scripts) - 1)]
        if k >= len(self.scripts) - 1:
            self.stop.wait(30)


def run_case(tmp_path: Path, scripts: list[list[pb.FollowResponse]], pid: bytes) -> tuple[ServerThread, int]:
    servicer = Malicious(scripts)  # type: ignore[abstract]  # serves Follow only
    server = grpc.server(futures.ThreadPoolExecutor(4))
    replication_pb2_grpc.add_ReplicationServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        add_replica(follower, f"127.0.0.1:{port}", [encode_id(pid)])
        replicas = follower.node.replication
        wait_for(lambda: replicas.list()[0].state == "failed", timeout=30)
        return follower, stored_slot(follower, encode_id(pid))
    finally:
        servicer.stop.set()
        server.stop(0)


S = schedule(6)
PID = S[0][0].process


def bad_signature() -> list[Slot]:
    a, m = S[2]
    assert a.signature is not None
    forged = dataclasses.replace(a, signature=dataclasses.replace(a.signature, value=bytes(64)))
    return [S[0], S[1], (forged, m)]


def other_signer() -> list[Slot]:
    return [S[0], S[1], (resign(S[2][0], OTHER), S[2][1])]


def broken_link() -> list[Slot]:
    return [S[0], S[1], (resign(S[2][0], hash_chain=b"\x07" * 32), S[2][1])]


def gap() -> list[Slot]:
    return [S[0], S[1], S[3]]


def reordered() -> list[Slot]:
    return [S[0], S[2], S[1]]


def substituted() -> list[Slot]:
    return [S[0], S[1], (S[2][0], build_message(USER, encode_id(PID), data=b"other"))]


def bad_message_signature() -> list[Slot]:
    m = S[2][1]
    forged = dataclasses.replace(m, data=b"changed after signing")
    return [S[0], S[1], (S[2][0], forged)]


def slot0_not_process() -> list[Slot]:
    m = S[1][1]
    return [(resign(S[0][0], message=m.id, hash_chain=next_hash_chain(PID, m.id)), m)]


@pytest.mark.parametrize(
    "forge",
    [
        bad_signature,
        other_signer,
        broken_link,
        gap,
        reordered,
        substituted,
        bad_message_signature,
        slot0_not_process,
    ],
)
def test_bad_frame_refused_nothing_stored(tmp_path: Path, forge: Callable[[], list[Slot]]) -> None:
    follower, slot = run_case(tmp_path, [[frame(forge())]], PID)
    try:
        assert slot == -1  # the frame held two good slots too: none of it was stored
        (status,) = follower.node.replication.list()
        assert status.state == "failed" and status.last_error
    finally:
        follower.stop()


def test_equivocation_evidence_kept_and_exposed(tmp_path: Path) -> None:
    # Connection 1: slots 0..3, then the stream ends; connection 2 (the resume, from slot 3) sends another
    # validly signed assignment for slot 3.
    other3 = (resign(S[3][0], timestamp=5000), S[3][1])
    follower, slot = run_case(tmp_path, [[frame(S[:4])], [frame([other3, S[4]])]], PID)
    try:
        assert slot == 3  # what was verified stays; nothing after the equivocation
        (status,) = follower.node.replication.list()
        assert "equivocation" in status.last_error
        (ev,) = status.equivocations
        assert (ev.slot, ev.first, ev.second) == (3, encode_assignment(S[3][0]), encode_assignment(other3[0]))
        with NodeClient(follower.address) as client:
            stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
            (replica,) = stub.ListReplicas(pb.ListReplicasRequest()).replicas
        assert replica.state == "failed" and replica.equivocations[0].second == ev.second
    finally:
        follower.stop()


def test_failed_replica_stays_failed_after_restart(tmp_path: Path) -> None:
    other3 = (resign(S[3][0], timestamp=5000), S[3][1])
    follower, _ = run_case(tmp_path, [[frame(S[:4])], [frame([other3])]], PID)
    config = follower.config
    follower.stop()
    follower = ServerThread(config).start()
    try:
        (status,) = follower.node.replication.list()
        assert status.state == "failed" and "equivocation" in status.last_error
        assert [e.slot for e in status.equivocations] == [3]  # the evidence survives the restart
    finally:
        follower.stop()


def test_operator_actions_need_an_operator(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        stranger = operator_request(USER, "Add-Replica", [("Leader", "127.0.0.1:1"), ("All", "true")])
        with pytest.raises(grpc.RpcError) as caught:
            stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(stranger)))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as caught:
            stub.AddReplica(pb.AddReplicaRequest())
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        old = operator_request(
            server.node.signer, "Add-Replica", [("Leader", "127.0.0.1:1"), ("All", "true")]
        )
        old_tags = tuple(t if t.name != "Issued-At" else dataclasses.replace(t, value="1") for t in old.tags)
        from aonode.crypto import sign_message

        replay = sign_message(dataclasses.replace(old, tags=old_tags, signature=None), server.node.signer)
        with pytest.raises(grpc.RpcError) as caught:
            stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(replay)))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        remove = operator_request(USER, "Remove-Replica", [("Replica", "x")])
        with pytest.raises(grpc.RpcError) as caught:
            stub.RemoveReplica(pb.RemoveReplicaRequest(authorization=message_to_pb(remove)))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert add_replica(server, "127.0.0.1:1", [], everything=True).state in ("connecting", "following")


def test_follow_bad_requests(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        cases = [
            (pb.FollowRequest(), grpc.StatusCode.INVALID_ARGUMENT),
            (pb.FollowRequest(processes=[pb.FollowCursor(process="nope")]), grpc.StatusCode.INVALID_ARGUMENT),
            (
                pb.FollowRequest(processes=[pb.FollowCursor(process=encode_id(b"\x02" * 32))]),
                grpc.StatusCode.NOT_FOUND,
            ),
        ]
        for request, code in cases:
            with pytest.raises(grpc.RpcError) as caught:
                next(iter(stub.Follow(request, timeout=10)))
            assert caught.value.code() == code
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.FetchObjects(pb.FetchObjectsRequest(digests=[b"short"]), timeout=10))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        (reply,) = list(stub.FetchObjects(pb.FetchObjectsRequest(digests=[b"\x03" * 32]), timeout=10))
        assert list(reply.missing) == [b"\x03" * 32]


def test_removed_replica_request_cannot_be_replayed(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        add = operator_request(
            server.node.signer, "Add-Replica", [("Leader", "127.0.0.1:1"), ("All", "true")]
        )
        replica = stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(add))).replica
        remove = operator_request(server.node.signer, "Remove-Replica", [("Replica", replica.id)])
        stub.RemoveReplica(pb.RemoveReplicaRequest(authorization=message_to_pb(remove)))
        with pytest.raises(grpc.RpcError) as caught:
            stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(add)))
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
