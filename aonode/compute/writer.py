"""Result batches: the results (and snapshots) of consecutive slots of one process, submitted to the store's
group commit every `write_every` slots without waiting, each batch chained to the previous one by a
precondition on `results_head` (so a failed batch fails every later one and results never have a hole).

The caller awaits `pending` before it answers: a reply is sent only after the batch holding its result is
durable. A failure already known while computing stops the computation early (`check`).
"""

from __future__ import annotations

import struct
from concurrent.futures import Future

from aonode.compute import layout
from aonode.compute.config import ComputeConfig
from aonode.compute.errors import from_store_error
from store import ObjectStore, WriteBatch

_pack_u64 = struct.Struct(">Q").pack


class ResultWriter:
    def __init__(
        self, store: ObjectStore, process: bytes, head_raw: bytes | None, config: ComputeConfig
    ) -> None:
        self._store = store
        self._process = process
        self._prev = head_raw
        self._every = config.write_every
        self._max_bytes = config.write_bytes
        self._head: tuple[int, bytes, bytes] | None = None
        """(slot, hashpath, result digest) of the last result added to the batch."""
        self._slots = 0
        self.pending: list[Future[None]] = []
        self.written = 0
        self._new_batch()

    def _new_batch(self) -> None:
        self._batch = WriteBatch()
        # Bound once per batch: `add` runs once per computed slot.
        self._put_object = self._batch.put_object
        self._put = self._batch.put

    def add(self, slot: int, encoded: bytes, hashpath: bytes) -> bytes:
        """Add slot `slot`'s encoded result; returns its digest."""
        d = self._put_object(encoded)
        self._put(layout.RESULTS, self._process + _pack_u64(slot), d + hashpath)  # slot_key, encode_row
        self._head = (slot, hashpath, d)
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
            raw = layout.ResultsHead(*self._head).encode()
            batch.require(layout.RESULTS_HEAD, self._process, self._prev)
            batch.put(layout.RESULTS_HEAD, self._process, raw)
            self.pending.append(self._store.submit(batch))
            self.written += self._slots
            self._prev = raw
            self._new_batch()
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
