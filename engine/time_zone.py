"""The organisation's time zone: where "09:00", "weekdays at 8" and a record's plain dates
are meant, and how the timeline and the designer show a moment.

One setting in the shared database, so every engine and every designer agree whatever
zone their machine is in. Unset means UTC; the embedded default sets it to the zone of
the computer it first starts on. Moments are stored in UTC; only words and clock times
a person reads or writes are in the organisation's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.errors import ConfigError

TIME_ZONE = "time_zone"  # the setting's key (engine.settings.organisation_zone reads it)


def zone_named(name: str) -> ZoneInfo:
    """The zone of an IANA name ("Europe/Stockholm"), or a sentence saying what to use."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"'{name}' is not a time zone StatusFlow knows. Use a place name such as "
            "Europe/Stockholm, America/New_York or UTC."
        ) from None


def zone_names() -> list[str]:
    """Every known zone name, sorted (for the settings dialog's list)."""
    return sorted(available_timezones() | {"UTC"})


def machine_zone_name() -> str:
    """This computer's zone, or UTC when it cannot be told (a container, say)."""
    from tzlocal import get_localzone_name

    try:
        name = get_localzone_name()
    except Exception:
        return "UTC"
    if not name:
        return "UTC"
    try:
        zone_named(name)
    except ConfigError:
        return "UTC"
    return name


def in_zone(value: datetime | date, zone: tzinfo) -> datetime:
    """A record's date or time as a moment: a plain date is midnight and a time without a
    zone is a clock time, both in the organisation's zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0, 0), tzinfo=zone)


def next_clock_time(now: datetime, clock: time, zone: tzinfo) -> datetime:
    """The next moment after ``now`` when the wall clock in ``zone`` shows ``clock``."""
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), clock, tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), clock, tzinfo=zone)
    return due.astimezone(UTC)


def moment_text(moment: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    """'2026-11-23 09:00 CET': a moment as people in the organisation read it."""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
