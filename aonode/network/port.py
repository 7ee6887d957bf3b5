"""What the network domain needs from the wire: talking to another node (the gRPC adapter is
`aonode/rpc/network_client.py`), and the proof a node gives of where a process lives.

A `ProcessProof` is self-verifying: the Process message (its ID is the process ID, its signature its
owner's), slot 0 of its schedule signed by the scheduler (which binds the process ID, the message and the
hash chain, so no other node could have produced it), and the scheduler's own signed location record
(so no other node can say where the scheduler is). `verify_proof` checks all three and that they name
the same scheduler; whoever relays the answer needs no trust at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aonode.crypto import verify_assignment, verify_location
from aonode.errors import AonodeError, InvalidArgument
from aonode.ids import address_of, encode_id, next_hash_chain
from aonode.model import Assignment, Location, Message
from aonode.scheduler.verifier import check_message


class ForgedAnswerError(InvalidArgument):
    """A directory answer or a location record that does not prove what it claims."""


@dataclass(frozen=True)
class ProcessProof:
    process: Message
    assignment: Assignment
    location: Location


class PeerPort(Protocol):
    """Calls to another node. Unreachable nodes raise `Unavailable`; other refusals their own
    `AonodeError` (a `NotFound` from `lookup` means the node does not hold the process)."""

    async def exchange(self, url: str, records: Sequence[Location]) -> list[Location]:
        """Send `records` to the node at `url`; return the records it knows (unverified: the caller
        checks each)."""
        ...

    async def lookup(self, url: str, process: bytes) -> ProcessProof:
        """Ask the node at `url` for the proof of where `process` lives (unverified)."""
        ...


def verify_proof(process: bytes, proof: ProcessProof, *, accept_unsigned: bool = False) -> str:
    """The scheduler's address if `proof` proves that it schedules `process`; ForgedAnswerError
    otherwise (naming what does not hold)."""
    pid = encode_id(process)
    msg, a, loc = proof.process, proof.assignment, proof.location
    try:
        if msg.id != process:
            raise ForgedAnswerError(f"directory answer for {pid}: its Process message has another ID")
        if not msg.is_process:
            raise ForgedAnswerError(f"directory answer for {pid}: the message is not a Process")
        check_message(msg, accept_unsigned)
        verify_assignment(a)
        if a.process != process or a.slot != 0 or a.message != process:
            raise ForgedAnswerError(f"directory answer for {pid}: the assignment is not its slot 0")
        if a.hash_chain != next_hash_chain(process, process):
            raise ForgedAnswerError(f"directory answer for {pid}: the assignment's hash chain is wrong")
        assert a.signature is not None
        scheduler = str(address_of(a.signature.owner))
        named = msg.tag("Scheduler")
        if named != scheduler:
            raise ForgedAnswerError(
                f"directory answer for {pid}: slot 0 is signed by {scheduler}, the Process names {named}"
            )
        verify_location(loc)
        if loc.address != scheduler:
            raise ForgedAnswerError(
                f"directory answer for {pid}: the location record names {loc.address[:64]!r}, not {scheduler}"
            )
    except ForgedAnswerError:
        raise
    except AonodeError as exc:  # a bad signature, an invalid message: forged or corrupt, refused the same
        raise ForgedAnswerError(f"directory answer for {pid}: {exc}") from None
    return scheduler
