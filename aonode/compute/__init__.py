"""process@1.0's compute: the engine that turns a schedule into per-slot results and hashpaths.

Theory of operation (details in each module and docs/compute.md):
- `engine.ComputeEngine` serves `compute(process, slot)`, `now(process)` and `dryrun(message)`. Stored
  results are served from the store; missing slots are computed from the nearest state (a live worker, a
  stored snapshot, or a fresh device from slot 0), one computation per process at a time, many processes at
  once on a thread pool.
- `definition` reads the process definition (device, module, limits within the node's caps); `runner` folds
  the schedule into the device slot by slot, verifying density, hash chain and message IDs, and stops with
  a clear error at a broken slot; `writer` batches results into the store's group commit; `workers` is the
  LRU of live workers; `layout` holds the tables (`results`, `results_head`, `snapshots`).
- `hashpath(n) = blake3(hashpath(n-1) ‖ assignment_id(n))` with `hashpath(-1) = process ID`; a stored result
  is never rewritten, and a recomputed one is compared with it.
- `python -m aonode.compute.replay DATA_DIR PROCESS` recomputes a stored schedule and prints per-slot digests
  and hashpaths (the determinism check between nodes and OS processes).
"""

from aonode.compute.config import ComputeConfig, ScheduleSource, SlotResult
from aonode.compute.engine import ComputeEngine
from aonode.compute.errors import (
    DefinitionError,
    EngineClosedError,
    MissingMessageError,
    ReplayDivergenceError,
    ResultStoreError,
    ResultStoreFull,
    ScheduleBrokenError,
    SlotOutOfRange,
    StoredResultCorrupt,
)

__all__ = [
    "ComputeConfig",
    "ComputeEngine",
    "DefinitionError",
    "EngineClosedError",
    "MissingMessageError",
    "ReplayDivergenceError",
    "ResultStoreError",
    "ResultStoreFull",
    "ScheduleBrokenError",
    "ScheduleSource",
    "SlotOutOfRange",
    "SlotResult",
    "StoredResultCorrupt",
]
