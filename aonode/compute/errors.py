"""Errors of the compute engine, each an `AonodeError` naming its gRPC status.

A process fault (an error in its code, a limit) is never one of these: it is the slot's `Result.error`.
These are for requests that cannot be answered: a schedule that cannot be trusted, a definition this node
will not run, a host fault of a device, a store failure.
"""

from __future__ import annotations

from aonode.errors import (
    AonodeError,
    DataLoss,
    FailedPrecondition,
    OutOfRange,
    ResourceExhausted,
    Unavailable,
)
from store import CorruptObjectError, StoreClosedError, StoreError, StoreFullError


class SlotOutOfRange(OutOfRange):
    """A slot beyond the schedule's tip."""


class ScheduleBrokenError(DataLoss):
    """The schedule has a gap, a misplaced entry, a hash-chain break or a message whose ID does not match its
    assignment: computation of the process stops at the named slot."""


class MissingMessageError(FailedPrecondition):
    """A scheduled message is not in the store (it may still arrive, e.g. by replication); computation
    stops at the named slot."""


class DefinitionError(FailedPrecondition):
    """The process definition is one this node will not run (a limit above the node's cap, a malformed
    limit, a module that is not a message)."""


class ReplayDivergenceError(DataLoss):
    """A recomputed slot's result differs from the one stored for it (a determinism failure)."""


class EngineClosedError(Unavailable):
    """The engine is closed or closing."""


class ResultStoreError(Unavailable):
    """Results could not be written; nothing of this request was acknowledged."""


class ResultStoreFull(ResourceExhausted):
    """The store is full; results could not be written."""


class StoredResultCorrupt(DataLoss):
    """A stored result failed verification on read."""


def from_store_error(exc: BaseException) -> AonodeError:
    """The `AonodeError` a caller sees for a failed result write or read (original kept as `__cause__`)."""
    if isinstance(exc, AonodeError):
        return exc
    err: AonodeError
    if isinstance(exc, StoreFullError):
        err = ResultStoreFull(f"store full: {exc}")
    elif isinstance(exc, StoreClosedError):
        err = EngineClosedError("store closed")
    elif isinstance(exc, CorruptObjectError):
        err = StoredResultCorrupt(f"stored object failed verification: {exc}")
    elif isinstance(exc, StoreError):
        err = ResultStoreError(f"store failure: {exc}")
    else:
        err = ResultStoreError(f"internal failure: {type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err


class ProcessStalledError(FailedPrecondition):
    """The process is stalled: a slot of it hit the wall-clock backstop, so computing it again would only
    hold a compute thread for as long again. It stays so, across restarts, until an operator lifts it
    (`ComputeEngine.resume`, `aonode process resume`) or the node's wall-clock limit is raised above the
    one it hit. Results stored before that slot are still served."""

    def __init__(self, text: str, slot: int, since_ms: int) -> None:
        super().__init__(text)
        self.metadata = {"stalled-slot": str(slot), "stalled-since": str(since_ms)}


class SlotStalled(Exception):
    """Raised on a compute thread when a slot hit the wall-clock backstop (not while the engine closes);
    the engine records the stall and answers `ProcessStalledError`. Not an AonodeError: never sent as is."""

    def __init__(self, slot: int, reason: str) -> None:
        super().__init__(reason)
        self.slot = slot
        self.reason = reason
