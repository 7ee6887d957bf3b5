"""Recently committed slots, decoded: a bounded cache that schedule reads consult before the store.

Compute usually follows scheduling closely (a push, a cron tick, a client's `now` after its `send`): the
slots it folds were committed moments before, and reading them back from the store (index lookups, object
reads verified against their digests, decoding) was about a quarter of the compute engine's own cost per
slot. The write side adds each (assignment, message) pair here once the batch that wrote it is durable:
the very objects it encoded and stored. A read of a range held here entirely is answered from here;
anything else goes to the store.

Nothing here can differ from the store: only committed pairs enter, a committed slot is never assigned
again, and eviction only sends reads back to the store. Bounded by entries and by the bytes of the
messages' encodings; the oldest entries go first. Thread-safe (the loop adds, compute threads read).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from aonode.model import Assignment, Message


class RecentSlots:
    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[bytes, int], tuple[Assignment, Message, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, process: bytes, committed: Iterable[tuple[Assignment, Message, int]]) -> None:
        """Remember committed (assignment, message, size of the message's encoding) of `process`."""
        if self.max_entries <= 0:
            return
        items = self._items
        with self._lock:
            for a, m, size in committed:
                key = (process, a.slot)
                old = items.pop(key, None)
                if old is not None:
                    self._bytes -= old[2]
                items[key] = (a, m, size)
                self._bytes += size
            while items and (len(items) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, _, size) = items.popitem(last=False)
                self._bytes -= size

    def range(self, process: bytes, start: int, count: int) -> tuple[list[Assignment], list[Message]] | None:
        """Slots `start .. start + count - 1` of `process` with their messages, if all are held; else None."""
        get = self._items.get
        assignments: list[Assignment] = []
        messages: list[Message] = []
        with self._lock:
            for slot in range(start, start + count):
                found = get((process, slot))
                if found is None:
                    self.misses += 1
                    return None
                assignments.append(found[0])
                messages.append(found[1])
        self.hits += 1
        return assignments, messages
