"""The follower's view of a leader: the `Leader` port (implemented over gRPC by `aonode.rpc.replication`).

The domain never sees the wire: a leader is something that streams `FollowFrame`s for a set of cursors and
answers result digests by slot range. Tests plug in their own (a malicious one included) through the same
port or, as the hostile tests do, through a real gRPC server speaking the protocol badly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ResultDigests:
    from_slot: int
    digests: list[bytes]
    computed_slot: int


class Leader(Protocol):
    def follow(self, cursors: Mapping[bytes, int], all_processes: bool) -> AsyncIterator[FollowFrame]:
        """Frames for `cursors` (process → first slot wanted), and with `all_processes` every other
        process the leader schedules from slot 0. Raises `Unavailable` when the leader cannot be reached."""
        ...

    async def result_digests(self, process: bytes, from_slot: int, count: int) -> ResultDigests: ...

    async def fetch_message(self, message_id: bytes) -> bytes | None:
        """A message the leader stores but did not schedule (a Process's module), as stored; None when the
        leader does not have it."""
        ...

    async def close(self) -> None: ...


LeaderFactory = Callable[[str], Leader]
"""Makes the `Leader` for a `HOST:PORT`."""
