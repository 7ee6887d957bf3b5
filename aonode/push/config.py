"""Push configuration (bounds), the delivery tree, and the record of a push.

The tree is mutable while its push runs (nodes are appended as deliveries are made), so an asynchronous
push can be read while it progresses; readers get it as it stands on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from aonode.model import Assignment, Output, Result

Kind = Literal["root", "message", "spawn", "spawned"]
State = Literal["running", "done", "failed", "incomplete"]


@dataclass(frozen=True)
class PushConfig:
    max_depth: int = 32
    """Most hops from the pushed slot: a result at this depth whose outbox is not empty is not delivered,
    and its node says `stopped: hop-limit` (AO's A↔B bounce loops, ao#1057, end here)."""

    max_fanout: int = 256
    """Most deliveries made from one result (spawns, their notices and messages, in that order); the rest
    are skipped and the node says `stopped: fan-out`."""

    max_per_root: int = 10_000
    """Most deliveries one push makes in all; then every remaining delivery is skipped (`stopped:
    root-budget`)."""

    max_pair: int = 100
    """Most deliveries from one process to one target along one path of the tree (ping-pong detection: a
    pair that keeps answering each other is cut here with `stopped: cycle` even when the hop bound is
    raised). Siblings do not count: one result may send many messages to one target."""

    relay_limit: int = 1200
    """Most messages this node relays to one process (push deliveries: messages it schedules on behalf
    of processes, carrying `From-Process`) per `relay_window_ms`, over all pushes (cron's `push` tasks
    included); 0: no limit. A delivery over it is refused (`stopped: relay-limit: RESOURCE_EXHAUSTED
    ...`), which ends a ping-pong that every push would otherwise extend forever. A token bucket: up to
    this many at once, refilled at this many per window."""

    relay_window_ms: int = 60_000
    """The window of `relay_limit`, in milliseconds."""

    max_pushes_kept: int = 1024
    """Finished asynchronous pushes whose records (memory and store) are kept for `get`; the oldest are
    forgotten first."""

    retry_first_ms: int = 1_000
    """A push left `incomplete` (deliveries not made because a node was unreachable) is pushed again
    after this long, then after twice as long each time, up to `retry_max_ms`."""

    retry_max_ms: int = 60_000
    """The longest wait between two retries of an incomplete push."""

    retry_deadline_ms: int = 24 * 3600 * 1000
    """After this long since it started, an incomplete push is given up: it becomes `failed`."""


@dataclass
class PushNode:
    """One delivery (or the pushed slot itself, `kind == "root"`) and what it led to.

    `process`/`slot` is where the delivered message landed (the target's schedule); `message_id` its ID;
    `from_process`/`from_slot`/`index` the result and position (in its spawns or outbox) that produced it.
    `node` is the URL of the node that scheduled it when that is not this node (in a subtree returned by
    another node: as that node saw it, so its own deliveries name it). `stopped` says why delivery ended
    here: `hop-limit`, `fan-out`, `root-budget`, `cycle`, `remote: ...` (the slot lives on another node and
    its push there was not made or failed), `unreachable: ...` (a node could not be reached: the push is
    `incomplete` and retried) or `error: STATUS: ...`. `existing`: an earlier push of the same slot
    had made it."""

    process: str
    slot: int | None = None
    message_id: str = ""
    kind: Kind = "root"
    from_process: str = ""
    from_slot: int | None = None
    index: int | None = None
    result: Result | None = None
    children: list[PushNode] = field(default_factory=list)
    stopped: str = ""
    node: str = ""
    existing: bool = False

    def walk(self) -> list[PushNode]:
        """This node and all below it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "process": self.process, "slot": self.slot}
        for name in ("message_id", "from_process", "stopped", "node"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.from_slot is not None:
            out["from_slot"] = self.from_slot
        if self.index is not None:
            out["index"] = self.index
        if self.existing:
            out["existing"] = True
        if self.result is not None:
            out["result"] = self.result.to_json()
        out["children"] = [c.to_json() for c in self.children]
        return out


class Router(Protocol):
    """Where a process this node does not schedule lives (aonode/network: asks the process directory)."""

    async def route(self, process: bytes) -> tuple[str, str | None] | None:
        """(scheduler address, its URL or None when no valid location is known) for a process scheduled
        by another node; None when it is scheduled here or nobody knows it. Raises `Unavailable` when it
        could not be found because nodes were unreachable."""
        ...


class RemoteAssignments(Protocol):
    """Asks another node whether a message is already scheduled there (implemented by the wire layer)."""

    async def assignment_remote(self, url: str, message_id: bytes, process: bytes) -> Assignment | None:
        """The assignment of `message_id` on `process` at the node at `url`, or None."""
        ...


class RemotePusher(Protocol):
    """Pushes a slot on another node and returns its tree (implemented by the wire layer)."""

    async def push_remote(
        self, url: str, process: str, slot: int, *, max_hops: int, result_depth: int
    ) -> PushNode:
        """Push `slot` of `process` on the node at `url` (sync) with at most `max_hops` hops (> 0) and
        return its tree (kind "root"); raise an `AonodeError` when the push cannot be made there."""
        ...


@dataclass
class PushReport:
    """A push as it stands: `delivered` counts deliveries this push made (not those that existed);
    `undelivered` those not made because a node was unreachable (state `incomplete`: retried)."""

    push_id: str
    state: State
    tree: PushNode
    delivered: int = 0
    existing: int = 0
    error: str = ""
    undelivered: int = 0


def trim_result(result: Result, depth: int) -> Result | None:
    """What the tree carries of a result: 0 nothing, 1 output and error, 2 (or more) all of it."""
    if depth <= 0:
        return None
    if depth == 1:
        return Result(
            output=Output(result.output.data, result.output.prompt, result.output.print), error=result.error
        )
    return result
