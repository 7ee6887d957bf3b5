"""Reading schedules back from the store: pages, heads, messages, an assignment by message ID.

Everything here reads committed data only (the store is the truth; the scheduler's in-memory tips may run
ahead of it by the writes still waiting for their commit). Each call reads one consistent snapshot
(`store.read()`), objects are verified on read by the store (a `CorruptObjectError` becomes DATA_LOSS),
and a page is checked to be dense as it is read, so a hole can never be served as a short schedule.
These are plain synchronous calls: LMDB reads cost microseconds, and a page is bounded by `max_page`.

Reads for clients (`read_frame`, and `get_schedule` given `max_bytes`) are also bounded by bytes: they
read one slot at a time (assignment, then message) and stop before the slot that would take the page
past `max_bytes` of stored encodings, so at most one message beyond the bound is ever loaded, and it is
dropped again at once. The first slot always goes, so a message larger than the bound travels alone.
Message bodies are also charged to the node-wide read budget through a `ReadLease` (budget.py) before
they are kept: a message that does not fit ends the page, or, when it is the first, raises `NeedBudget`
so that the caller waits for room outside the read view and reads again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aonode.codec import decode_assignment, decode_message
from aonode.errors import DataLoss, InvalidArgument, NotFound
from aonode.ids import Address, InvalidIdError, MessageId, ProcessId, address_of, decode_id, encode_id
from aonode.model import Assignment, Message
from aonode.scheduler import layout
from aonode.scheduler.budget import NeedBudget, ReadBudget, ReadLease
from aonode.scheduler.config import ProcessHead, SchedulePage, SchedulerConfig
from aonode.scheduler.errors import from_store_error
from aonode.scheduler.layout import HeadRecord
from aonode.scheduler.recent import RecentSlots
from store import ObjectStore, ReadView, StoreError, read_u64


class ScheduleGapError(DataLoss):
    """The stored schedule has a hole or a misplaced entry (never written by this scheduler)."""


class ScheduleReader:
    """Read side of the scheduler; `Scheduler` extends it with the write side."""

    def __init__(self, store: ObjectStore, address: Address, config: SchedulerConfig) -> None:
        self._store = store
        self.address = address
        self.config = config
        self.recent = RecentSlots(config.recent_slots, config.recent_bytes)
        self.read_budget = ReadBudget(config.read_budget_bytes, config.read_wait_seconds)
        # Reads that load message bodies for clients run here, one at a time: the bodies being loaded,
        # decoded and written into a response (or dropped again past a page's end) are those of one read.
        self.read_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aonode-read")

    # -- public reads --------------------------------------------------------------------------------------

    def get_message(self, message_id: bytes, lease: ReadLease | None = None) -> Message:
        """A stored message by ID (scheduled or published). NotFound when unknown. With `lease`, its
        stored size is charged to the read budget first (`NeedBudget` when there is no room now)."""
        try:
            with self._store.read() as view:
                digest = view.get(layout.MESSAGES, message_id)
                raw = None if digest is None else view.get_object(digest)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if raw is None:
            raise NotFound(f"message {encode_id(message_id)} not found")
        if lease is not None and not lease.try_take(len(raw)):
            raise NeedBudget(len(raw))
        return decode_message(raw)

    def head(self, process: bytes) -> ProcessHead:
        """The committed tip of `process`'s schedule. NotFound for a process this node does not schedule."""
        try:
            with self._store.read() as view:
                rec = _head(view, process)
                a = _assignment_at(view, process, rec.slot)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        return ProcessHead(
            process=ProcessId(process),
            slot=rec.slot,
            hash_chain=rec.hash_chain,
            timestamp=rec.timestamp,
            block_height=a.block_height,
            block_hash=a.block_hash,
            epoch=a.epoch,
            # A replicated schedule (aonode.replication) names its own scheduler, not this node.
            scheduler=address_of(a.signature.owner) if a.signature is not None else self.address,
        )

    def get_schedule(
        self,
        process: bytes,
        from_slot: int = 0,
        to_slot: int | None = None,
        limit: int | None = None,
        include_messages: bool = False,
        max_bytes: int | None = None,
        lease: ReadLease | None = None,
    ) -> SchedulePage:
        """Assignments `from_slot..to_slot` (inclusive; `to_slot=None` means the committed tip), at most
        `limit` (None or 0: `max_page`; capped at `max_page`). A range starting past the tip gives an empty
        page, so a poller can hold its cursor. NotFound for an unknown process.

        With `max_bytes`, the page also stops before the slot that would take it past that many bytes of
        stored encodings (the first slot always goes); with `lease`, each message is charged to the read
        budget before it is kept (module docstring: a short page, or `NeedBudget`)."""
        if from_slot < 0:
            raise InvalidArgument(f"from_slot must be >= 0, got {from_slot}")
        if to_slot is not None and to_slot < from_slot:
            raise InvalidArgument(f"to_slot ({to_slot}) is below from_slot ({from_slot})")
        if limit is not None and limit < 0:
            raise InvalidArgument(f"limit must be >= 0, got {limit}")
        page = min(limit or self.config.max_page, self.config.max_page)
        bounded = max_bytes is not None or lease is not None
        if include_messages and not bounded and to_slot is not None and to_slot - from_slot < page:
            # The whole range, committed moments ago: no store read (recent.py).
            held = self.recent.range(process, from_slot, to_slot - from_slot + 1)
            if held is not None:
                return SchedulePage(
                    process=ProcessId(process),
                    assignments=held[0],
                    messages=held[1],
                    has_next=False,
                    next_slot=to_slot + 1,
                )
        try:
            with self._store.read() as view:
                tip = _head(view, process).slot
                last = tip if to_slot is None else min(to_slot, tip)
                count = max(0, min(page, last - from_slot + 1))
                if bounded:
                    assignments, messages = _read_bounded(
                        view, process, from_slot, count, include_messages, max_bytes, lease
                    )
                else:
                    assignments = read_range(view, process, from_slot, count)
                    messages = [_message_of(view, a) for a in assignments] if include_messages else []
        except StoreError as exc:
            raise from_store_error(exc) from exc
        next_slot = from_slot + len(assignments)
        return SchedulePage(
            process=ProcessId(process),
            assignments=assignments,
            messages=messages,
            has_next=next_slot <= last,
            next_slot=next_slot,
        )

    def assignment_of(self, message_id: bytes, process: bytes | None = None) -> Assignment:
        """The assignment of a scheduled message on `process`; without one, its assignment on its own
        target (its `Target`, or itself for a Process message), else (a message only assigned elsewhere,
        docs/scheduler.md "Assignments") the one on the first process found holding it, in process-ID
        order. NotFound when the message is not scheduled here (on `process`)."""
        try:
            with self._store.read() as view:
                if process is not None:
                    raw = view.get(layout.ASSIGNED, layout.assigned_key(message_id, process))
                    found = None if raw is None else (process, read_u64(raw))
                else:
                    rows = [
                        (bytes(k[32:]), read_u64(v))
                        for k, v in view.prefix(layout.ASSIGNED, message_id, limit=2)
                    ]
                    found = rows[0] if rows else None
                    if len(rows) > 1:  # assigned elsewhere too: its own target first (the message is read)
                        own = _own_target(view, message_id)
                        raw = None if own is None else view.get(layout.ASSIGNED, message_id + own)
                        if own is not None and raw is not None:
                            found = (own, read_u64(raw))
                if found is None:
                    raise NotFound(f"message {encode_id(message_id)} is not scheduled here")
                return _assignment_at(view, found[0], found[1])
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def read_frame(
        self,
        process: bytes,
        from_slot: int,
        count: int,
        *,
        encoded: bool = False,
        include_messages: bool = False,
        max_bytes: int | None = None,
        lease: ReadLease | None = None,
        raw: bool = False,
    ) -> tuple[list[Assignment] | list[bytes], list[Message] | list[bytes]]:
        """Up to `count` committed assignments from `from_slot` (decoded, or as stored with `encoded`) and,
        with `include_messages`, their messages, bounded by `max_bytes` and `lease` as `get_schedule` is.
        At least one slot when `count` > 0 (or `NeedBudget`); DataLoss when a slot is missing."""
        try:
            with self._store.read() as view:
                if raw:
                    # Replication: assignments and messages exactly as stored, nothing decoded twice.
                    slots = _bounded_slots(view, process, from_slot, count, True, max_bytes, lease)
                    return [a for a, _, _ in slots], [m for _, _, m in slots if m is not None]
                if encoded:
                    return _read_bounded_encoded(
                        view, process, from_slot, count, include_messages, max_bytes, lease
                    )
                return _read_bounded(view, process, from_slot, count, include_messages, max_bytes, lease)
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def processes(self) -> list[ProcessId]:
        """Every process with a schedule on this node, in ID byte order."""
        try:
            with self._store.read() as view:
                return [ProcessId(bytes(key)) for key, _ in view.range(layout.HEADS)]
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def read_encoded(self, process: bytes, from_slot: int, count: int) -> list[bytes]:
        """The `count` committed assignments from `from_slot` on, as stored (DataLoss if any is missing)."""
        try:
            with self._store.read() as view:
                return read_range_encoded(view, process, from_slot, count)
        except StoreError as exc:
            raise from_store_error(exc) from exc

    def read_assignments(self, process: bytes, from_slot: int, count: int) -> list[Assignment]:
        """Exactly the `count` committed assignments from `from_slot` on (DataLoss if any is missing)."""
        try:
            with self._store.read() as view:
                return read_range(view, process, from_slot, count)
        except StoreError as exc:
            raise from_store_error(exc) from exc


