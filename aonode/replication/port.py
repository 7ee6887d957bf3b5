"""The follower's view of a leader: the `Leader` port (implemented over gRPC by `aonode.rpc.replication`).

The domain never sees the wire: a leader is something that streams `FollowFrame`s for a set of cursors and
answers result digests by slot range. Tests plug in their own (a malicious one included) through the same
port or, as the hostile tests do, through a real gRPC server speaking the protocol badly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FollowFrame:
    """Consecutive slots of one process from `from_slot`: assignments and their messages as the leader
    stored them. No assignments: a heartbeat (`process` may then be empty: stream-wide)."""

    process: bytes
    from_slot: int
    assignments: list[bytes]
    messages: list[bytes]
    current_slot: int
    leader_time_ms: int
    records: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResultDigests:
    from_slot: int
    digests: list[bytes]
    computed_slot: int


@dataclass(frozen=True, slots=True)
class RecordReply:
    """What a node answered a scheduler record with (`PutSchedulerRecord`)."""

    role: str  # "scheduler": it now schedules the process; "redirect": it sends writes to the new one
    head_slot: int  # its last stored slot of the process
    orphaned: int  # slots it holds at or after From-Slot, which the new schedule does not contain
    known: bool  # it already held this very record


class Leader(Protocol):
    def follow(
        self, cursors: Mapping[bytes, int], all_processes: bool, records: Sequence[bytes] = ()
    ) -> AsyncIterator[FollowFrame]:
        """Frames for `cursors` (process → first slot wanted), and with `all_processes` every other
        process the leader schedules from slot 0. `records`: scheduler records the follower holds for
        them, so a leader that was handed off learns it. Raises `Unavailable` when the leader cannot be
        reached."""
        ...

    async def put_record(self, record: bytes) -> RecordReply:
        """Send a scheduler record (its canonical encoding) to the node."""
        ...

    async def result_digests(self, process: bytes, from_slot: int, count: int) -> ResultDigests: ...

    async def fetch_message(self, message_id: bytes) -> bytes | None:
        """A message the leader stores but did not schedule (a Process's module), as stored; None when the
        leader does not have it."""
        ...

    async def close(self) -> None: ...


LeaderFactory = Callable[[str], Leader]
"""Makes the `Leader` for a `HOST:PORT`."""
