"""Result digests by slot range, read straight from the compute engine's `results` table (nothing is
computed): what a leader answers `GetResultDigests` with, and what a follower compares with it."""

from __future__ import annotations

from aonode.compute import layout as compute_layout
from store import ObjectStore

MAX_DIGESTS = 10_000


def result_digests(store: ObjectStore, process: bytes, from_slot: int, count: int) -> tuple[list[bytes], int]:
    """The stored result digests of slots `from_slot ..` (at most `count`, stopping at the first slot not
    computed) and the last computed slot (-1: none)."""
    count = MAX_DIGESTS if count <= 0 else min(count, MAX_DIGESTS)
    with store.read() as view:
        head, _ = compute_layout.read_head(view, process)
        rows = compute_layout.read_rows(view, process, from_slot, from_slot + count)
    out: list[bytes] = []
    for slot in range(from_slot, from_slot + count):
        row = rows.get(slot)
        if row is None:
            break
        out.append(row.result_digest)
    return out, head.slot if head is not None else -1