# -- helpers on a read view (shared with the write side) ---------------------------------------------------


def read_range(view: ReadView, process: bytes, from_slot: int, count: int) -> list[Assignment]:
    """`count` consecutive assignments from `from_slot`, checked dense and in place."""
    if count <= 0:
        return []
    out: list[Assignment] = []
    expected = from_slot
    start = layout.slot_key(process, from_slot)
    stop = layout.slot_key(process, from_slot + count)
    for key, digest in view.range(layout.ASSIGNMENTS, start, stop, limit=count):
        if key != layout.slot_key(process, expected):
            raise ScheduleGapError(f"process {encode_id(process)}: slot {expected} is missing from the store")
        a = decode_assignment(_object(view, digest, "assignment"))
        if a.slot != expected or a.process != process:
            raise ScheduleGapError(
                f"process {encode_id(process)}: the object at slot {expected} is misplaced"
            )
        out.append(a)
        expected += 1
    if len(out) != count:
        raise ScheduleGapError(f"process {encode_id(process)}: slot {expected} is missing from the store")
    return out


def read_range_encoded(view: ReadView, process: bytes, from_slot: int, count: int) -> list[bytes]:
    """`count` consecutive assignments from `from_slot` as stored (verified by the store against their
    digests), checked dense by key; nothing is decoded."""
    if count <= 0:
        return []
    start = layout.slot_key(process, from_slot)
    stop = layout.slot_key(process, from_slot + count)
    out = [_object(view, digest, "assignment") for _, digest in view.range(layout.ASSIGNMENTS, start, stop)]
    if len(out) != count:
        raise ScheduleGapError(
            f"process {encode_id(process)}: a slot in {from_slot}..{from_slot + count - 1} is missing"
        )
    return out


