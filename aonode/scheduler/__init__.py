"""scheduler@1.0: durable, signed, hash-chained slots; schedule reads; live subscriptions; bulk ingest.

How it works (details in each module and in docs/scheduler.md):
- `core.Scheduler.schedule` checks a message (validation, signature; off the event loop), routes it (a
  Process starts its own schedule here only if its `Scheduler` tag names this node or is absent, else
  `RedirectError`; anything else joins its target's schedule), answers duplicates with their existing
  assignment, assigns the next slot from an in-memory tip, signs and chains the assignment, and submits one
  store batch guarded by a precondition on the previous head. Writes are pipelined into the store's group
  commit; each caller is answered after its own batch is durable. A failed write makes the later writes of
  the process fail their preconditions; the tip is reloaded from the store and those messages re-assigned,
  so slots stay dense and the chain valid.
- `reads.ScheduleReader` serves pages, heads and lookups from committed data.
- `subscribe.Subscription` streams a schedule: backlog from the store in frames, then live on commit
  notifications, with heartbeats; it holds only a cursor.
- `locations.LocationRegistry` keeps signed scheduler location records (higher nonce wins).
- `verify.verify_schedule` re-checks a stored schedule from slot 0 independently of all of the above.

Store layout (`layout.py`): objects (content-addressed message and assignment encodings) plus tables
`messages` (message ID → object digest), `assignments` (process ‖ u64 slot → assignment digest),
`assigned` (message ID ‖ process → u64 slot), `heads` (process → head record: slot, chain, timestamp,
assignment digest) and `locations` (address → signed record). Integers are big-endian.
"""

from aonode.scheduler.config import (
    Block,
    BlockSource,
    Forwarder,
    ProcessHead,
    ProcessValidator,
    ScheduleBatch,
    SchedulePage,
    SchedulerConfig,
)
from aonode.scheduler.core import Replicated, Scheduler, wall_clock_ms
from aonode.scheduler.errors import (
    RedirectError,
    ScheduleConflictError,
    SchedulerClosedError,
    StaleLocationError,
    StoreCapacityError,
    StoredDataError,
    UnassignableMessageError,
    UnknownMessageError,
    UnsignedMessageError,
)
from aonode.scheduler.locations import LocationRegistry
from aonode.scheduler.reads import ScheduleGapError
from aonode.scheduler.subscribe import Subscription
from aonode.scheduler.verify import ScheduleVerificationError, VerifyReport, verify_schedule

__all__ = [
    "Block",
    "BlockSource",
    "Forwarder",
    "LocationRegistry",
    "ProcessHead",
    "ProcessValidator",
    "RedirectError",
    "Replicated",
    "ScheduleBatch",
    "ScheduleConflictError",
    "ScheduleGapError",
    "SchedulePage",
    "ScheduleVerificationError",
    "Scheduler",
    "SchedulerClosedError",
    "SchedulerConfig",
    "StaleLocationError",
    "StoreCapacityError",
    "StoredDataError",
    "Subscription",
    "UnassignableMessageError",
    "UnknownMessageError",
    "UnsignedMessageError",
    "VerifyReport",
    "verify_schedule",
    "wall_clock_ms",
]
