"""The gateway's one table from errors to HTTP statuses: the gRPC status that `aonode/rpc/status.py`
gives an error (`status_for`: domain errors by their own status, store errors by its table) is turned
into an HTTP one here (docs/api.md's table, docs/http.md).

- INVALID_ARGUMENT 400, PERMISSION_DENIED 403, NOT_FOUND and OUT_OF_RANGE (nothing there yet) 404;
- FAILED_PRECONDITION and ALREADY_EXISTS 409; a redirect (another node schedules the process) is 409 with
  a `location` header naming that node's URL when a location record is known, and `aonode-scheduler`;
- RESOURCE_EXHAUSTED: the transient kinds (a full commit queue, the read budget, a relay or cron limit,
  too many requests in flight) 429 with `Retry-After: 1`; the store is full 507; any other (a size limit)
  413;
- UNAVAILABLE and ABORTED 503 (retry); UNIMPLEMENTED 501; DATA_LOSS and INTERNAL 500 (a bug's text is
  never sent: the node's log has it).
"""

from __future__ import annotations

from aonode.errors import Overloaded
from aonode.rpc.status import status_for
from store import StoreFullError

_BY_NAME = {
    "INVALID_ARGUMENT": 400,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "OUT_OF_RANGE": 404,
    "FAILED_PRECONDITION": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 413,
    "ABORTED": 503,
    "UNAVAILABLE": 503,
    "UNIMPLEMENTED": 501,
    "DATA_LOSS": 500,
    "INTERNAL": 500,
}

_TRANSIENT = ("ReadBudgetExhausted", "TooManyTasks", "RelayLimitExceeded")
_FULL = ("StoreCapacityError", "ResultStoreFull")


def http_status(error: BaseException) -> tuple[int, str] | None:
    """(HTTP status, gRPC status name) for a known error; None for an unexpected one (a bug)."""
    code = status_for(error)
    if code is None:
        return None
    name = code.name
    if name == "RESOURCE_EXHAUSTED":
        kind = type(error).__name__
        if isinstance(error, Overloaded) or kind in _TRANSIENT:
            return 429, name
        if isinstance(error, StoreFullError) or kind in _FULL:
            return 507, name
    return _BY_NAME.get(name, 500), name


def error_headers(error: BaseException, status: int) -> dict[str, str]:
    """Headers that go with an error answer: the redirect's `location`, and `Retry-After` for 429/503."""
    headers: dict[str, str] = {}
    extra = getattr(error, "metadata", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            if value:
                headers[f"aonode-{key}".lower()] = str(value)
        url = extra.get("location-url")
        if url:
            headers["location"] = str(url)
    if status in (429, 503):
        headers["retry-after"] = "1"
    return headers
