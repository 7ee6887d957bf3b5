"""The one table from errors to gRPC status codes.

Domain errors (`aonode.errors.AonodeError` subclasses) name their status; store errors are mapped here
because the store layer knows nothing of the node. Anything else is a bug: INTERNAL, logged with its
traceback, and its text is not sent to the client. An error may carry `metadata` (a dict of str → str,
e.g. the redirect's location) which is sent as trailing metadata with an `aonode-` prefix.

Every RESOURCE_EXHAUSTED the node answers itself (the store is full, a size limit, a quota) also carries
`grpc-retry-pushback-ms: -1`: gRPC clients then do not retry it (gRFC A6), while the transient ones, the
concurrency limit's (answered by grpcio, without it) and `Overloaded` (the scheduler's commit queue is
full), are retried with backoff (`retry.py`).
"""

from __future__ import annotations

import grpc

from aonode.errors import AonodeError, Overloaded
from store import ConflictError, CorruptObjectError, StoreClosedError, StoreError, StoreFullError

_BY_NAME: dict[str, grpc.StatusCode] = {code.name: code for code in grpc.StatusCode}

_STORE_CODES: tuple[tuple[type[StoreError], grpc.StatusCode], ...] = (
    (CorruptObjectError, grpc.StatusCode.DATA_LOSS),
    (StoreFullError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ConflictError, grpc.StatusCode.ABORTED),
    (StoreClosedError, grpc.StatusCode.UNAVAILABLE),
)


def status_for(error: BaseException) -> grpc.StatusCode | None:
    """The status for a known error class, or None for an unexpected one (a bug)."""
    if isinstance(error, AonodeError):
        return _BY_NAME.get(error.status, grpc.StatusCode.INTERNAL)
    for cls, code in _STORE_CODES:
        if isinstance(error, cls):
            return code
    if isinstance(error, StoreError):
        return grpc.StatusCode.INTERNAL
    return None


def code_by_name(name: str) -> grpc.StatusCode:
    return _BY_NAME.get(name, grpc.StatusCode.UNKNOWN)


# gRPC's retry pushback: a negative value means "do not retry this call".
NO_RETRY = ("grpc-retry-pushback-ms", "-1")


def trailing_metadata(error: BaseException) -> tuple[tuple[str, str], ...]:
    final = status_for(error) == grpc.StatusCode.RESOURCE_EXHAUSTED and not isinstance(error, Overloaded)
    pushback = (NO_RETRY,) if final else ()
    extra = getattr(error, "metadata", None)
    if not isinstance(extra, dict):
        return pushback
    return pushback + tuple(
        (f"aonode-{key}".lower(), str(value)) for key, value in extra.items() if value is not None
    )
