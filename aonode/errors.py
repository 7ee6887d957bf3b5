"""Domain error classes, each naming the gRPC status code it maps to.

Code below the wire layer raises subclasses of these (defined next to the code that raises them, e.g.
`codec.DecodeError(InvalidArgument)`); `aonode.rpc.status` holds the one table that turns them, and the
store's own errors, into gRPC statuses. `status` is the code's name as a string so that the domain never
imports grpc.
"""

from __future__ import annotations

from typing import ClassVar


class AonodeError(Exception):
    """Base of every error the node reports to a caller. Subclasses set `status`."""

    status: ClassVar[str] = "INTERNAL"


class InvalidArgument(AonodeError):
    """Malformed or out-of-bounds input, including a bad or missing signature."""

    status = "INVALID_ARGUMENT"


class NotFound(AonodeError):
    """An unknown process, message, slot or task."""

    status = "NOT_FOUND"


class AlreadyExists(AonodeError):
    status = "ALREADY_EXISTS"


class PermissionDenied(AonodeError):
    """The signer is not allowed to do this."""

    status = "PERMISSION_DENIED"


class FailedPrecondition(AonodeError):
    """The request is valid but the system is not in a state to serve it here (e.g. another node's
    process: the redirect; a gap in a schedule)."""

    status = "FAILED_PRECONDITION"


class OutOfRange(AonodeError):
    """A slot beyond the schedule's tip."""

    status = "OUT_OF_RANGE"


class ResourceExhausted(AonodeError):
    """A quota, size limit or the store's capacity was reached."""

    status = "RESOURCE_EXHAUSTED"


class Overloaded(ResourceExhausted):
    """A transient capacity limit (too much work in flight): a repeat after a short wait may succeed, so
    clients retry it; other ResourceExhausted answers tell clients not to (aonode/rpc/status.py)."""


class Unavailable(AonodeError):
    """The node is shutting down or a peer could not be reached; retry later."""

    status = "UNAVAILABLE"


class DataLoss(AonodeError):
    """Stored data failed verification."""

    status = "DATA_LOSS"
