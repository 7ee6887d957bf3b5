"""The one table from errors to gRPC status codes.

Domain errors (`aonode.errors.AonodeError` subclasses) name their status; store errors are mapped here
because the store layer knows nothing of the node. Anything else is a bug: INTERNAL, logged with its
traceback, and its text is not sent to the client. An error may carry `metadata` (a dict of str → str,
e.g. the redirect's location) which is sent as trailing metadata with an `aonode-` prefix.
"""

from __future__ import annotations

import grpc

from aonode.errors import AonodeError
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


def trailing_metadata(error: BaseException) -> tuple[tuple[str, str], ...]:
    extra = getattr(error, "metadata", None)
    if not isinstance(extra, dict):
        return ()
    return tuple((f"aonode-{key}".lower(), str(value)) for key, value in extra.items() if value is not None)
