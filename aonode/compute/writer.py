"""Result batches: the results (and snapshots) of consecutive slots of one process, submitted to the store's
group commit every `write_every` slots without waiting, each batch chained to the previous one by a
precondition on `results_head` (so a failed batch fails every later one and results never have a hole).

The caller awaits `pending` before it answers: a reply is sent only after the batch holding its result is
durable. A failure already known while computing stops the computation early (`check`).
"""

from __future__ import annotations

from concurrent.futures import Future

from aonode.compute import layout
from aonode.compute.config import ComputeConfig
from aonode.compute.errors import from_store_error
from store import ObjectStore, WriteBatch


class ResultWriter:
    def __init__(
        self, store: ObjectStore, process: bytes, head_raw: bytes | None, config: ComputeConfig
    ) -> None:
        self._store = store
        self._process = process
        self._prev = head_raw
        self._every = config.write_every
        self._max_bytes = config.write_bytes
        self._batch = WriteBatch()
        self._head: layout.ResultsHead | None = None
        self._slots = 0
        self.pending: list[Future[None]] = []
        self.written = 0

    def add(self, slot: int, encoded: bytes, hashpath: bytes) -> bytes:
        """Add slot `slot`'s encoded result; returns its digest."""
        d = self._batch.put_object(encoded)
        self._batch.put(layout.RESULTS, layout.slot_key(self._process, slot), layout.encode_row(d, hashpath))
        self._head = layout.ResultsHead(slot, hashpath, d)
        self._slots += 1
        return d

    def add_snapshot(self, slot: int, device: str, data: bytes) -> None:
        """Add the state after `slot` (which must be the slot just added)."""
        with self._store.read() as view:
            layout.put_snapshot(self._batch, view, self._process, slot, device, data)

    def maybe_flush(self) -> None:
        if self._slots >= self._every or self._batch.nbytes >= self._max_bytes:
            self.flush()

    def flush(self) -> None:
        """Submit what was added (nothing when empty) and raise if an earlier batch failed."""
        if self._head is not None and self._slots:
            batch = self._batch
            raw = self._head.encode()
            batch.require(layout.RESULTS_HEAD, self._process, self._prev)
            batch.put(layout.RESULTS_HEAD, self._process, raw)
            self.pending.append(self._store.submit(batch))
            self.written += self._slots
            self._prev = raw
            self._batch = WriteBatch()
            self._slots = 0
        self.check()

    def check(self) -> None:
        """Raise the first failure of a submitted batch; forget batches already durable."""
        still: list[Future[None]] = []
        for fut in self.pending:
            if not fut.done():
                still.append(fut)
            elif fut.cancelled():
                raise from_store_error(RuntimeError("a result batch was cancelled"))
            elif (exc := fut.exception()) is not None:
                raise from_store_error(exc)
        self.pending = still
