"""Verification of a leader's frames before anything is stored: the follower's whole safety argument.

A `Chain` holds what the follower knows of one process: the scheduler whose signatures count, the next
slot expected, the previous hash-chain link (the process ID before slot 0), the last timestamp, and the
encoding of the last stored assignment. `check_frame` takes a frame and returns the verified slots, or
raises `Refused` naming the first thing that is wrong:
- assignments and messages must decode (the codec accepts only canonical bytes, so the bytes stored are
  the bytes the leader stored and every digest and ID is the same);
- slots dense from the next expected one (a gap or a reordered slot is refused); a resent slot equal
  byte for byte to the one stored is skipped, a *different* validly signed one is equivocation, and the
  two signed assignments are the evidence (`Equivocation`);
- each assignment names the process and is signed by the scheduler of its slot: the one the Process
  message names in its `Scheduler` tag (or, for a Process naming none, the signer of slot 0: trust on
  first use), or from a hand-off record's `From-Slot` on, the scheduler that owner-signed record names
  (`Chain.changes`, handoff.py): a new signer is accepted only where such a record says so;
- `hash_chain = blake3(previous link ‖ message ID)`, timestamps never decrease;
- each message decodes to the ID the assignment names (a substituted message is refused), validates, and
  carries a valid signature (unsigned ones only with `accept_unsigned`, as the scheduler itself); slot 0 is
  the Process message itself (ID = process ID); every later message targets the process, or is an
  assignment (its Target is another process): then it is not a Process message and carries no
  `From-Process`/`Cron-From` (`assignment_problem`, the scheduler's own rule for assigning).
The chain is advanced only on success, so the state always describes what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aonode.codec import decode_assignment, decode_message
from aonode.crypto import verify_assignment
from aonode.errors import AonodeError, DataLoss
from aonode.ids import address_of, encode_id, next_hash_chain
from aonode.model import Assignment, Message
from aonode.replication.handoff import Segment, current_scheduler, signer_at
from aonode.scheduler import Replicated
from aonode.scheduler.errors import UnsignedMessageError
from aonode.scheduler.relay import relayed_tag
from aonode.scheduler.verifier import check_message


@dataclass(frozen=True, slots=True)
class Equivocation:
    """Two different assignments for one slot, both signed by the scheduler: proof that it cheated."""

    process: bytes
    slot: int
    first: bytes
    second: bytes


class Refused(DataLoss):
    """The leader sent something that does not verify: nothing of it is stored."""

    def __init__(self, reason: str, equivocation: Equivocation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.equivocation = equivocation


Verified = Replicated
"""A slot that passed `check_frame`: what `Scheduler.submit_replicated` stores."""


@dataclass
class Chain:
    """What is stored of one process (see the module docstring)."""

    process: bytes
    next_slot: int = 0
    link: bytes = b""
    timestamp: int = 0
    scheduler: str | None = None
    last: bytes | None = None  # encoding of the assignment at next_slot - 1
    accept_unsigned: bool = False
    changes: list[Segment] = field(default_factory=list)  # hand-offs: (From-Slot, new scheduler)

    def __post_init__(self) -> None:
        if not self.link:
            self.link = self.process

    @property
    def current(self) -> str | None:
        """The scheduler that assigns the process's next slots (after the last hand-off)."""
        return current_scheduler(self.scheduler, self.changes)


