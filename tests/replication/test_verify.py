"""Whose signatures count for a replicated process: one rule, for a fresh chain and a stored one."""

from __future__ import annotations

from aonode.crypto import Ed25519Signer, sign_assignment
from aonode.model import Assignment, Message, Tag
from aonode.replication.verify import process_scheduler


def _first(signer: Ed25519Signer) -> Assignment:
    return sign_assignment(Assignment(b"p" * 32, 0, b"p" * 32, 1, hash_chain=bytes(32)), signer)


def test_named_scheduler_counts() -> None:
    signer = Ed25519Signer.generate()
    process = Message(tags=(Tag("Type", "Process"), Tag("Scheduler", "someone")))
    assert process_scheduler(process, _first(signer)) == "someone"


def test_unnamed_or_empty_scheduler_is_the_first_signer() -> None:
    signer = Ed25519Signer.generate()
    first = _first(signer)
    for process in (Message(tags=(Tag("Type", "Process"),)), Message(tags=(Tag("Scheduler", ""),)), None):
        assert process_scheduler(process, first) == str(signer.address)
    assert process_scheduler(None, Assignment(b"p" * 32, 0, b"p" * 32, 1, hash_chain=bytes(32))) is None
