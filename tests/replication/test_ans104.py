"""Replication of ANS-104 messages: a follower receives a schedule holding data items (an RSA-signed Process
and Ed25519 and RSA messages beside our own), verifies each by its own format, stores the exact bytes,
serves them unchanged, and computes the same results; a forged item in a frame is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode import ans104
from aonode.client import NodeClient, build_message, build_process
from aonode.codec import encode_message
from aonode.crypto import Ed25519Signer, RsaPssSigner
from aonode.devices.aos import runtime_module
from aonode.ids import decode_id, encode_id
from aonode.replication.verify import Chain, Refused, check_frame
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import USER, add_replica, assignments, stored_slot

ED = Ed25519Signer.generate()


@pytest.fixture(scope="module")
def rsa() -> RsaPssSigner:
    return RsaPssSigner.generate(4096)


def test_a_follower_replicates_items_byte_for_byte(tmp_path: Path, rsa: RsaPssSigner) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        with NodeClient(leader.address) as to_leader, NodeClient(follower.address) as to_follower:
            process = build_process(
                rsa, module=encode_id(runtime_module().id), scheduler=leader.node.address, device="lua@5.3a"
            )
            spawn = ans104.from_message(process, rsa)
            to_leader.schedule(spawn.raw)
            pid = encode_id(spawn.id)
            items = [spawn]
            for i in range(6):
                signer = ED if i % 2 else rsa
                m = build_message(signer, pid, action="Eval", data=f"x = (x or 0) + {i}; return x".encode())
                if i % 3 == 2:
                    to_leader.schedule(build_message(USER, pid, action="Eval", data=b"return x"))
                item = ans104.from_message(m, signer)
                to_leader.schedule(item.raw)
                items.append(item)
            head = stored_slot(leader, pid)
            add_replica(follower, leader.address, [pid])
            wait_for(lambda: stored_slot(follower, pid) == head)
            assert assignments(follower, pid) == assignments(leader, pid)
            for item in items:
                got = to_follower.get_message(encode_id(item.id))
                assert isinstance(got, ans104.Ans104Message) and got.raw == item.raw
            assert to_follower.compute(pid, head).result_digest == to_leader.compute(pid, head).result_digest
    finally:
        follower.stop()
        leader.stop()


def test_a_frame_with_a_forged_item_is_refused(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    try:
        with NodeClient(leader.address) as client:
            process = build_process(
                ED, module=encode_id(runtime_module().id), scheduler=leader.node.address, device="lua@5.3a"
            )
            spawn = ans104.from_message(process, ED)
            client.schedule(spawn.raw)
            item = ans104.from_message(
                build_message(ED, encode_id(spawn.id), action="Eval", data=b"return 1"), ED
            )
            client.schedule(item.raw)
            pid = decode_id(encode_id(spawn.id))
            stored = assignments(leader, encode_id(pid))
            messages = [spawn.raw, item.raw]
            assert [encode_message(spawn), encode_message(item)] == messages
            assert len(check_frame(Chain(pid), stored, messages)) == 2
            # Same ID (the signature is unchanged), different data: only the signature check catches it.
            forged = item.raw[:-1] + bytes([item.raw[-1] ^ 1])
            assert ans104.decode(forged).id == item.id
            with pytest.raises(Refused, match="signature"):
                check_frame(Chain(pid), stored, [spawn.raw, forged])
    finally:
        leader.stop()
