"""Faults while replicating, with real node processes on 127.0.0.1: kill -9 of the follower and of the
leader at random moments during catch-up and live following (`AONODE_REPLICA_CYCLES`, default 20), and a
network stall (the leader paused with SIGSTOP, then SIGCONT). Afterwards the replica is following (never
failed), its stored schedule verifies from slot 0, and it is byte-identical to the leader's."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer
from aonode.ids import decode_id, encode_id
from aonode.rpc.convert import message_to_pb
from aonode.scheduler import verify_schedule
from aonode.testing import LocalNode
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc
from aonode.wallet import load_wallet
from store import LmdbStore
from tests.conftest import wait_for
from tests.replication.helpers import operator_request

CYCLES = int(os.environ.get("AONODE_REPLICA_CYCLES", "20"))


def _slot(address: str, pid: str) -> int:
    try:
        with NodeClient(address, timeout=5, retry_attempts=1) as c:
            return int(c.get_slot(pid).current_slot)
    except Exception:
        return -1


def _canonical(address: str, pid: str, head: int) -> list[bytes]:
    out: list[bytes] = []
    with NodeClient(address, timeout=30) as c:
        for frame in c.subscribe(pid, 0, canonical=True):
            out += frame.encoded_assignments
            if len(out) > head:
                break
    return out


def test_kill_loop_and_stall_end_byte_identical(tmp_path: Path) -> None:
    rng = random.Random(12)
    user = Ed25519Signer.generate()
    leader = LocalNode(tmp_path / "leader").start()
    follower = LocalNode(tmp_path / "follower").start()
    try:
        with NodeClient(leader.address) as to_leader:
            module = to_leader.publish(build_module(user, b"-- m\n", "text/x-lua"))
            spawn = build_process(user, module=module, scheduler=to_leader.info().address, device="lua@5.3a")
            to_leader.schedule(spawn)
            pid = encode_id(spawn.id)
            for _ in to_leader.schedule_stream(
                (build_message(user, pid, data=b"x") for _ in range(2000)), 200
            ):
                pass
        operator = load_wallet(follower.data / "node-wallet.json")
        request = operator_request(
            operator, "Add-Replica", [("Leader", leader.address), ("Process", pid), ("Recompute", "false")]
        )
        with NodeClient(follower.address) as to_follower:
            stub = replication_pb2_grpc.ReplicationServiceStub(to_follower.channel)
            stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(request)))

        stop = threading.Event()

        def write() -> None:  # live traffic throughout (failures while the leader is down are expected)
            with NodeClient(leader.address, timeout=5, retry_attempts=1) as c:
                while not stop.is_set():
                    try:
                        c.schedule(build_message(user, pid, data=b"live"))
                    except Exception:
                        time.sleep(0.05)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        for cycle in range(CYCLES):
            time.sleep(rng.uniform(0.05, 0.5))
            victim = follower if cycle % 2 == 0 else leader
            victim.kill()
            victim.start()
        assert leader.proc is not None
        os.kill(leader.proc.pid, signal.SIGSTOP)  # a network stall, as the follower sees it
        time.sleep(1.5)
        os.kill(leader.proc.pid, signal.SIGCONT)
        time.sleep(0.5)
        stop.set()
        writer.join(timeout=30)

        head = _slot(leader.address, pid)
        assert head >= 2000
        wait_for(lambda: _slot(follower.address, pid) == head, timeout=120)
        assert _canonical(follower.address, pid, head) == _canonical(leader.address, pid, head)
        with NodeClient(follower.address) as to_follower:
            stub = replication_pb2_grpc.ReplicationServiceStub(to_follower.channel)
            (replica,) = stub.ListReplicas(pb.ListReplicasRequest()).replicas
        assert replica.state == "following", replica.last_error
    finally:
        follower.stop()
        leader.stop()
    store = LmdbStore(tmp_path / "follower" / "store")
    try:
        report = verify_schedule(store, decode_id(pid))
        assert report.ok and report.head_slot == head, report.summary()
    finally:
        store.close()