def _bounded_slots(
    view: ReadView,
    process: bytes,
    from_slot: int,
    count: int,
    include_messages: bool,
    max_bytes: int | None,
    lease: ReadLease | None,
) -> list[tuple[bytes, Assignment | None, bytes | None]]:
    """(stored assignment, decoded assignment if decoded, stored message) for up to `count` slots from
    `from_slot`, one slot at a time, stopping before the slot that would go past `max_bytes` or that the
    lease cannot take (the first slot always goes; `NeedBudget` when the lease cannot take its message)."""
    if count <= 0:
        return []
    out: list[tuple[bytes, Assignment | None, bytes | None]] = []
    total = 0
    expected = from_slot
    start = layout.slot_key(process, from_slot)
    stop = layout.slot_key(process, from_slot + count)
    for key, digest in view.range(layout.ASSIGNMENTS, start, stop, limit=count):
        if key != layout.slot_key(process, expected):
            break  # a hole: reported below
        raw = _object(view, digest, f"assignment {expected}")
        a: Assignment | None = None
        message: bytes | None = None
        size = len(raw)
        if include_messages:
            a = decode_assignment(raw)
            if a.slot != expected or a.process != process:
                raise ScheduleGapError(
                    f"process {encode_id(process)}: the object at slot {expected} is misplaced"
                )
            mdigest = view.get(layout.MESSAGES, a.message)
            if mdigest is None:
                raise ScheduleGapError(
                    f"slot {a.slot}: message {encode_id(a.message)} is missing from the store"
                )
            message = _object(view, mdigest, "a scheduled message")
            size += len(message)
        if out and max_bytes is not None and total + size > max_bytes:
            return out
        if message is not None and lease is not None and not lease.try_take(len(message)):
            if out:
                return out
            raise NeedBudget(len(message))
        out.append((raw, a, message))
        total += size
        expected += 1
    if len(out) != count:
        raise ScheduleGapError(f"process {encode_id(process)}: slot {expected} is missing from the store")
    return out


def _read_bounded(
    view: ReadView,
    process: bytes,
    from_slot: int,
    count: int,
    include_messages: bool,
    max_bytes: int | None,
    lease: ReadLease | None,
) -> tuple[list[Assignment], list[Message]]:
    assignments: list[Assignment] = []
    messages: list[Message] = []
    slot = from_slot
    for raw, decoded, message in _bounded_slots(
        view, process, from_slot, count, include_messages, max_bytes, lease
    ):
        a = decoded if decoded is not None else decode_assignment(raw)
        if a.slot != slot or a.process != process:
            raise ScheduleGapError(f"process {encode_id(process)}: the object at slot {slot} is misplaced")
        assignments.append(a)
        if message is not None:
            messages.append(decode_message(message))
        slot += 1
    return assignments, messages


