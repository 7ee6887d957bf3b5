"""An independent verifier of a stored schedule (DESIGN §3; reliability I2, I3).

It shares nothing with the scheduler's write or read paths but the model layer (codec, crypto) and the
table names: keys are rebuilt here with `struct`, the head record is parsed here, and the chain is
recomputed with blake3 directly. Walking from slot 0 to the tip, it checks that

- the `assignments` rows are exactly slots 0..N of the process (dense, nothing past the head);
- every assignment object is intact (the store verifies its digest), decodes, names this process and
  slot, is signed, its signature verifies, and its signer is the scheduler (given, or slot 0's signer),
  or from a hand-off's first slot on, the scheduler it names (`handoffs`: (From-Slot, address) in slot
  order, as `aonode.replication.handoff.segments` derives them from the owner's records);
- every message is stored under its ID (`messages`), decodes, and its ID is the assigned message ID
  (signature verified too unless `verify_messages=False`); slot 0 is the Process message itself; a later
  message targets the process or is an assignment (its Target is another process; not a Process message,
  no `From-Process`/`Cron-From`, the scheduler's rule for `assign`);
- `assigned` maps every message back to its slot;
- `hash_chain(n) = blake3(hash_chain(n-1) ‖ message_id(n))` with `hash_chain(-1)` = the process ID;
- timestamps never decrease;
- the head record equals the last assignment (slot, chain, timestamp, object digest).

It returns a `VerifyReport` listing every problem (up to `max_problems`); `report.raise_for_problems()`
raises `ScheduleVerificationError` (DATA_LOSS) when there is any.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from blake3 import blake3

from aonode.codec import decode_assignment, decode_message
from aonode.crypto import verify_assignment, verify_message
from aonode.errors import AonodeError, DataLoss
from aonode.ids import address_of, encode_id
from aonode.model import Assignment
from aonode.scheduler.layout import ASSIGNED, ASSIGNMENTS, HEADS, MESSAGES
from aonode.scheduler.relay import relayed_tag
from store import CorruptObjectError, ObjectStore, ReadView, StoreError

_Problem = Callable[[str], None]
_SLOT = struct.Struct(">Q")
_HEAD = struct.Struct(">BQ32sQ32s")


class ScheduleVerificationError(DataLoss):
    """A stored schedule failed verification; `report` says where."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(report.summary())
        self.report = report


@dataclass
class VerifyReport:
    process: bytes
    scheduler: str | None = None
    slots_checked: int = 0
    head_slot: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        pid = _text(self.process)
        if self.ok:
            return f"process {pid}: {self.slots_checked} slots verified (head {self.head_slot})"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"process {pid}: {self.problems[0]}{more}"

    def raise_for_problems(self) -> VerifyReport:
        if self.problems:
            raise ScheduleVerificationError(self)
        return self


class _Stop(Exception):
    pass


def verify_schedule(
    store: ObjectStore,
    process: bytes,
    *,
    scheduler: str | None = None,
    verify_messages: bool = True,
    max_problems: int = 20,
    handoffs: Sequence[tuple[int, str]] = (),
) -> VerifyReport:
    """Verify `process`'s stored schedule from slot 0 to its head, in one read snapshot."""
    report = VerifyReport(process=process, scheduler=scheduler)

    def problem(text: str) -> None:
        report.problems.append(text)
        if len(report.problems) >= max_problems:
            raise _Stop

    try:
        with store.read() as view:
            _walk(view, process, report, problem, verify_messages, handoffs)
    except _Stop:
        pass
    except StoreError as exc:
        report.problems.append(f"store error: {type(exc).__name__}: {exc}")
    return report


