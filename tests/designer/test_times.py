"""The designer writes moments in the organisation's time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from designer import times

NOON_UTC = datetime(2026, 7, 3, 12, 5, 9, tzinfo=UTC)


@pytest.fixture
def stockholm() -> Iterator[None]:
    times.set_display_zone(ZoneInfo("Europe/Stockholm"))
    yield
    times.set_display_zone(UTC)


def test_moments_read_as_local_clock_times(stockholm: None) -> None:
    assert times.when(NOON_UTC) == "3 Jul 2026, 14:05"  # summer time: UTC+2
    assert times.when(NOON_UTC.replace(tzinfo=None)) == "3 Jul 2026, 14:05"  # stored as UTC
    assert times.when(None) == ""
    assert times.when_exact(NOON_UTC) == "2026-07-03 14:05:09 CEST"
    assert times.clock_or_date(NOON_UTC, day_of=NOON_UTC) == "14:05:09"
    late = datetime(2026, 7, 3, 22, 30, tzinfo=UTC)  # already 4 July in Stockholm
    assert times.clock_or_date(late, day_of=NOON_UTC) == "2026-07-04 00:30"
    assert "Europe/Stockholm" in times.zone_note()


def test_a_picked_day_starts_at_local_midnight(stockholm: None) -> None:
    assert times.day_start(date(2026, 1, 5)) == datetime(2026, 1, 4, 23, 0, tzinfo=UTC)


def test_without_a_setting_times_are_utc() -> None:
    assert times.display_zone() == UTC
    assert times.when_exact(NOON_UTC) == "2026-07-03 12:05:09 UTC"
