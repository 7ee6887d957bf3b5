"""Replicated assignments: a follower reproduces a schedule holding an assignment (a slot whose message
targets another process) byte for byte, and its frame check accepts such a slot only under the rule the
scheduler assigns by (not a Process message, a target, no From-Process/Cron-From)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message, build_process
from aonode.codec import encode_assignment, encode_message
from aonode.crypto import Ed25519Signer, sign_assignment
from aonode.ids import decode_id, encode_id, next_hash_chain
from aonode.model import Assignment, Message
from aonode.replication.verify import Chain, Refused, check_frame
from aonode.scheduler import verify_schedule
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import USER, add_replica, assignments, spawn, stored_slot


def test_a_follower_reproduces_a_schedule_with_an_assignment(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        with NodeClient(leader.address) as to_leader, NodeClient(follower.address) as to_follower:
            p1, p2 = spawn(to_leader, leader.node.address), spawn(to_leader, leader.node.address)
            m = build_message(USER, p1, action="Ping", data=b"assigned")
            to_leader.schedule(m)
            to_leader.schedule(build_message(USER, p2, action="Eval", data=b"x = 1"))
            slot = to_leader.assign(p2, encode_id(m.id)).slot
            add_replica(follower, leader.address, [p2])  # p2 only: the message comes with its slot
            wait_for(lambda: stored_slot(follower, p2) == slot)
            assert assignments(follower, p2) == assignments(leader, p2)
            assert to_follower.get_assignment(encode_id(m.id), p2) == to_leader.get_assignment(
                encode_id(m.id), p2
            )
            assert to_follower.get_message(encode_id(m.id)) == m
            verify_schedule(follower.node.store, decode_id(p2)).raise_for_problems()
            # The follower computes the assignment as the leader does (the built-in runtime refuses it).
            assert to_follower.compute(p2, slot).result_digest == to_leader.compute(p2, slot).result_digest
    finally:
        follower.stop()
        leader.stop()


SCHEDULER = Ed25519Signer.generate()


def _frame(slot1: Message) -> tuple[bytes, list[bytes], list[bytes]]:
    process = build_process(
        USER, module=encode_id(b"m" * 32), scheduler=str(SCHEDULER.address), device="lua@5.3a"
    )
    pid = bytes(process.id)
    out_a: list[bytes] = []
    out_m: list[bytes] = []
    link = pid
    for slot, message in enumerate((process, slot1)):
        link = next_hash_chain(link, message.id)
        a = sign_assignment(Assignment(pid, slot, message.id, 1000 + slot, hash_chain=link), SCHEDULER)
        out_a.append(encode_assignment(a))
        out_m.append(encode_message(message))
    return pid, out_a, out_m


def test_the_frame_check_accepts_an_assignment_and_refuses_a_relayed_one() -> None:
    other = encode_id(b"o" * 32)
    pid, a, m = _frame(build_message(USER, other, action="Ping"))
    assert [v.assignment.slot for v in check_frame(Chain(pid), a, m)] == [0, 1]
    for tag in ("From-Process", "Cron-From"):
        pid, a, m = _frame(build_message(USER, other, action="Ping", tags=[(tag, other)]))
        with pytest.raises(Refused, match=tag):
            check_frame(Chain(pid), a, m)
