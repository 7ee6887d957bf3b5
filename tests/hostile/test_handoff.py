"""Hostile input to the hand-off entry points (PutSchedulerRecord, GetSchedulerRecords, the records of a
Follow request): forged, malformed, oversized and misdirected scheduler records get a clear status, the
node keeps scheduling its process (nobody but its owner can take it away), and stays healthy."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from aonode.client import ClientError, NodeClient
from aonode.codec import encode_message
from aonode.ids import encode_id
from aonode.model import Message, Tag
from aonode.replication.handoff import build_record
from aonode.rpc.convert import message_to_pb
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc
from tests.conftest import ServerThread
from tests.hostile.support import ATTACKER, OWNER, assert_node_healthy, assert_process_computes, spawn_aos

Code = grpc.StatusCode


def _put(stub: replication_pb2_grpc.ReplicationServiceStub, record: Message | None) -> grpc.StatusCode:
    request = pb.PutSchedulerRecordRequest()
    if record is not None:
        request.record.CopyFrom(message_to_pb(record))
    with pytest.raises(grpc.RpcError) as caught:
        stub.PutSchedulerRecord(request, timeout=10)
    code: grpc.StatusCode = caught.value.code()
    return code


def test_forged_and_malformed_records(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        pid = spawn_aos(client)
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        attacker = str(ATTACKER.address)
        cases: list[tuple[Message | None, grpc.StatusCode]] = [
            (None, Code.INVALID_ARGUMENT),
            # Anyone but the owner: the process is not theirs to give away.
            (build_record(ATTACKER, pid, attacker, 5, 2), Code.PERMISSION_DENIED),
            # Signed by the owner, then changed.
            (
                dataclasses.replace(
                    build_record(OWNER, pid, attacker, 5, 2),
                    tags=(
                        Tag("Action", "Assign-Scheduler"),
                        Tag("Process", pid),
                        Tag("Scheduler", attacker),
                        Tag("Nonce", "6"),
                        Tag("From-Slot", "2"),
                    ),
                ),
                Code.INVALID_ARGUMENT,
            ),
            (build_record(OWNER, encode_id(b"\x05" * 32), attacker, 5, 2), Code.NOT_FOUND),
            (build_record(OWNER, "nope", attacker, 5, 2), Code.INVALID_ARGUMENT),
            (build_record(OWNER, pid, attacker, 2**64, 2), Code.INVALID_ARGUMENT),
            (build_record(OWNER, pid, attacker, 5, 0), Code.INVALID_ARGUMENT),  # slot 0 is the Process's
            (Message(tags=(Tag("Action", "Assign-Scheduler"),)), Code.INVALID_ARGUMENT),  # unsigned
            # Oversized (data is not part of a record).
            (
                dataclasses.replace(build_record(ATTACKER, pid, attacker, 5, 2), data=b"x" * 100_000),
                Code.INVALID_ARGUMENT,
            ),
        ]
        for record, code in cases:
            assert _put(stub, record) == code, record
        # GetSchedulerRecords: a bad ID, an unknown process; the real one has none.
        for process, code in (("nope", Code.INVALID_ARGUMENT), (encode_id(b"\x06" * 32), Code.NOT_FOUND)):
            with pytest.raises(grpc.RpcError) as caught:
                stub.GetSchedulerRecords(pb.GetSchedulerRecordsRequest(process=process), timeout=10)
            assert caught.value.code() == code
        reply = stub.GetSchedulerRecords(pb.GetSchedulerRecordsRequest(process=pid), timeout=10)
        assert not reply.records and reply.scheduler == server.node.address and not reply.redirect_url
        # Records riding on a Follow request: too many, garbage, forged.
        forged = encode_message(build_record(ATTACKER, pid, attacker, 5, 2))
        cursor = [pb.FollowCursor(process=pid)]
        for records, code in (
            ([b"x"] * 1025, Code.INVALID_ARGUMENT),
            ([b"\x00garbage"], Code.INVALID_ARGUMENT),
            ([forged], Code.PERMISSION_DENIED),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                next(iter(stub.Follow(pb.FollowRequest(processes=cursor, records=records), timeout=10)))
            assert caught.value.code() == code
        # Nothing changed hands: the node still schedules (and computes) its process.
        assert not server.node.scheduler.replicated
        assert_process_computes(client, pid)
    assert_node_healthy(server.address)


def test_client_methods_for_scheduler_records(server: ServerThread) -> None:
    # NodeClient.scheduler_records / put_scheduler_record: the same answers, as ClientError statuses.
    with NodeClient(server.address) as client:
        pid = spawn_aos(client)
        records, reply = client.scheduler_records(pid)
        assert records == [] and reply.scheduler == server.node.address
        attacker = str(ATTACKER.address)
        with pytest.raises(ClientError) as caught:
            client.put_scheduler_record(build_record(ATTACKER, pid, attacker, 5, 2))
        assert caught.value.code == "PERMISSION_DENIED"
        with pytest.raises(ClientError) as caught:
            client.scheduler_records(encode_id(b"\x06" * 32))
        assert caught.value.code == "NOT_FOUND"
        assert_process_computes(client, pid)
