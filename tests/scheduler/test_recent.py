"""The scheduler's memory of recently committed slots: whole ranges only, bounded by entries and bytes."""

from __future__ import annotations

from aonode.model import Assignment, Message
from aonode.scheduler.recent import RecentSlots

P = b"p" * 32


def _pairs(slots: range, size: int = 10) -> list[tuple[Assignment, Message, int]]:
    return [(Assignment(P, s, bytes(32), 1), Message(data=str(s).encode()), size) for s in slots]


def test_whole_ranges_only() -> None:
    recent = RecentSlots(100, 10_000)
    recent.add(P, _pairs(range(5, 10)))
    held = recent.range(P, 5, 5)
    assert held is not None
    assert [a.slot for a in held[0]] == [5, 6, 7, 8, 9]
    assert [m.data for m in held[1]] == [b"5", b"6", b"7", b"8", b"9"]
    assert recent.range(P, 4, 2) is None  # slot 4 was never added
    assert recent.range(P, 9, 2) is None
    assert recent.range(b"q" * 32, 5, 1) is None
    assert (recent.hits, recent.misses) == (1, 3)


def test_bounded_by_entries_and_bytes_oldest_first() -> None:
    by_count = RecentSlots(3, 10_000)
    by_count.add(P, _pairs(range(6)))
    assert len(by_count) == 3 and by_count.range(P, 3, 3) is not None and by_count.range(P, 2, 1) is None
    by_bytes = RecentSlots(100, 25)
    by_bytes.add(P, _pairs(range(6), size=10))
    assert len(by_bytes) == 2 and by_bytes.range(P, 4, 2) is not None
    off = RecentSlots(0, 100)
    off.add(P, _pairs(range(3)))
    assert len(off) == 0 and off.range(P, 0, 1) is None
