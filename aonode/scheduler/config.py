"""Scheduler configuration, the ports it is given (block source, forwarder, process validator), and the
records it returns.

The ports are `Protocol`s so the wire layer (forwarding to another node over gRPC), the compute domain
(checking a spawn) and tests can plug in without the scheduler importing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aonode.ids import Address, ProcessId
from aonode.model import Assignment, Message

ZERO_HASH = bytes(32)


@dataclass(frozen=True)
class SchedulerConfig:
    accept_unsigned: bool = False
    """Schedule messages without a signature (their ID is their content digest). Off: refused with
    INVALID_ARGUMENT before anything is written."""

    follow_redirects: bool = False
    """A Process naming another scheduler is forwarded to that scheduler's URL (through the `Forwarder`)
    instead of answered with a `RedirectError`. Needs a forwarder and a known location."""

    trusted_relays: tuple[str, ...] = ()
    """Addresses of other nodes allowed to deliver messages carrying `From-Process` (pushes from their
    processes) or `Cron-From` (their cron ticks). This node's own address is always allowed; anyone else's
    such message is refused with PERMISSION_DENIED, since processes take `From` from these tags
    (`relay.py`)."""

    max_page: int = 1000
    """Most assignments one `get_schedule` page returns (a larger `limit` is cut to this)."""

    max_frame: int = 1000
    """Most assignments one subscription batch carries (a backlog is sent in frames of this size)."""

    max_frame_bytes: int = 1 << 20
    """Most bytes (of stored encodings: assignments and messages) one page or subscription frame served to
    a client carries; a message larger than this goes out alone in its page or frame. Counted as the
    read goes, message by message, so nothing beyond one message is loaded past it."""

    read_budget_bytes: int = 64 << 20
    """Node-wide bytes of message bodies held for readers at once, from loading until sent
    (`budget.ReadBudget`); a single larger message still goes out, alone, when nothing else is held."""

    read_wait_seconds: float = 10.0
    """How long a read waits for room in the read budget before it is answered RESOURCE_EXHAUSTED."""

    heartbeat_seconds: float = 5.0
    """A subscriber that saw no new assignment for this long receives an empty batch (progress)."""

    conflict_retries: int = 2
    """How often a message whose write lost its precondition (an earlier pipelined write of the same
    process failed, or another writer moved the head) is re-assigned before the caller gets
    UNAVAILABLE. Each retry first checks whether the message was scheduled meanwhile."""

    max_in_flight: int = 100_000
    """Assignments waiting for their commit, over all processes; beyond it new messages are refused
    with RESOURCE_EXHAUSTED (back-pressure instead of unbounded memory)."""

    verify_threads: int = 0
    """Threads that verify signatures (and sign bulk assignments) off the event loop; 0 (the default)
    does it on the loop. `cryptography` releases the GIL while it verifies, but measured on 2 cores the
    threads gain nothing: each check needs the GIL back for its Python parts and waits for the loop's
    switch interval to get it (docs/scheduler.md, Performance)."""

    verify_processes: int = 0
    """Worker processes that verify signatures (0: none; then `verify_threads` applies). They take the
    ~150 µs per Ed25519 check out of the event loop's process (the loop keeps ~90 µs per message), at the
    price of a round trip per batch: measured here about even with inline checks in bulk and slower for
    single messages, so it pays only where the loop itself is the bottleneck. Started on first use with
    the forkserver method (never forked from a process holding an LMDB environment)."""

    verify_chunk: int = 64
    """Messages per verification task in `schedule_many` (amortises the hand-off to a worker)."""

    recent_slots: int = 8192
    """Committed slots kept decoded in memory (assignment and message) for the reads that follow
    scheduling closely, computing above all (`recent.RecentSlots`); 0: none."""

    recent_bytes: int = 32 * 1024 * 1024
    """Bound on the encoded size of the messages `recent_slots` keeps."""


@dataclass(frozen=True, slots=True)
class Block:
    """The chain position an assignment records."""

    height: int = 0
    hash: bytes = ZERO_HASH


BLOCK_MS = 120_000
"""Milliseconds per block of the default block height (about Arweave's block time)."""


def clock_block(timestamp_ms: int) -> Block:
    """The block an assignment records when no BlockSource is configured: height = the assignment's
    timestamp // BLOCK_MS, a stand-in that grows with time as Arweave's does and never goes back (an
    assignment's timestamp is never below its predecessor's), so code keyed on block height (deadlines,
    unstaking delays) still advances. The hash stays zero: it names no real block."""
    return Block(height=max(0, timestamp_ms) // BLOCK_MS)


class BlockSource(Protocol):
    """Where assignments take their block height and hash from (e.g. an Arweave gateway poller). It is
    called on the event loop for every assignment, so it must answer from memory."""

    def current(self) -> Block: ...


class Forwarder(Protocol):
    """Schedules a message on another node (implemented by the wire layer)."""

    async def schedule_remote(self, url: str, message: Message) -> Assignment: ...


class Directory(Protocol):
    """Finds the scheduler of a process this node has never seen, among its peers (aonode/network)."""

    async def resolve(self, process: bytes) -> bool:
        """Ask the peers who schedules `process`; on a verified answer, store its Process message and its
        scheduler's location here and return True (the scheduler then redirects). False: no peer knows
        it. Raises `Unavailable` when no peer knew it but some could not be asked."""
        ...


class ProcessValidator(Protocol):
    """Checks a new Process before its slot 0 is written (e.g. that this node's execution device can run
    its module). Called on a worker thread, so it may be slow (compiling a module) but must not touch
    the event loop. `module` is the message its `Module` tag names when that is in the store, else None."""

    def validate(self, process: Message, module: Message | None) -> None:
        """Return when the process may be spawned; raise an `AonodeError` (e.g. InvalidArgument) if not."""
        ...


@dataclass(frozen=True, slots=True)
class ProcessHead:
    """The committed tip of a schedule (what GetSlot answers)."""

    process: ProcessId
    slot: int
    hash_chain: bytes
    timestamp: int
    block_height: int
    block_hash: bytes
    epoch: int
    scheduler: Address


@dataclass(frozen=True, slots=True)
class SchedulePage:
    """One page of a schedule. `messages[i]` is the message of `assignments[i]` when messages were asked
    for, else empty. `has_next` says more assignments exist in the requested range; `next_slot` is where
    the next page starts."""

    process: ProcessId
    assignments: Sequence[Assignment]
    messages: Sequence[Message]
    has_next: bool
    next_slot: int


@dataclass(frozen=True, slots=True)
class ScheduleBatch:
    """One item of a subscription: consecutive assignments (empty for an idle heartbeat) and the
    committed tip slot when the batch was read (-1 while the process has none)."""

    assignments: Sequence[Assignment]
    head_slot: int
    encoded: Sequence[bytes] = ()
    """The same assignments as stored (canonical encoding), for subscriptions opened with `encoded=True`
    (then `assignments` is empty)."""
    messages: Sequence[Message] = ()
    """The messages of the batch's assignments, in order, for subscriptions opened with
    `include_messages=True` (bounded by `max_frame_bytes`, a larger message alone)."""
    raw_messages: Sequence[bytes] = ()
    """The messages as stored (canonical encoding) instead, for subscriptions opened with `raw=True`
    (replication: the follower stores the identical bytes)."""
