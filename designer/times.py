"""How the designer writes a moment: in the organisation's time zone.

The zone is one shared setting (engine.time_zone), so a support agent and the engine's
timeline say "09:00" about the same moment whatever computer each runs on. Like Qt's
default locale it is application-wide: the main window sets it when it opens and again
when an administrator changes it, and every panel writes times through here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from engine.time_zone import moment_text

_zone: tzinfo = UTC


def set_display_zone(zone: tzinfo) -> None:
    global _zone
    _zone = zone


def display_zone() -> tzinfo:
    return _zone


def zone_note() -> str:
    """A sentence for tooltips and headers: which zone the times are in."""
    return f"Times are in {getattr(_zone, 'key', str(_zone))} (Settings → Time zone)."


def when(moment: datetime | None) -> str:
    """'3 May 2026, 14:05', or '' for no moment."""
    if moment is None:
        return ""
    local = _local(moment)
    return f"{local.day} {local:%b %Y, %H:%M}"


def when_exact(moment: datetime | None) -> str:
    """'2026-05-03 14:05:09 CEST': for timelines, where seconds and the zone matter."""
    return "" if moment is None else moment_text(_utc(moment), _zone, seconds=True)


def clock_or_date(moment: datetime, day_of: datetime | None = None) -> str:
    """Only the time of day when on the same local day as ``day_of``, else date and time."""
    local = _local(moment)
    if day_of is not None and local.date() == _local(day_of).date():
        return f"{local:%H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M}"


def day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the organisation's zone, as a UTC moment: the dates
    people pick in a filter are their own days."""
    return datetime.combine(day, time.min, tzinfo=_zone).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # stored naive = UTC


def _local(moment: datetime) -> datetime:
    return _utc(moment).astimezone(_zone)
