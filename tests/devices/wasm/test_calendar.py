"""The UTC calendar behind emscripten's date imports, against Python's datetime (years 1-9999)."""

from __future__ import annotations

import calendar as pycalendar
import datetime

from hypothesis import given
from hypothesis import strategies as st

from aonode.devices.wasm.calendar import Tm, breakdown, timegm

EPOCH = datetime.datetime(1970, 1, 1)
SECONDS = st.integers(min_value=-62_135_596_800, max_value=253_402_300_799)  # 0001-01-01 .. 9999-12-31


@given(SECONDS)
def test_breakdown_is_gmtime(seconds: int) -> None:
    d = EPOCH + datetime.timedelta(seconds=seconds)
    expected = Tm(
        d.second, d.minute, d.hour, d.day, d.month - 1, d.year - 1900, (d.weekday() + 1) % 7,
        d.timetuple().tm_yday - 1, 0,
    )  # fmt: skip
    assert breakdown(seconds) == expected


@given(SECONDS)
def test_timegm_inverts_breakdown(seconds: int) -> None:
    assert timegm(breakdown(seconds)) == seconds


def test_out_of_range_fields_normalize_as_mktime_does() -> None:
    def fields(year: int, mon: int, mday: int, hour: int = 0, minute: int = 0, sec: int = 0) -> Tm:
        return Tm(sec, minute, hour, mday, mon, year - 1900, 0, 0, 0)

    assert timegm(fields(2000, 12, 1)) == pycalendar.timegm((2001, 1, 1, 0, 0, 0))  # month 12: next January
    assert timegm(fields(2000, -1, 1)) == pycalendar.timegm((1999, 12, 1, 0, 0, 0))
    assert timegm(fields(2000, 0, 0)) == pycalendar.timegm((1999, 12, 31, 0, 0, 0))  # day 0: the day before
    assert timegm(fields(2000, 1, 30)) == pycalendar.timegm((2000, 3, 1, 0, 0, 0))  # 2000 is a leap year
    assert timegm(fields(1970, 0, 1, sec=-1)) == -1
    assert timegm(fields(1970, 0, 1, hour=48)) == 2 * 86_400
