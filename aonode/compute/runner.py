"""The slot loop of one process, run on a compute thread: pick the nearest state, fold the schedule into it
slot by slot while verifying the schedule, and hand each result to the writer.

Nearest state: the live worker if it is at or below the target, else the nearest stored snapshot (devices
that can snapshot) if it is nearer, else a fresh device initialised from the definition (slot -1).

Per slot n: the assignment must be in place (the schedule reader checks density and position), its
`hash_chain` must equal blake3(hash_chain(n-1) ‖ message ID) (the process ID before slot 0), its message must
be stored and hash to that ID. Any failure stops the computation of the process with an error naming the
slot; nothing is skipped. Then the device computes the slot, `hashpath(n) = blake3(hashpath(n-1) ‖
assignment ID)`, and the result is written, or, for a slot whose result is already stored (a replay after a
restart, an eviction or a dryrun), compared with the stored one.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from time import monotonic

from aonode.codec import EncodeError, encode_result
from aonode.compute import layout
from aonode.compute.config import ComputeConfig, ScheduleSource, SlotResult
from aonode.compute.definition import ProcessDefinition, load_definition
from aonode.compute.errors import (
    EngineClosedError,
    MissingMessageError,
    ReplayDivergenceError,
    ScheduleBrokenError,
    SlotStalled,
    StoredResultCorrupt,
)
from aonode.compute.workers import Worker
from aonode.compute.writer import ResultWriter
from aonode.devices.base import Device, DeviceError, DeviceRegistry
from aonode.errors import AonodeError, DataLoss, NotFound
from aonode.ids import ProcessId, encode_id, next_hash_chain, next_hashpath
from aonode.model import Assignment, Message, Result
from store import ObjectStore, digest

log = logging.getLogger("aonode.compute")


def can_snapshot(device: Device) -> bool:
    return bool(device.can_snapshot)


@dataclass
class RunCounts:
    computed: int = 0
    """Slots computed and stored."""
    verified: int = 0
    """Slots recomputed and compared with their stored result."""
    fresh: int = 0
    """Devices initialised from slot 0."""
    restored: int = 0
    """Devices restored from a snapshot."""


class Runner:
    def __init__(
        self,
        store: ObjectStore,
        schedule: ScheduleSource,
        devices: DeviceRegistry,
        config: ComputeConfig,
        stop: threading.Event,
    ) -> None:
        self.store = store
        self.schedule = schedule
        self.devices = devices
        self.config = config
        self.stop = stop
        self.alive: weakref.WeakSet[Device] = weakref.WeakSet()
        """Every device made and not yet collected: the engine interrupts them when it closes."""
        self._alive_lock = threading.Lock()

    # -- the nearest state -----------------------------------------------------------------------------

    def prepare(
        self,
        process: ProcessId,
        target: int,
        worker: Worker | None,
        snapshot: layout.SnapshotRef | None,
        counts: RunCounts,
    ) -> Worker:
        """A worker at a slot <= `target`, from `worker`, `snapshot` or a fresh device, whichever is nearest
        (`worker` is closed when not used)."""
        definition: ProcessDefinition | None = None
        if worker is not None:
            if worker.slot <= target and (snapshot is None or snapshot.slot <= worker.slot):
                return worker
            definition = worker.definition
            worker.close()
        if definition is None:
            definition = load_definition(self.schedule, process, self.config)
        device = self._init_device(definition)
        try:
            if snapshot is not None and can_snapshot(device):
                restored = self._restore(definition, device, snapshot)
                if restored is not None:
                    counts.restored += 1
                    return restored
            counts.fresh += 1
            return Worker(definition, device, -1, process, process)
        except BaseException:
            device.close()
            raise

    def _init_device(self, definition: ProcessDefinition) -> Device:
        device = self.devices.create(definition.device)
        with self._alive_lock:
            self.alive.add(device)
        if self.stop.is_set():
            device.close()
            raise EngineClosedError("the compute engine is closing")
        try:
            device.init(definition.context(self.config))
        except BaseException as exc:
            device.close()
            if isinstance(exc, AonodeError) or not isinstance(exc, Exception):
                raise
            raise DeviceError(
                f"{definition.device} failed to initialise process {encode_id(definition.process_id)}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return device

    def _restore(
        self, definition: ProcessDefinition, device: Device, ref: layout.SnapshotRef
    ) -> Worker | None:
        pid = definition.process_id
        try:
            with self.store.read() as view:
                name, pages = layout.load_snapshot_pages(view, ref.manifest)
                row = layout.read_row(view, pid, ref.slot)
            if name != definition.device or row is None:
                return None
            (at,) = self.schedule.read_assignments(pid, ref.slot, 1)
            device.restore_chunks(pages)
        except (AonodeError, ValueError) as exc:
            log.warning(
                "process %s: snapshot at slot %d not usable (%s); replaying", encode_id(pid), ref.slot, exc
            )
            return None
        return Worker(definition, device, ref.slot, row.hashpath, at.hash_chain)

    # -- the fold ---------------------------------------------------------------------------------------

    def advance(
        self,
        worker: Worker,
        target: int,
        writer: ResultWriter,
        stored: layout.ResultsHead | None,
        counts: RunCounts,
    ) -> SlotResult | None:
        """Compute slots `worker.slot + 1 .. target`; returns the last one computed (None if none)."""
        pid = worker.process
        stored_slot = -1 if stored is None else stored.slot
        snapshots = can_snapshot(worker.device)
        last: tuple[int, Result, bytes, bytes] | None = None
        while worker.slot < target:
            start = worker.slot + 1
            count = min(self.config.read_chunk, target - start + 1)
            assignments, messages = self._read(pid, start, count)
            rows: dict[int, layout.StoredRow] = {}
            if start <= stored_slot:
                with self.store.read() as view:
                    rows = layout.read_rows(view, pid, start, min(start + count, stored_slot + 1))
            for a, stored_message in zip(assignments, messages, strict=True):
                if self.stop.is_set():
                    raise EngineClosedError("the compute engine is closing")
                message = self._message(worker, a, stored_message)
                result = apply(worker, a, message, self.stop)
                hashpath = next_hashpath(worker.hashpath, a.id)
                result, encoded = encode_checked(result, self.config.max_result_bytes)
                if a.slot <= stored_slot:
                    d = digest(encoded)
                    self._compare(pid, a.slot, rows.get(a.slot), d, hashpath)
                    counts.verified += 1
                else:
                    d = writer.add(a.slot, encoded, hashpath)
                    counts.computed += 1
                worker.slot, worker.hashpath, worker.hash_chain = a.slot, hashpath, a.hash_chain
                if snapshots and a.slot > stored_slot and self._snapshot_due(worker):
                    data = worker.device.snapshot()
                    worker.snapshot_at = monotonic()
                    if data is not None:
                        writer.add_snapshot(a.slot, worker.definition.device, data)
                writer.maybe_flush()
                last = (a.slot, result, hashpath, d)
        return None if last is None else SlotResult(pid, *last)

    def _snapshot_due(self, worker: Worker) -> bool:
        """Whether the state after `worker.slot` is to be stored: every `snapshot_every` slots, and when
        `snapshot_seconds` passed since the worker's last snapshot."""
        slot, every, seconds = worker.slot, self.config.snapshot_every, self.config.snapshot_seconds
        if slot <= 0:
            return False
        return bool(every and slot % every == 0) or bool(
            seconds and monotonic() - worker.snapshot_at >= seconds
        )

    def _read(self, pid: ProcessId, start: int, count: int) -> tuple[list[Assignment], list[Message | None]]:
        """`count` assignments from `start` and their messages (None: to be read one by one). One read
        for both when the schedule is intact; else slot by slot, to name the slot that is broken."""
        try:
            page = self.schedule.get_schedule(pid, start, start + count - 1, count, include_messages=True)
            if len(page.assignments) == count and len(page.messages) == count:
                return list(page.assignments), list(page.messages)
        except DataLoss:
            pass
        try:
            assignments = self.schedule.read_assignments(pid, start, count)
        except DataLoss as exc:
            raise ScheduleBrokenError(
                f"process {encode_id(pid)}: computation stopped at slot {start} or after: {exc}"
            ) from exc
        return assignments, [None] * len(assignments)

    def _message(self, worker: Worker, a: Assignment, message: Message | None) -> Message:
        """The message of slot `a.slot`, checked: its hash chain follows, the message is stored under its
        ID; raises ScheduleBrokenError or MissingMessageError naming the slot."""
        pid = worker.process
        mid = a.message
        if a.hash_chain != next_hash_chain(worker.hash_chain, mid):
            raise ScheduleBrokenError(
                f"process {encode_id(pid)}: computation stopped at slot {a.slot}: its hash chain does not "
                f"follow from slot {a.slot - 1}'s"
            )
        if a.slot == 0:
            return worker.definition.process
        if message is None:
            try:
                message = self.schedule.get_message(mid)
            except NotFound as exc:
                raise MissingMessageError(
                    f"process {encode_id(pid)}: computation stopped at slot {a.slot}: its message "
                    f"{encode_id(mid)} is not in the store"
                ) from exc
        if message.id != mid:
            raise ScheduleBrokenError(
                f"process {encode_id(pid)}: computation stopped at slot {a.slot}: the message stored as "
                f"{encode_id(mid)} has another ID"
            )
        return message

    def _compare(
        self, pid: ProcessId, slot: int, row: layout.StoredRow | None, d: bytes, hashpath: bytes
    ) -> None:
        if row is None:
            raise StoredResultCorrupt(
                f"process {encode_id(pid)}: the stored result of slot {slot} is missing"
            )
        if row.result_digest == d and row.hashpath == hashpath:
            return
        what = "result" if row.hashpath == hashpath else "hashpath"
        text = (
            f"process {encode_id(pid)}: slot {slot} recomputed with a different {what} than stored "
            f"(stored result {encode_id(row.result_digest)}, recomputed {encode_id(d)})"
        )
        if self.config.fail_on_divergence or what == "hashpath":
            raise ReplayDivergenceError(text)
        log.warning("%s; keeping the stored result", text)

    # -- dryrun -----------------------------------------------------------------------------------------

    def dryrun(self, worker: Worker, message: Message, now_ms: int) -> tuple[Result, bool]:
        """Run `message` as if it were appended after `worker`'s slot; returns the result and whether the
        worker's state is unchanged (snapshot, run, restore) and so may be kept."""
        pid = worker.process
        (tip,) = self.schedule.read_assignments(pid, worker.slot, 1)
        a = Assignment(
            process=pid,
            slot=tip.slot + 1,
            message=message.id,
            timestamp=max(now_ms, tip.timestamp),
            block_height=tip.block_height,
            block_hash=tip.block_hash,
            epoch=tip.epoch,
            hash_chain=next_hash_chain(tip.hash_chain, message.id),
        )
        saved = worker.device.snapshot() if can_snapshot(worker.device) else None
        try:
            result = apply(worker, a, message, self.stop)
        except SlotStalled as stalled:
            # Only the dryrun's own message ran over: answer that (nothing is stored) and drop the
            # worker; the process is not stalled by a message that is not in its schedule.
            return Result(error=stalled.reason), False
        result, _ = encode_checked(result, self.config.max_result_bytes)
        if saved is None:
            return result, False
        worker.device.restore(saved)
        return result, True

    def alive_devices(self) -> list[Device]:
        with self._alive_lock:
            return list(self.alive)


