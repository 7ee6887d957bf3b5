"""Hand-off records: who schedules a process from which slot, signed by the process's owner.

A **scheduler record** is a message signed by the process's owner (the Process message's signer) or by an
`Authority` the Process names, with the tags `Action = Assign-Scheduler`, `Process` (its ID), `Scheduler`
(the new scheduler's address), `Nonce` (an integer above the last record's; the Process itself counts as
nonce 0), `From-Slot` (the first slot the new scheduler assigns, >= 1) and optionally `Url` (where the new
scheduler can be reached: a hint for redirects, not an authority). Its signature is its authority: any node
that holds the process's schedule accepts a valid one, and the highest nonce wins.

Every record a node accepts is kept (table `scheduler_records`, process ‖ u64(nonce) → the record's
canonical encoding), not only the newest: a follower that verifies the schedule from slot 0 needs each
change of signer. `segments` turns them into the schedule's signers: the Process's scheduler from slot 0,
then, in nonce order, each record cuts the history at its `From-Slot` and names the signer from there on
(a later record may start below an earlier one's `From-Slot`: the owner then dropped what the earlier
scheduler assigned after it). `signer_at` is the one rule the follower's verification uses.

`RecordBook` reads and stages rows and tells listeners (the Follow streams) when a process's records
change, after the commit, so a stream always sends a record before any slot it authorises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aonode.codec import decode_message, encode_message
from aonode.crypto import Signer, sign_message, verify_message
from aonode.errors import AonodeError, FailedPrecondition, InvalidArgument, PermissionDenied
from aonode.ids import decode_id, encode_id
from aonode.model import MAX_SLOT, Message, Tag
from store import ObjectStore, ReadView, WriteBatch, u64

ACTION = "Assign-Scheduler"
RECORDS = "scheduler_records"
MAX_RECORD_BYTES = 16 << 10
MAX_RECORDS = 256  # per process: an owner re-assigning its process without end only fills its own table

Segment = tuple[int, str]
"""(first slot, the scheduler whose signatures count from there)."""


class RecordInvalid(InvalidArgument):
    """A scheduler record that is malformed or whose signature does not verify."""


class RecordNotAuthorized(PermissionDenied):
    """A scheduler record signed by someone other than the process's owner or an Authority it names."""


class StaleRecord(FailedPrecondition):
    """A scheduler record whose nonce is not above the newest one held here."""


class RecordConflict(FailedPrecondition):
    """A scheduler record this node cannot apply to the schedule it holds (it holds slots at or after
    its From-Slot, or, for a hand-off to this node, does not hold the slot before it)."""


@dataclass(frozen=True, slots=True)
class SchedulerRecord:
    process: bytes
    scheduler: str
    nonce: int
    from_slot: int
    url: str
    signer: str
    encoded: bytes

    def describe(self) -> str:
        return (
            f"record nonce {self.nonce}: process {encode_id(self.process)} scheduled by {self.scheduler} "
            f"from slot {self.from_slot}"
        )


def parse_record(message: Message) -> SchedulerRecord:
    """The record `message` carries, its signature verified (not yet who signed it: `check_signer`).
    RecordInvalid when anything is missing, malformed, or the signature does not verify."""
    try:
        message.validate()
    except AonodeError as exc:
        raise RecordInvalid(f"scheduler record: {exc}") from None
    if message.signature is None:
        raise RecordInvalid("scheduler record: unsigned (it must be signed by the process's owner)")
    try:
        encoded = encode_message(message)
    except Exception as exc:
        raise RecordInvalid(f"scheduler record cannot be encoded: {exc}") from None
    if len(encoded) > MAX_RECORD_BYTES:
        raise RecordInvalid(f"scheduler record: {len(encoded)} bytes, at most {MAX_RECORD_BYTES}")
    if message.tag("Action") != ACTION:
        raise RecordInvalid(f"scheduler record: Action must be {ACTION}")
    if message.is_process or message.data:
        raise RecordInvalid("scheduler record: must not be a Process nor carry data")
    try:
        process = decode_id((message.tag("Process") or "").strip(), "Process")
    except AonodeError as exc:
        raise RecordInvalid(f"scheduler record: {exc}") from None
    scheduler = (message.tag("Scheduler") or "").strip()
    try:
        decode_id(scheduler, "Scheduler")  # an address has the form of an ID
    except AonodeError as exc:
        raise RecordInvalid(f"scheduler record: {exc}") from None
    nonce = _number(message, "Nonce", 1)
    from_slot = _number(message, "From-Slot", 1)
    try:
        verify_message(message)
    except AonodeError as exc:
        raise RecordInvalid(f"scheduler record: signature invalid: {exc}") from None
    signer = message.owner_address
    assert signer is not None
    return SchedulerRecord(
        process, scheduler, nonce, from_slot, (message.tag("Url") or "").strip(), str(signer), encoded
    )


def build_record(
    owner: Signer, process: str, scheduler: str, nonce: int, from_slot: int, url: str = ""
) -> Message:
    """A scheduler record (module docstring) signed by `owner`."""
    tags = [
        Tag("Action", ACTION),
        Tag("Process", process),
        Tag("Scheduler", scheduler),
        Tag("Nonce", str(nonce)),
        Tag("From-Slot", str(from_slot)),
    ]
    if url:
        tags.append(Tag("Url", url))
    return sign_message(Message(tags=tuple(tags)), owner)


