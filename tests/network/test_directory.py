"""The process directory in one process: a genuine answer is kept (the Process and the location, so the
scheduler redirects), forged answers are refused and nothing of them is kept, unknown processes are
remembered for a while, and a lookup that could not ask a node is UNAVAILABLE, not "unknown"."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import pytest

from aonode.crypto import Ed25519Signer, sign_assignment, sign_location, sign_message
from aonode.errors import NotFound, Unavailable
from aonode.model import Location, Message, Tag
from aonode.network import DirectoryConfig, ProcessDirectory, ProcessProof, verify_proof
from aonode.network.port import ForgedAnswerError
from aonode.scheduler import RedirectError
from store import MemoryStore
from tests.scheduler.helpers import (
    CLIENT_KEY,
    NODE_KEY,
    OTHER_NODE_KEY,
    make_scheduler,
    message_to,
    process_message,
    run,
)

ATTACKER = Ed25519Signer.generate()
URL = "127.0.0.1:7999"


def now() -> int:
    return int(time.time() * 1000)


def genuine() -> tuple[bytes, ProcessProof]:
    """A process scheduled by OTHER_NODE_KEY's node (a real scheduler on its own store) and its proof."""
    other = make_scheduler(MemoryStore(), OTHER_NODE_KEY)
    process = process_message(scheduler=OTHER_NODE_KEY.address)
    assignment = run(other.schedule(process))
    location = sign_location(Location("", URL, 1, 600_000, now()), OTHER_NODE_KEY)
    return process.id, ProcessProof(process, assignment, location)


@dataclass
class FakePort:
    answers: dict[str, ProcessProof | Exception] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def exchange(self, url: str, records: object) -> list[Location]:
        return []

    async def lookup(self, url: str, process: bytes) -> ProcessProof:
        self.asked.append(url)
        answer = self.answers.get(url, NotFound("not here"))
        if isinstance(answer, Exception):
            raise answer
        return answer


def forgeries(pid: bytes, proof: ProcessProof) -> dict[str, ProcessProof]:
    a = proof.assignment
    by_attacker = sign_assignment(replace(a, signature=None), ATTACKER)
    attacker_location = sign_location(Location("", "127.0.0.1:6666", 9, 600_000, now()), ATTACKER)
    claimed = Location(
        OTHER_NODE_KEY.address, "127.0.0.1:6666", 9, 600_000, now(), attacker_location.signature
    )
    other_process = process_message(scheduler=OTHER_NODE_KEY.address)
    retagged = sign_message(
        Message(tags=(*proof.process.tags[:-1], Tag("Scheduler", ATTACKER.address)), data=b"process"),
        CLIENT_KEY,
    )
    return {
        "slot 0 signed by another key": replace(proof, assignment=by_attacker),
        "the attacker's own location": replace(proof, location=attacker_location),
        "a location claiming the scheduler's address": replace(proof, location=claimed),
        "another Process": replace(proof, process=other_process),
        "a Process naming the attacker": replace(proof, process=retagged),
        "another slot": replace(
            proof, assignment=sign_assignment(replace(a, slot=1, signature=None), OTHER_NODE_KEY)
        ),
        "a wrong hash chain": replace(
            proof,
            assignment=sign_assignment(replace(a, hash_chain=bytes(32), signature=None), OTHER_NODE_KEY),
        ),
    }


def test_verify_proof_accepts_the_genuine_and_refuses_forgeries() -> None:
    pid, proof = genuine()
    assert verify_proof(pid, proof) == OTHER_NODE_KEY.address
    for name, forged in forgeries(pid, proof).items():
        with pytest.raises(ForgedAnswerError):
            verify_proof(pid, forged)
            pytest.fail(f"accepted a forgery: {name}")


def test_resolve_keeps_a_verified_answer_and_redirects() -> None:
    pid, proof = genuine()
    sched = make_scheduler(MemoryStore(), NODE_KEY)
    port = FakePort({"x:1": NotFound("no"), "y:2": proof})
    sched.directory = ProcessDirectory(sched, port, lambda: ["x:1", "y:2"])

    async def go() -> None:
        with pytest.raises(RedirectError) as caught:
            await sched.schedule(message_to(pid))
        assert caught.value.address == OTHER_NODE_KEY.address and caught.value.url == URL

    run(go())
    assert sched.get_message(pid) == proof.process  # kept: later messages are redirected at once
    assert sorted(port.asked) == ["x:1", "y:2"]


def test_forged_answers_are_refused_and_nothing_is_kept() -> None:
    pid, proof = genuine()
    for name, forged in forgeries(pid, proof).items():
        sched = make_scheduler(MemoryStore(), NODE_KEY)
        directory = ProcessDirectory(sched, FakePort({"evil:1": forged}), lambda: ["evil:1"])
        sched.directory = directory

        with pytest.raises(NotFound):  # the node answers as if nobody knew it
            run(sched.schedule(message_to(pid)))
        assert directory.refused == 1, name
        with pytest.raises(NotFound):
            sched.get_message(pid)
        assert sched.locations.url_of(OTHER_NODE_KEY.address) is None, name


def test_unknown_is_remembered_and_unreachable_is_unavailable() -> None:
    pid, _ = genuine()
    sched = make_scheduler(MemoryStore(), NODE_KEY)
    port = FakePort()
    directory = ProcessDirectory(sched, port, lambda: ["x:1"], DirectoryConfig(max_remembered=2))

    async def go() -> None:
        assert not await directory.resolve(pid)
        assert not await directory.resolve(pid)  # remembered: not asked again
        assert port.asked == ["x:1"]
        for i in range(5):
            await directory.resolve(bytes([i]) * 32)
        port.answers["x:1"] = Unavailable("down")
        with pytest.raises(Unavailable, match="could not be asked"):
            await directory.resolve(bytes([9]) * 32)

    run(go())
    assert len(directory._unknown) == 2  # bounded


def test_follow_redirects_forwards_to_the_found_scheduler() -> None:
    pid, proof = genuine()
    forwarded: list[str] = []

    class Forward:
        async def schedule_remote(self, url: str, message: Message) -> object:
            forwarded.append(url)
            return "forwarded"

    sched = make_scheduler(MemoryStore(), NODE_KEY, follow_redirects=True)
    sched._forwarder = Forward()  # type: ignore[assignment]
    sched.directory = ProcessDirectory(sched, FakePort({"y:2": proof}), lambda: ["y:2"])
    assert run(sched.schedule(message_to(pid))) == "forwarded"  # type: ignore[comparison-overlap]
    assert forwarded == [URL]
