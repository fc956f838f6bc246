"""The organisation's time zone: clock times in graphs mean local clock times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.clock import ManualClock
from engine.errors import ConfigError
from engine.runtime.timeline import format_timeline, record_timeline
from engine.settings import get_setting, organisation_zone, set_setting
from engine.storage.database import Database
from engine.time_zone import TIME_ZONE, in_zone, machine_zone_name, moment_text, next_clock_time
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import AUTHOR, engine, publish, run_states, shop, timeline

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_0730_UTC = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)  # 08:30 in Stockholm (CET)


def test_the_next_nine_oclock_is_local_and_follows_daylight_saving() -> None:
    nine = time(9, 0)
    assert next_clock_time(MONDAY_0730_UTC, nine, STOCKHOLM) == datetime(
        2026, 1, 5, 8, 0, tzinfo=UTC
    )
    after_nine = MONDAY_0730_UTC + timedelta(hours=1)  # 09:30 local: tomorrow, then
    assert next_clock_time(after_nine, nine, STOCKHOLM) == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    # Summer time starts on 29 March 2026: 09:00 local is 07:00 UTC from then on.
    saturday_evening = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    assert next_clock_time(saturday_evening, nine, STOCKHOLM) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )


def test_a_plain_date_is_local_midnight_and_moments_read_in_local_words() -> None:
    assert in_zone(date(2026, 1, 5), STOCKHOLM) == datetime(2026, 1, 4, 23, 0, tzinfo=UTC)
    assert in_zone(datetime(2026, 1, 5, 12, 0), STOCKHOLM).utcoffset() == timedelta(hours=1)
    assert moment_text(MONDAY_0730_UTC, STOCKHOLM) == "2026-01-05 08:30 CET"
    assert moment_text(MONDAY_0730_UTC, UTC, seconds=True) == "2026-01-05 07:30:00 UTC"
    assert machine_zone_name()  # never empty: UTC when the machine cannot tell


def test_the_setting_takes_place_names_and_refuses_anything_else(db: Database) -> None:
    with db.read() as conn:
        assert organisation_zone(conn) == ZoneInfo("UTC")  # nothing set yet
    set_setting(db, TIME_ZONE, " Europe/Stockholm ", actor=AUTHOR)
    with db.read() as conn:
        assert get_setting(conn, TIME_ZONE) == "Europe/Stockholm"
        assert organisation_zone(conn) == STOCKHOLM
    with pytest.raises(ConfigError, match=r"'Mars/Olympus' is not a time zone.*Europe/Stockholm"):
        set_setting(db, TIME_ZONE, "Mars/Olympus", actor=AUTHOR)
    with db.read() as conn:
        assert organisation_zone(conn) == STOCKHOLM  # the refused value changed nothing


def _note_at_nine() -> dict:
    g = Builder("Morning note")
    g.line(
        g.node("trigger.manual"),
        g.node("wait.until", mode="time", time="09:00"),
        g.node("action.add_note", note="Good morning."),
    )
    return g.document()


def test_wait_until_nine_waits_for_nine_in_the_organisations_zone(db: Database) -> None:
    from engine.runtime.starts import start_manual

    clock = ManualClock(MONDAY_0730_UTC)
    shop(db, clock)
    set_setting(db, TIME_ZONE, "Europe/Stockholm", actor=AUTHOR)
    publish(db, _note_at_nine(), clock)
    worker = engine(db, clock)
    start_manual(db, "Morning note", "orders", "3", actor="olga", clock=clock)
    worker.run_until_idle()
    assert "Waiting until 2026-01-05 09:00 CET." in timeline(db, "3")
    clock.advance(timedelta(minutes=29))  # 08:59 local (07:59 UTC): not yet nine
    worker.run_until_idle()
    assert run_states(db) == [("3", "active")]
    clock.advance(timedelta(minutes=1))
    worker.run_until_idle()
    assert run_states(db) == [("3", "succeeded")]
    with db.read() as conn:  # what 'statusflow runs show orders:3' prints
        lines = format_timeline(record_timeline(conn, "orders", "3"), organisation_zone(conn))
    assert lines[0].endswith("started 2026-01-05 08:30 CET by olga")
    assert lines[-1].startswith("  09:00:00  ")


def test_a_weekday_schedule_fires_at_local_eight(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 6, 59, tzinfo=UTC))  # 07:59 in Stockholm
    shop(db, clock)
    set_setting(db, TIME_ZONE, "Europe/Stockholm", actor=AUTHOR)
    g = Builder("Weekday reminder")
    g.line(
        g.node("trigger.schedule", cron="0 8 * * 1-5", in_status=["SNA"]),
        g.node("action.add_note", note="Still stuck."),
    )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    worker.run_until_idle()
    assert run_states(db) == []
    clock.advance(timedelta(minutes=1))
    worker.run_until_idle()
    started = run_states(db)
    assert started, "the demo has orders waiting for a salesperson"
    assert timeline(db, started[0][0])[0].startswith(
        "Scheduled (0 8 * * 1-5, 2026-01-05 08:00 CET)"
    )


def test_a_changed_zone_reaches_a_running_engine(db: Database) -> None:
    clock = ManualClock(MONDAY_0730_UTC)
    shop(db, clock)
    worker = engine(db, clock)
    worker.run_until_idle()
    assert worker.services.zone == ZoneInfo("UTC")
    set_setting(db, TIME_ZONE, "America/New_York", actor=AUTHOR)
    worker.heartbeat()  # every few seconds
    assert worker.services.zone == ZoneInfo("America/New_York")


def test_a_test_run_waits_for_nine_in_the_organisations_zone(db: Database) -> None:
    from engine.governance.test_run import simulate
    from engine.graphs import create_graph

    clock = ManualClock(MONDAY_0730_UTC)
    shop(db, clock)
    set_setting(db, TIME_ZONE, "Europe/Stockholm", actor=AUTHOR)
    create_graph(db, _note_at_nine(), actor=AUTHOR, clock=clock)
    result = simulate(db, "Morning note", actor=AUTHOR, record_key="3", clock=clock)
    summaries = [line["summary"] for line in result.timeline]
    assert "Waiting until 2026-01-05 09:00 CET." in summaries  # what it will do when published
    note = next(line for line in result.timeline if line["summary"] == "Good morning.")
    assert note["after"] == "0:30:00"  # 08:30 → 09:00 local, not 1½ hours to 09:00 UTC
