"""emscripten's JS `strftime(s, maxsize, format, tm)` (the glue of every wasm32 AO format imports it; Lua's
`os.date` calls it), as that glue formats: C-locale names, the `%E`/`%O` modifiers dropped, `%z` from
`tm_gmtoff`, `%Z` from `tm_zone`, and the result written with its NUL only when it fits in `maxsize` bytes
(else 0 is returned and nothing written). Nothing reads the host's locale or time zone.
"""

from __future__ import annotations

import re

from aonode.devices.wasm.calendar import Tm, civil_from_days, days_from_civil

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_COMPOSITE = {
    "%c": "%a %b %d %H:%M:%S %Y",
    "%D": "%m/%d/%y",
    "%F": "%Y-%m-%d",
    "%h": "%b",
    "%r": "%I:%M:%S %p",
    "%R": "%H:%M",
    "%T": "%H:%M:%S",
    "%x": "%m/%d/%y",
    "%X": "%H:%M:%S",
}
_MODIFIED = re.compile(r"%[EO]([a-zA-Z])")
_DIRECTIVE = re.compile(r"%(.)", re.DOTALL)


def _iso_week(year: int, yday: int, wday: int) -> tuple[int, int]:
    """(ISO 8601 week-based year, week number) of a day."""
    days = days_from_civil(year, 1, 1) + yday
    monday = days - (wday + 6) % 7
    thursday = monday + 3
    # the week belongs to the year its Thursday is in
    iso_year = civil_from_days(thursday)[0]
    week = (thursday - days_from_civil(iso_year, 1, 1)) // 7 + 1
    return iso_year, week


def format_tm(pattern: str, tm: Tm, gmtoff: int, zone: str) -> str:
    """`pattern` expanded for `tm` (see the module docstring)."""
    for short, full in _COMPOSITE.items():
        pattern = pattern.replace(short, full)
    pattern = _MODIFIED.sub(r"%\1", pattern)
    year = tm.year + 1900
    wday = tm.wday % 7

    def expand(m: re.Match[str]) -> str:
        c = m.group(1)
        if c == "a":
            return WEEKDAYS[wday][:3]
        if c == "A":
            return WEEKDAYS[wday]
        if c == "b":
            return MONTHS[tm.mon % 12][:3]
        if c == "B":
            return MONTHS[tm.mon % 12]
        if c == "C":
            return f"{year // 100:02d}"
        if c == "d":
            return f"{tm.mday:02d}"
        if c == "e":
            return f"{tm.mday:2d}"
        if c in "gG":
            iso_year = _iso_week(year, tm.yday, wday)[0]
            return str(iso_year)[2:] if c == "g" else str(iso_year)
        if c == "H":
            return f"{tm.hour:02d}"
        if c == "I":
            hour = tm.hour % 12 or 12
            return f"{hour:02d}"
        if c == "j":
            return f"{tm.yday + 1:03d}"
        if c == "m":
            return f"{tm.mon + 1:02d}"
        if c == "M":
            return f"{tm.min:02d}"
        if c == "n":
            return "\n"
        if c == "p":
            return "AM" if 0 <= tm.hour < 12 else "PM"
        if c == "S":
            return f"{tm.sec:02d}"
        if c == "t":
            return "\t"
        if c == "u":
            return str(wday or 7)
        if c == "U":
            return f"{(tm.yday + 7 - wday) // 7:02d}"
        if c == "V":
            return f"{_iso_week(year, tm.yday, wday)[1]:02d}"
        if c == "w":
            return str(wday)
        if c == "W":
            return f"{(tm.yday + 7 - (wday + 6) % 7) // 7:02d}"
        if c == "y":
            return str(year)[2:]
        if c == "Y":
            return str(year)
        if c == "z":
            minutes = abs(gmtoff) // 60
            return f"{'+' if gmtoff >= 0 else '-'}{minutes // 60:02d}{minutes % 60:02d}"
        if c == "Z":
            return zone
        if c == "%":
            return "%"
        return m.group(0)  # unknown directives stay as written, as the glue leaves them

    return _DIRECTIVE.sub(expand, pattern)


def strftime(pattern: bytes, tm: Tm, gmtoff: int, zone: str, maxsize: int) -> bytes | None:
    """The bytes to write (with the NUL), or None when they do not fit in `maxsize`."""
    text = format_tm(pattern.decode("utf-8", "replace"), tm, gmtoff, zone).encode("utf-8") + b"\0"
    return text if len(text) <= maxsize else None
