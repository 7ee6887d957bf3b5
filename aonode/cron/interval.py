"""Interval syntax of cron tasks: `N-unit`, N a positive decimal integer, unit one of millisecond, second,
minute, hour or day, singular or plural, any case (`100-milliseconds`, `1-Minute`, `2-DAYS`).

`parse_interval` returns milliseconds or raises `InvalidInterval` (an InvalidArgument) naming what is
wrong. Unlike HyperBEAM's `parse_time` there is no prefix matching (`5-m` is refused rather than guessed)
and the bounds are explicit: at least the node's minimum interval, at most `MAX_INTERVAL_MS`.
"""

from __future__ import annotations

import re

from aonode.errors import InvalidArgument

UNITS_MS = {
    "millisecond": 1,
    "second": 1000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
}

# Ten years: far beyond any useful timer, and far below u64 milliseconds.
MAX_INTERVAL_MS = 3650 * 86_400_000

_SYNTAX = re.compile(r"([0-9]+)-([A-Za-z]+)")


class InvalidInterval(InvalidArgument):
    """An interval that does not parse, or is out of bounds; the text says why."""


def parse_interval(text: str, *, minimum_ms: int = 1) -> int:
    """Milliseconds of `text` (`N-milliseconds|seconds|minutes|hours|days`)."""
    shown = text if len(text) <= 64 else text[:64] + "..."
    if not text:
        raise InvalidInterval("interval: required, as N-milliseconds|seconds|minutes|hours|days")
    match = _SYNTAX.fullmatch(text.strip())
    if match is None:
        raise InvalidInterval(
            f"interval {shown!r}: expected N-unit, N a positive integer and unit one of "
            "milliseconds, seconds, minutes, hours, days (e.g. 10-seconds)"
        )
    number, unit = int(match.group(1)), match.group(2).lower()
    scale = UNITS_MS.get(unit[:-1] if unit.endswith("s") else unit)
    if scale is None:
        raise InvalidInterval(
            f"interval {shown!r}: unknown unit {unit!r} (milliseconds, seconds, minutes, hours or days)"
        )
    if number <= 0:
        raise InvalidInterval(f"interval {shown!r}: N must be a positive integer, got {number}")
    ms = number * scale
    if ms > MAX_INTERVAL_MS:
        raise InvalidInterval(f"interval {shown!r}: longer than the maximum of 3650 days")
    if ms < minimum_ms:
        raise InvalidInterval(f"interval {shown!r}: shorter than this node's minimum of {minimum_ms} ms")
    return ms


def format_interval(ms: int) -> str:
    """The canonical text of `ms`, in the largest unit that divides it (`60000` → `1-minute`,
    `1500` → `1500-milliseconds`)."""
    for unit, scale in sorted(UNITS_MS.items(), key=lambda kv: -kv[1]):
        if ms % scale == 0:
            n = ms // scale
            return f"{n}-{unit}" if n == 1 else f"{n}-{unit}s"
    raise ValueError(ms)  # unreachable: every integer is a multiple of 1 ms