ENCODE_ERROR = "the slot's result cannot be encoded"


def encode_checked(result: Result, limit: int) -> tuple[Result, bytes]:
    """`result` and its canonical encoding; a result that cannot be encoded (text that is not Unicode, a
    number out of range) or whose encoding is over `limit` bytes is replaced by an error result saying so.
    Both checks depend only on the result, so every node with the same limit stores the same thing."""
    try:
        encoded = encode_result(result)
    except (EncodeError, UnicodeError) as exc:
        # EncodeError's texts are deterministic (the codec names the kind of value, not where it was).
        unicode = isinstance(exc, UnicodeError) or "UTF-8" in str(exc)
        why = "it holds text that is not valid Unicode" if unicode else "a length or integer is out of range"
        replaced = Result(error=f"{ENCODE_ERROR}: {why}")
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        replaced = Result(error=f"{ENCODE_ERROR} ({type(exc).__name__})")
    else:
        if len(encoded) <= limit:
            return result, encoded
        replaced = Result(
            error=f"the slot's result is {len(encoded)} bytes encoded, over this node's limit of {limit} "
            "bytes (max_result_bytes): it is not kept"
        )
    return replaced, encode_result(replaced)


def apply(worker: Worker, a: Assignment, message: Message, stop: threading.Event) -> Result:
    """One slot on the worker's device; an unexpected exception becomes a DeviceError (a host fault). A slot
    stopped by the wall clock raises SlotStalled, or EngineClosedError when the engine interrupted it."""
    try:
        result = worker.device.compute(a, message)
    except AonodeError:
        raise
    except Exception as exc:
        raise DeviceError(
            f"{worker.definition.device} failed at slot {a.slot} of process {encode_id(worker.process)}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(result, Result):
        raise DeviceError(f"{worker.definition.device} returned {type(result).__name__}, not a Result")
    if worker.device.last_slot_nondeterministic:
        # A wall-clock stop depends on this machine's speed: storing it would let nodes disagree.
        if stop.is_set():
            raise EngineClosedError(f"the compute engine is closing (slot {a.slot} was interrupted)")
        limit = worker.definition.limits.wall_seconds
        raise SlotStalled(
            a.slot,
            f"slot {a.slot} hit the wall-clock backstop ({limit:g} s) before its instruction budget "
            f"({result.error or 'stopped'}); its result is not stored",
        )
    return result