def _walk(
    view: ReadView,
    pid: bytes,
    report: VerifyReport,
    problem: _Problem,
    verify_messages: bool,
    handoffs: Sequence[tuple[int, str]],
) -> None:
    raw_head = view.get(HEADS, pid)
    if raw_head is None:
        problem("no head record")
        return
    raw_head = bytes(raw_head)
    if len(raw_head) != _HEAD.size or raw_head[0] != 1:
        problem(f"head record is malformed ({len(raw_head)} bytes)")
        return
    _, head_slot, head_chain, head_ts, head_digest = _HEAD.unpack(raw_head)
    report.head_slot = head_slot

    chain: bytes | None = pid  # the previous link; None when unknown (its slot could not be read)
    last_ts = 0
    expected = 0
    last: tuple[bytes, bytes] | None = None  # (object digest, hash chain) of the last good assignment
    for raw_key, raw_value in view.range(ASSIGNMENTS, pid, _after_prefix(pid)):
        key, digest = bytes(raw_key), bytes(raw_value)
        if len(key) != 40:
            problem(f"malformed assignments key {key.hex()}")
            continue
        slot = _SLOT.unpack_from(key, 32)[0]
        if slot != expected:
            problem(f"slot {expected} is missing (next stored slot is {slot})")
            chain = None
        expected = slot + 1
        where = f"slot {slot}"
        a = _assignment(view, digest, where, problem)
        if a is None:
            chain, last = None, None
            continue
        try:
            a.validate()
        except AonodeError as exc:
            problem(f"{where}: assignment is malformed: {exc}")
            chain, last = None, None
            continue
        if a.process != pid or a.slot != slot:
            problem(f"{where}: assignment names process {_text(a.process)} slot {a.slot}")
        if a.signature is None:
            problem(f"{where}: assignment is unsigned")
        else:
            try:
                verify_assignment(a)
            except AonodeError as exc:
                problem(f"{where}: assignment signature invalid: {exc}")
            signer = address_of(a.signature.owner)
            if report.scheduler is None:
                report.scheduler = signer
            want = report.scheduler
            for first, address in handoffs:
                if first <= slot:
                    want = address
            if signer != want:
                problem(f"{where}: assignment signed by {signer}, not the scheduler {want}")
        _check_message(view, pid, a.message, slot, problem, verify_messages)
        if chain is not None and a.hash_chain != blake3(chain + a.message).digest():
            problem(f"{where}: hash chain does not follow from slot {slot - 1}")
        if a.timestamp < last_ts:
            problem(f"{where}: timestamp {a.timestamp} is before the previous {last_ts}")
        last_ts = a.timestamp
        chain = a.hash_chain  # go on from the stored link, so one bad link is reported once
        last = (digest, a.hash_chain)
        report.slots_checked += 1

    if expected - 1 != head_slot:
        problem(f"head says slot {head_slot} but the stored schedule ends at slot {expected - 1}")
    elif last is not None and last != (head_digest, head_chain):
        problem("head record does not match the last assignment (digest or hash chain)")
    elif last is not None and head_ts != last_ts:
        problem(f"head timestamp {head_ts} differs from the last assignment's {last_ts}")


def _assignment(view: ReadView, digest: bytes, where: str, problem: _Problem) -> Assignment | None:
    try:
        data = view.get_object(digest)
    except CorruptObjectError as exc:
        problem(f"{where}: assignment object is corrupt ({exc})")
        return None
    if data is None:
        problem(f"{where}: assignment object {_text(digest)} is missing")
        return None
    try:
        return decode_assignment(bytes(data))
    except AonodeError as exc:
        problem(f"{where}: assignment does not decode: {exc}")
        return None


def _check_message(
    view: ReadView, pid: bytes, mid: bytes, slot: int, problem: _Problem, verify_messages: bool
) -> None:
    where = f"slot {slot}"
    if slot == 0 and mid != pid:
        problem(f"{where}: slot 0 holds {_text(mid)}, not the Process message")
    back = view.get(ASSIGNED, mid + pid)
    if back is None or _SLOT.unpack(bytes(back))[0] != slot:
        problem(f"{where}: the assigned index does not map message {_text(mid)} to this slot")
    digest = view.get(MESSAGES, mid)
    if digest is None:
        problem(f"{where}: message {_text(mid)} is not stored")
        return
    try:
        data = view.get_object(bytes(digest))
    except CorruptObjectError as exc:
        problem(f"{where}: message object is corrupt ({exc})")
        return
    if data is None:
        problem(f"{where}: message object for {_text(mid)} is missing")
        return
    try:
        m = decode_message(bytes(data))
    except AonodeError as exc:
        problem(f"{where}: message does not decode: {exc}")
        return
    if m.id != mid:
        problem(f"{where}: stored message has ID {_text(m.id)}, assigned {_text(mid)}")
    if slot == 0 and not m.is_process:
        problem(f"{where}: slot 0's message is not a Process")
    elif slot > 0 and m.target != encode_id(pid):
        # An assignment (the message keeps its own Target): what the scheduler assigns, and only that.
        if m.is_process or not m.target:
            problem(f"{where}: message {_text(mid)} is not the process's and cannot be an assignment")
        elif relayed_tag(m) is not None:
            problem(
                f"{where}: assigned message {_text(mid)} carries a relayed identity (From-Process/Cron-From)"
            )
    if verify_messages and m.signature is not None:
        try:
            verify_message(m)
        except AonodeError as exc:
            problem(f"{where}: message signature invalid: {exc}")


def _text(raw: bytes) -> str:
    return encode_id(raw) if len(raw) == 32 else f"<{len(raw)} bytes>"


def _after_prefix(prefix: bytes) -> bytes:
    # The smallest key greater than every key starting with `prefix` (IDs are 32 bytes, never all 0xff
    # in practice; an all-0xff prefix has no upper bound and scans to the end, which range() allows).
    n = int.from_bytes(prefix, "big") + 1
    return n.to_bytes(len(prefix), "big") if n < 1 << (8 * len(prefix)) else b"\xff" * (len(prefix) + 1)
