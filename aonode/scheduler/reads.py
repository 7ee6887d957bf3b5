"""Reading schedules back from the store: pages, heads, messages, an assignment by message ID.

Everything here reads committed data only (the store is the truth; the scheduler's in-memory tips may run
ahead of it by the writes still waiting for their commit). Each call reads one consistent snapshot
(`store.read()`), objects are verified on read by the store (a `CorruptObjectError` becomes DATA_LOSS),
and a page is checked to be dense as it is read, so a hole can never be served as a short schedule.
These are plain synchronous calls: LMDB reads cost microseconds, and a page is bounded by `max_page`.
"""

from __future__ import annotations

from collections.abc import Callable

from aonode.codec import decode_assignment, decode_message
from aonode.errors import DataLoss, InvalidArgument, NotFound
from aonode.ids import Address, MessageId, ProcessId, encode_id
from aonode.model import Assignment, Message
from aonode.scheduler import layout
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

    # -- public reads --------------------------------------------------------------------------------------

    def get_message(self, message_id: bytes) -> Message:
        """A stored message by ID (scheduled or published). NotFound when unknown."""
        try:
            with self._store.read() as view:
                found = _message(view, message_id)
        except StoreError as exc:
            raise from_store_error(exc) from exc
        if found is None:
            raise NotFound(f"message {encode_id(message_id)} not found")
        return found

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
            scheduler=self.address,
        )

    def get_schedule(
        self,
        process: bytes,
        from_slot: int = 0,
        to_slot: int | None = None,
        limit: int | None = None,
        include_messages: bool = False,
    ) -> SchedulePage:
        """Assignments `from_slot..to_slot` (inclusive; `to_slot=None` means the committed tip), at most
        `limit` (None or 0: `max_page`; capped at `max_page`). A range starting past the tip gives an empty
        page, so a poller can hold its cursor. NotFound for an unknown process."""
        if from_slot < 0:
            raise InvalidArgument(f"from_slot must be >= 0, got {from_slot}")
        if to_slot is not None and to_slot < from_slot:
            raise InvalidArgument(f"to_slot ({to_slot}) is below from_slot ({from_slot})")
        if limit is not None and limit < 0:
            raise InvalidArgument(f"limit must be >= 0, got {limit}")
        page = min(limit or self.config.max_page, self.config.max_page)
        if include_messages and to_slot is not None and to_slot - from_slot < page:
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
        """The assignment of a scheduled message (on `process`, or on the first process found holding it).
        NotFound when the message is not scheduled here."""
        try:
            with self._store.read() as view:
                if process is not None:
                    raw = view.get(layout.ASSIGNED, layout.assigned_key(message_id, process))
                    found = None if raw is None else (process, read_u64(raw))
                else:
                    found = None
                    for key, raw in view.prefix(layout.ASSIGNED, message_id, limit=1):
                        found = (key[32:], read_u64(raw))
                if found is None:
                    raise NotFound(f"message {encode_id(message_id)} is not scheduled here")
                return _assignment_at(view, found[0], found[1])
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


def stored_message(view: ReadView, message_id: bytes) -> Message | None:
    return _message(view, message_id)


def stored_head(view: ReadView, process: bytes) -> HeadRecord | None:
    raw = view.get(layout.HEADS, process)
    return None if raw is None else HeadRecord.decode(bytes(raw))
