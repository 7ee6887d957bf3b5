"""Errors the scheduler raises, each an `AonodeError` naming its gRPC status.

Store failures are translated here (`from_store_error`) so callers of the scheduler, including the
per-message results of `schedule_many`, only ever see `AonodeError`s; the original is kept as `__cause__`.
"""

from __future__ import annotations

from aonode.errors import (
    AonodeError,
    DataLoss,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from store import ConflictError, CorruptObjectError, StoreClosedError, StoreError, StoreFullError


class UnsignedMessageError(InvalidArgument):
    """An unsigned message on a node that does not accept them."""


class RedirectError(FailedPrecondition):
    """The process is scheduled by another node. `address` is that scheduler's address, `url` where to
    reach it (None when no location record for the address is known here)."""

    def __init__(self, process: str, address: str, url: str | None) -> None:
        where = f"at {url}" if url else "(no location known for that address)"
        super().__init__(f"process {process} is scheduled by {address} {where}")
        self.process = process
        self.address = address
        self.url = url
        # Sent as trailing metadata (`aonode-scheduler`, `aonode-location-url`) by the wire layer.
        self.metadata = {"scheduler": address, "location-url": url}


class UnknownProcessError(NotFound):
    """A message for a process this node neither schedules nor knows the scheduler of (the process
    directory, aonode/network, may still find it among the peers)."""


class RelayNotTrustedError(PermissionDenied):
    """A message carries `From-Process` or `Cron-From` but was not signed by this node or a relay it
    trusts."""


class UnassignableMessageError(PermissionDenied):
    """An assignment of a message whose `From-Process`/`Cron-From` this node (or a trusted relay) vouched
    for its own target only (docs/security.md, "Assignments")."""


class UnknownMessageError(NotFound):
    """An assignment of a message this node does not hold."""


class StaleLocationError(FailedPrecondition):
    """A location record whose nonce is not above the registered one."""


class ScheduleConflictError(Unavailable):
    """The schedule moved under a write more often than the retry budget allows (another writer on the
    same store); the message was not scheduled and may be retried."""


class StoreCapacityError(ResourceExhausted):
    """The store is full; nothing of this request was written."""


class SchedulerClosedError(Unavailable):
    """The scheduler (or its store) is shutting down."""


class StoredDataError(DataLoss):
    """A stored object failed verification on read."""


class ScheduleStateError(AonodeError):
    """The stored schedule contradicts itself (INTERNAL; never expected)."""


class StoreFailure(Unavailable):
    """Any other store failure; nothing of this request was acknowledged."""


def from_store_error(exc: BaseException) -> AonodeError:
    """The `AonodeError` a caller sees for a failed store write or read."""
    if isinstance(exc, AonodeError):
        return exc
    err: AonodeError
    if isinstance(exc, StoreFullError):
        err = StoreCapacityError(f"store full: {exc}")
    elif isinstance(exc, StoreClosedError):
        err = SchedulerClosedError("store closed")
    elif isinstance(exc, CorruptObjectError):
        err = StoredDataError(f"stored object failed verification: {exc}")
    elif isinstance(exc, ConflictError):
        err = ScheduleConflictError(f"schedule changed concurrently: {exc}")
    elif isinstance(exc, StoreError):
        err = StoreFailure(f"store failure: {exc}")
    else:
        err = StoreFailure(f"internal failure: {type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err