def _read_bounded_encoded(
    view: ReadView,
    process: bytes,
    from_slot: int,
    count: int,
    include_messages: bool,
    max_bytes: int | None,
    lease: ReadLease | None,
) -> tuple[list[bytes], list[Message]]:
    if not include_messages:
        return _bounded_encoded(view, process, from_slot, count, max_bytes), []
    slots = _bounded_slots(view, process, from_slot, count, include_messages, max_bytes, lease)
    encoded = [raw for raw, _, _ in slots]
    messages = [decode_message(m) for _, _, m in slots if m is not None]
    return encoded, messages


def _bounded_encoded(
    view: ReadView, process: bytes, from_slot: int, count: int, max_bytes: int | None
) -> list[bytes]:
    """`read_range_encoded` stopping before `max_bytes` (the hot path of a subscriber catching up: keys
    are ascending from `from_slot`, so the slots read are dense when the last one is where it should be)."""
    if count <= 0:
        return []
    limit = max_bytes if max_bytes is not None else 1 << 62
    out: list[bytes] = []
    total = 0
    last = b""
    get = view.get_object
    start = layout.slot_key(process, from_slot)
    stop = layout.slot_key(process, from_slot + count)
    for key, digest in view.range(layout.ASSIGNMENTS, start, stop, limit=count):
        raw = get(digest)
        if raw is None:
            raise ScheduleGapError(f"assignment: object {encode_id(digest)} is missing from the store")
        total += len(raw)
        if total > limit and out:
            break
        out.append(raw)
        last = key
    else:
        if len(out) != count:
            out = []  # a hole somewhere: reported below
    if not out or last != layout.slot_key(process, from_slot + len(out) - 1):
        raise ScheduleGapError(
            f"process {encode_id(process)}: a slot in {from_slot}..{from_slot + count - 1} is missing"
        )
    return out


def _object(view: ReadView, digest: bytes, what: str | Callable[[], str]) -> bytes:
    """The object under `digest`; `what` names it in the error (a callable, so hot paths don't format a
    message for the common case where nothing is wrong)."""
    data = view.get_object(digest)
    if data is None:
        name = what() if callable(what) else what
        raise ScheduleGapError(f"{name}: object {encode_id(digest)} is missing from the store")
    return data


def _head(view: ReadView, process: bytes) -> HeadRecord:
    raw = view.get(layout.HEADS, process)
    if raw is None:
        raise NotFound(f"process {encode_id(process)} is not scheduled on this node")
    return HeadRecord.decode(bytes(raw))


def _assignment_at(view: ReadView, process: bytes, slot: int) -> Assignment:
    digest = view.get(layout.ASSIGNMENTS, layout.slot_key(process, slot))
    if digest is None:
        raise ScheduleGapError(f"process {encode_id(process)}: slot {slot} is missing from the store")
    return decode_assignment(_object(view, digest, lambda: f"assignment {slot}"))


def _message(view: ReadView, message_id: bytes) -> Message | None:
    digest = view.get(layout.MESSAGES, message_id)
    if digest is None:
        return None
    return decode_message(_object(view, digest, lambda: f"message {encode_id(message_id)}"))


def _message_of(view: ReadView, a: Assignment) -> Message:
    m = _message(view, a.message)
    if m is None:
        raise ScheduleGapError(f"slot {a.slot}: message {encode_id(a.message)} is missing from the store")
    return m


def committed_assignment(view: ReadView, message_id: MessageId, process: bytes) -> Assignment | None:
    """The committed assignment of `message_id` on `process`, or None (the idempotency check)."""
    raw = view.get(layout.ASSIGNED, layout.assigned_key(message_id, process))
    if raw is None:
        return None
    return _assignment_at(view, process, read_u64(raw))


def _own_target(view: ReadView, message_id: bytes) -> bytes | None:
    """The process a stored message is addressed to (None: not stored, or no valid target)."""
    m = _message(view, message_id)
    if m is None:
        return None
    if m.is_process:
        return m.id
    try:
        return decode_id(m.target, "target") if m.target else None
    except InvalidIdError:
        return None


def stored_message(view: ReadView, message_id: bytes) -> Message | None:
    return _message(view, message_id)


def stored_head(view: ReadView, process: bytes) -> HeadRecord | None:
    raw = view.get(layout.HEADS, process)
    return None if raw is None else HeadRecord.decode(bytes(raw))
