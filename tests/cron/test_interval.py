"""Interval syntax: N-unit, N > 0, units singular or plural in any case; everything else refused with why."""

from __future__ import annotations

import pytest

from aonode.cron import InvalidInterval, format_interval, parse_interval
from aonode.cron.tasks import CronConfig
from aonode.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("100-milliseconds", 100),
        ("1-millisecond", 1),
        ("10-seconds", 10_000),
        ("1-Second", 1000),
        ("5-MINUTES", 300_000),
        ("1-minute", 60_000),
        ("2-hours", 7_200_000),
        ("1-hour", 3_600_000),
        ("3-days", 259_200_000),
        ("1-day", 86_400_000),
        (" 7-seconds ", 7000),
    ],
)
def test_good_intervals(text: str, ms: int) -> None:
    assert parse_interval(text) == ms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "required"),
        ("10", "expected N-unit"),
        ("seconds", "expected N-unit"),
        ("-5-seconds", "expected N-unit"),
        ("1.5-seconds", "expected N-unit"),
        ("10 seconds", "expected N-unit"),
        ("0-seconds", "positive"),
        ("10-fortnights", "unknown unit 'fortnights'"),
        ("10-m", "unknown unit 'm'"),
        ("10-blocks", "unknown unit"),
        ("99999-days", "maximum"),
    ],
)
def test_bad_intervals_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidInterval, match=reason) as caught:
        parse_interval(text)
    assert isinstance(caught.value, InvalidArgument) and caught.value.status == "INVALID_ARGUMENT"


def test_minimum() -> None:
    assert parse_interval("100-milliseconds", minimum_ms=100) == 100
    with pytest.raises(InvalidInterval, match="minimum of 100 ms"):
        parse_interval("99-milliseconds", minimum_ms=100)


def test_format_round_trips() -> None:
    for ms in (1, 100, 1500, 1000, 60_000, 120_000, 3_600_000, 86_400_000, 2 * 86_400_000):
        assert parse_interval(format_interval(ms)) == ms
    assert format_interval(60_000) == "1-minute" and format_interval(1500) == "1500-milliseconds"


def test_config_from_mapping() -> None:
    assert CronConfig.from_mapping({"max-catch-up": 5}).max_catch_up == 5
    with pytest.raises(InvalidArgument, match="unknown"):
        CronConfig.from_mapping({"bogus": 1})
    with pytest.raises(InvalidArgument):
        CronConfig.from_mapping({"backoff_base_ms": 10, "backoff_max_ms": 5})