def check_frame(chain: Chain, assignments: list[bytes], messages: list[bytes]) -> list[Verified]:
    """The slots of a frame that extend `chain`, all verified (module docstring); `chain` advances."""
    pid = chain.process
    if len(assignments) != len(messages):
        raise Refused(f"frame has {len(assignments)} assignments but {len(messages)} messages")
    out: list[Verified] = []
    changes = list(chain.changes)
    # Work on copies: the chain only moves if the whole frame verifies.
    next_slot, link, ts, scheduler, last = (
        chain.next_slot,
        chain.link,
        chain.timestamp,
        chain.scheduler,
        chain.last,
    )
    for raw_a, raw_m in zip(assignments, messages, strict=True):
        try:
            a = decode_assignment(raw_a)
        except AonodeError as exc:
            raise Refused(f"an assignment does not decode: {exc}") from None
        where = f"process {encode_id(pid)} slot {a.slot}"
        if a.process != pid:
            raise Refused(f"{where}: assignment names process {encode_id(a.process)}")
        if a.slot == next_slot - 1 and last is not None:
            if raw_a == last:
                continue  # resent (the overlap slot of a resume): already stored
            expected = signer_at(scheduler, changes, a.slot)
            _signed_by(a, expected, where)
            held = decode_assignment(last).signature
            if held is not None and expected is not None and address_of(held.owner) != expected:
                # Not two histories of one scheduler: this node holds the previous scheduler's slot,
                # which the hand-off dropped (an old leader's orphan). No evidence against anyone.
                raise Refused(
                    f"{where}: this node holds {address_of(held.owner)}'s assignment for this slot, which "
                    f"the hand-off to {expected} does not contain: it cannot follow the new schedule"
                )
            raise Refused(
                f"{where}: equivocation: the scheduler signed two different assignments for this slot",
                Equivocation(pid, a.slot, last, raw_a),
            )
        if a.slot != next_slot:
            kind = "gap or reordered slot" if a.slot > next_slot else "reordered or repeated slot"
            raise Refused(f"{where}: {kind}: expected slot {next_slot}")
        try:
            m = decode_message(raw_m)
        except AonodeError as exc:
            raise Refused(f"{where}: message does not decode: {exc}") from None
        if m.id != a.message:
            raise Refused(f"{where}: message {encode_id(m.id)} is not the assigned {encode_id(a.message)}")
        if a.slot == 0:
            if not m.is_process or m.id != pid:
                raise Refused(f"{where}: slot 0 is not the Process message")
            if scheduler is None:
                scheduler = process_scheduler(m, a)
        elif m.target != encode_id(pid):
            # An assignment (ao's: the assignment names the process, the message keeps its own Target):
            # accepted under the rule the scheduler applies when it assigns (Scheduler.assign).
            problem = assignment_problem(m)
            if problem is not None:
                raise Refused(f"{where}: message targets {m.target!r}, not the process, and {problem}")
        _signed_by(a, signer_at(scheduler, changes, a.slot), where)
        try:
            check_message(m, chain.accept_unsigned)  # the scheduler's own check of every message
        except UnsignedMessageError:
            raise Refused(f"{where}: message is unsigned") from None
        except AonodeError as exc:
            raise Refused(f"{where}: message signature invalid: {exc}") from None
        if a.hash_chain != next_hash_chain(link, a.message):
            raise Refused(f"{where}: hash chain does not follow from the previous slot")
        if a.timestamp < ts:
            raise Refused(f"{where}: timestamp {a.timestamp} is before the previous {ts}")
        out.append(Verified(a, raw_a, m, raw_m))
        next_slot, link, ts, last = a.slot + 1, a.hash_chain, a.timestamp, raw_a
    chain.next_slot, chain.link, chain.timestamp, chain.scheduler, chain.last = (
        next_slot,
        link,
        ts,
        scheduler,
        last,
    )
    return out


def assignment_problem(m: Message) -> str | None:
    """Why a message whose Target is not the process cannot be an assignment on it, or None when it can:
    what `Scheduler.assign` refuses (a Process message, no target, a relayed identity)."""
    if m.is_process:
        return "is a Process message"
    if not m.target:
        return "has no target"
    claimed = relayed_tag(m)
    if claimed is not None:
        return f"carries {claimed}, vouched for its own target only"
    return None


def process_scheduler(process: Message | None, first: Assignment) -> str | None:
    """The scheduler whose signatures count for a process: the one its Process message names in its
    `Scheduler` tag, else (trust on first use) the signer of its slot 0 assignment `first`."""
    named = process.tag("Scheduler") if process is not None else None
    if named:
        return named
    return address_of(first.signature.owner) if first.signature is not None else None


def _signed_by(a: Assignment, scheduler: str | None, where: str) -> None:
    if a.signature is None:
        raise Refused(f"{where}: assignment is unsigned")
    try:
        a.validate()
        verify_assignment(a)
    except AonodeError as exc:
        raise Refused(f"{where}: assignment signature invalid: {exc}") from None
    signer = address_of(a.signature.owner)
    if scheduler is not None and signer != scheduler:
        raise Refused(
            f"{where}: assignment signed by {signer}, not the process's scheduler {scheduler} "
            "(a new scheduler is accepted only from the From-Slot of an owner-signed hand-off record)"
        )
