"""Shared by the replication tests: a leader with a Lua process, operator requests, store comparisons."""

from __future__ import annotations

import time

from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, Signer, sign_message
from aonode.devices.aos import runtime_module
from aonode.errors import NotFound
from aonode.ids import decode_id, encode_id
from aonode.model import Message, Tag
from aonode.rpc.convert import message_to_pb
from aonode.v1 import replication_pb2, replication_pb2_grpc
from tests.conftest import ServerThread

USER = Ed25519Signer.generate()


def spawn(client: NodeClient, scheduler: str) -> str:
    module = encode_id(runtime_module().id)  # the built-in AOS runtime: every node has it
    process = build_process(USER, module=module, scheduler=scheduler, device="lua@5.3a")
    client.schedule(process)
    return encode_id(process.id)


def spawn_owned(client: NodeClient, owner: Signer, scheduler: str) -> str:
    """A Lua process owned by `owner` (who alone may hand it over to another scheduler)."""
    module = encode_id(runtime_module().id)
    process = build_process(owner, module=module, scheduler=scheduler, device="lua@5.3a")
    client.schedule(process)
    return encode_id(process.id)


def send(client: NodeClient, pid: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        client.schedule(build_message(USER, pid, action="Eval", data=f"x = (x or 0) + {i}".encode()))


def operator_request(signer: Signer, action: str, tags: list[tuple[str, str]]) -> Message:
    all_tags = [Tag("Action", action), Tag("Issued-At", str(int(time.time() * 1000)))]
    all_tags += [Tag(k, v) for k, v in tags]
    return sign_message(Message(tags=tuple(all_tags)), signer)


def add_replica(
    node: ServerThread,
    leader: str,
    processes: list[str],
    everything: bool = False,
    signer: Signer | None = None,
) -> replication_pb2.Replica:
    tags = [("Leader", leader), *(("Process", p) for p in processes)]
    if everything:
        tags.append(("All", "true"))
    request = operator_request(signer or node.node.signer, "Add-Replica", tags)
    with NodeClient(node.address) as client:
        stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
        reply: replication_pb2.AddReplicaResponse = stub.AddReplica(
            replication_pb2.AddReplicaRequest(authorization=message_to_pb(request))
        )
        return reply.replica


def stored_slot(node: ServerThread, pid: str) -> int:
    try:
        return node.node.scheduler.head(decode_id(pid)).slot
    except NotFound:  # nothing stored yet
        return -1


def assignments(node: ServerThread, pid: str) -> list[bytes]:
    raw = decode_id(pid)
    head = node.node.scheduler.head(raw).slot
    return node.node.scheduler.read_encoded(raw, 0, head + 1)
