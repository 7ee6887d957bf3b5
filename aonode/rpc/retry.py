"""Which calls a client may repeat after UNAVAILABLE or RESOURCE_EXHAUSTED, as a gRPC retry policy (the
channel's service config), shared by the Python client and by node-to-node calls (forwarding, remote
pushes).

RESOURCE_EXHAUSTED has two kinds, told apart by gRPC's retry pushback (gRFC A6): the node's own answers
(the store is full, a size limit, a quota: repeating will not help) carry trailing metadata
`grpc-retry-pushback-ms: -1`, which tells gRPC not to retry; the concurrency limit's answer ("Concurrent
RPC limit exceeded!", made by grpcio before the node sees the call) carries none, so a burst's excess is
repeated with backoff like UNAVAILABLE. Requests larger than gRPC's retry buffer (256 KiB) are never
repeated whatever the code.

Safe to repeat: every read; `Schedule`/`ScheduleStream` (idempotent by message ID: a repeat returns the
slot the message already has); `PublishMessage` (content-addressed); `Compute`/`Now`/`Dryrun`/
`GetSnapshot`; `Push` (each outbox entry is delivered at most once); `CronService.List`. Never repeated:
`RegisterLocation` (a repeated nonce is refused as stale) and cron's `Once`, `Every` and `Stop` (a repeat
could create a second task, or answer NOT_FOUND for a stop that worked). docs/api.md, Retrying.
"""

from __future__ import annotations

import json
from typing import Any

# gRPC service-config names of the calls that are safe to repeat.
_REPEATABLE = (
    {"service": "aonode.v1.NodeService"},
    *(
        {"service": "aonode.v1.SchedulerService", "method": m}
        for m in (
            "Schedule", "ScheduleStream", "GetSchedule", "GetSlot", "GetStatus", "GetAssignment",
            "PublishMessage", "GetMessage", "GetLocation", "SubscribeSchedule", "Assign",
        )
    ),
    {"service": "aonode.v1.ProcessService"},
    {"service": "aonode.v1.ReplicationService"},
    {"service": "aonode.v1.CronService", "method": "List"},
    *(
        {"service": "aonode.v1.NetworkService", "method": m}
        for m in ("ListPeers", "ListRelays", "ListLocations", "ExchangeLocations", "LookupProcess")
    ),
)  # fmt: skip


def retry_options(attempts: int) -> list[tuple[str, Any]]:
    """Channel options that make gRPC retry UNAVAILABLE answers, and RESOURCE_EXHAUSTED answers without a
    "do not retry" pushback, of the repeatable calls, up to `attempts` attempts in all (1: no retries)."""
    if attempts < 1:
        raise ValueError("retry_attempts must be at least 1")
    if attempts == 1:
        return [("grpc.enable_retries", 0)]
    policy = {
        "maxAttempts": attempts,
        "initialBackoff": "0.1s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
    }
    config = {"methodConfig": [{"name": list(_REPEATABLE), "retryPolicy": policy}]}
    return [("grpc.enable_retries", 1), ("grpc.service_config", json.dumps(config))]