def decode_record(raw: bytes) -> SchedulerRecord:
    """`parse_record` of a record's canonical encoding (RecordInvalid when it does not decode)."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordInvalid(f"scheduler record: {len(raw)} bytes, at most {MAX_RECORD_BYTES}")
    try:
        message = decode_message(raw)
    except AonodeError as exc:
        raise RecordInvalid(f"scheduler record does not decode: {exc}") from None
    return parse_record(message)


def _number(message: Message, name: str, least: int) -> int:
    text = (message.tag(name) or "").strip()
    if not text.isdigit() or not least <= int(text) <= MAX_SLOT:
        raise RecordInvalid(f"scheduler record: {name} must be an integer from {least} to {MAX_SLOT}")
    return int(text)


def authorities(process: Message) -> set[str]:
    """Who may re-assign `process`: its signer and each address its `Authority` tags name (a tag may
    list several, comma-separated, as aoconnect writes them)."""
    out = {str(process.owner_address)} if process.owner_address is not None else set()
    for t in process.tags:
        if t.name.lower() == "authority":
            out.update(a.strip() for a in t.value.split(",") if a.strip())
    return out


def check_signer(record: SchedulerRecord, process: Message) -> None:
    """RecordNotAuthorized unless the process's owner or an Authority it names signed `record`."""
    if record.process != process.id:
        raise RecordInvalid("scheduler record names another process")
    if record.signer not in authorities(process):
        raise RecordNotAuthorized(
            f"scheduler record signed by {record.signer}, who is neither the owner of process "
            f"{encode_id(record.process)} nor an Authority it names"
        )


def segments(records: Iterable[SchedulerRecord]) -> list[Segment]:
    """The signer changes the records make, applied in nonce order (module docstring)."""
    out: list[Segment] = []
    for r in sorted(records, key=lambda r: r.nonce):
        out = [s for s in out if s[0] < r.from_slot]
        out.append((r.from_slot, r.scheduler))
    return out


def signer_at(original: str | None, changes: Sequence[Segment], slot: int) -> str | None:
    """Whose signature counts at `slot`: the last change at or before it, else the original scheduler."""
    signer = original
    for first, address in changes:
        if first <= slot:
            signer = address
        else:
            break
    return signer


def current_scheduler(original: str | None, changes: Sequence[Segment]) -> str | None:
    return changes[-1][1] if changes else original


def record_key(process: bytes, nonce: int) -> bytes:
    return process + u64(nonce)


class RecordBook:
    """The scheduler records this node holds (module docstring). Reads are synchronous (LMDB); writes are
    staged into the caller's batch and announced with `committed` once durable."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._versions: dict[bytes, int] = {}
        self._listeners: set[Callable[[bytes], None]] = set()

    def records(self, process: bytes, view: ReadView | None = None) -> list[SchedulerRecord]:
        """Every record of `process`, in nonce order (they were verified before they were stored)."""
        if view is None:
            with self._store.read() as own:
                return self.records(process, own)
        return [_stored(bytes(v)) for _, v in view.prefix(RECORDS, process)]

    def latest(self, process: bytes, view: ReadView | None = None) -> SchedulerRecord | None:
        if view is None:
            with self._store.read() as own:
                return self.latest(process, own)
        row = view.last(RECORDS, process)
        return None if row is None else _stored(bytes(row[1]))

    def count(self, process: bytes, view: ReadView) -> int:
        return sum(1 for _ in view.prefix(RECORDS, process))

    def held(self, process: bytes, nonce: int, view: ReadView) -> bytes | None:
        raw = view.get(RECORDS, record_key(process, nonce))
        return None if raw is None else bytes(raw)

    def every_latest(self) -> dict[bytes, SchedulerRecord]:
        """The newest record of every process that has one (at start)."""
        out: dict[bytes, SchedulerRecord] = {}
        with self._store.read() as view:
            for k, v in view.range(RECORDS):
                key = bytes(k)
                if len(key) == 40:  # keys are in nonce order: the last row of a process wins
                    out[key[:32]] = _stored(bytes(v))
        return out

    def stage(self, batch: WriteBatch, record: SchedulerRecord) -> None:
        key = record_key(record.process, record.nonce)
        batch.require(RECORDS, key, None)
        batch.put(RECORDS, key, record.encoded)

    def committed(self, process: bytes) -> None:
        self._versions[process] = self._versions.get(process, 0) + 1
        for listener in list(self._listeners):
            listener(process)

    def version(self, process: bytes) -> int:
        return self._versions.get(process, 0)

    def listen(self, listener: Callable[[bytes], None]) -> Callable[[], None]:
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)


def _stored(raw: bytes) -> SchedulerRecord:
    message = decode_message(raw)
    return SchedulerRecord(
        decode_id((message.tag("Process") or "").strip(), "Process"),
        (message.tag("Scheduler") or "").strip(),
        int(message.tag("Nonce") or "0"),
        int(message.tag("From-Slot") or "0"),
        (message.tag("Url") or "").strip(),
        str(message.owner_address),
        raw,
    )
