"""UTC calendar arithmetic for emscripten's date imports (`_gmtime_js`, `_localtime_js`, `_mktime_js`,
`_timegm_js`): what JavaScript's `Date` computes, without the host's clock or time zone.

A process's local time zone is UTC, always, so `localtime` equals `gmtime` on every node. Days are counted
in the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil` / `civil_from_days`); out-of-range
fields normalize the way `Date.UTC` and `mktime` do (month 12 is January of the next year, day 0 is the last
day of the previous month, and so on).
"""

from __future__ import annotations

from typing import NamedTuple

SECONDS_PER_DAY = 86_400
_EPOCH_WEEKDAY = 4  # 1970-01-01 was a Thursday (Sunday = 0)


class Tm(NamedTuple):
    """The first nine fields of C's `struct tm`, in their order (all i32 in memory)."""

    sec: int
    min: int
    hour: int
    mday: int
    mon: int  # 0-11
    year: int  # years since 1900
    wday: int  # 0-6, Sunday = 0
    yday: int  # 0-365
    isdst: int


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a date (month 1-12, day 1-31; floor division makes it exact for any year)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month 1-12, day 1-31) of a day number since 1970-01-01."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def breakdown(seconds: int) -> Tm:
    """`gmtime`: the UTC fields of a time in seconds since the epoch."""
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    year, month, day = civil_from_days(days)
    yday = days - days_from_civil(year, 1, 1)
    weekday = (days + _EPOCH_WEEKDAY) % 7
    return Tm(rest % 60, rest // 60 % 60, rest // 3600, day, month - 1, year - 1900, weekday, yday, 0)


def timegm(tm: Tm) -> int:
    """`timegm`/`mktime` in UTC: seconds since the epoch of possibly out-of-range fields, normalized."""
    year = tm.year + 1900 + tm.mon // 12
    days = days_from_civil(year, tm.mon % 12 + 1, 1) + tm.mday - 1
    return days * SECONDS_PER_DAY + tm.hour * 3600 + tm.min * 60 + tm.sec
