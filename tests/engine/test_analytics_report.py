"""The owners' numbers: events per ISO week with the change, and adoption."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from engine import analytics, graphs
from engine.analytics_report import Adoption, WeekRow, adoption, totals, weekly_counts
from engine.clock import ManualClock
from engine.governance import versions
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import REVIEWER, publish, shop

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday; this week began Monday 12th


def record(db: Database, at: datetime, name: str, times: int = 1, **fields: Any) -> None:
    with db.write() as conn:
        for _ in range(times):
            analytics.record(conn, analytics.row(name, clock=ManualClock(at), **fields))


def row(rows: list[WeekRow], week: date, event: str) -> WeekRow:
    return next(r for r in rows if r.week == week and r.event == event)


@pytest.fixture
def events(db: Database) -> Database:
    """Runs in three weeks (one before the two reported), graphs created, actions."""
    record(db, datetime(2025, 12, 28, 23, 59, tzinfo=UTC), analytics.RUN_STARTED)  # too early
    record(db, datetime(2025, 12, 29, 0, 0, tzinfo=UTC), analytics.RUN_STARTED, 2)
    record(db, datetime(2026, 1, 5, 0, 0, tzinfo=UTC), analytics.RUN_STARTED, trigger_type="status")
    record(db, datetime(2026, 1, 7, 9, 0, tzinfo=UTC), analytics.RUN_STARTED, trigger_type="label")
    record(
        db,
        datetime(2026, 1, 11, 23, 59, 59, tzinfo=UTC),
        analytics.RUN_STARTED,
        trigger_type="status",
    )
    record(
        db, datetime(2026, 1, 6, tzinfo=UTC), analytics.GRAPH_CREATED, trigger_type="label,status"
    )
    record(
        db,
        datetime(2026, 1, 13, tzinfo=UTC),
        analytics.ACTION_EXECUTED,
        2,
        action_type="action.send_email",
    )
    record(
        db,
        datetime(2026, 1, 13, tzinfo=UTC),
        analytics.ACTION_EXECUTED,
        action_type="action.set_status",
    )
    record(
        db,
        datetime(2026, 1, 13, tzinfo=UTC),
        analytics.ACTION_FAILED,
        action_type="action.send_email",
    )
    record(db, datetime(2026, 1, 19, tzinfo=UTC), analytics.RUN_STARTED)  # next week: not yet
    return db


def test_each_event_is_counted_per_week_with_the_change_from_the_week_before(
    events: Database,
) -> None:
    with events.read() as conn:
        rows = weekly_counts(conn, weeks=2, now=NOW)

    assert [(r.week, r.event) for r in rows[:5]] == [
        (date(2026, 1, 5), event)
        for event in (
            "graph_created",
            "version_published",
            "run_started",
            "action_executed",
            "action_failed",
        )
    ]
    assert len(rows) == 10
    runs = row(rows, date(2026, 1, 5), "run_started")
    assert (runs.count, runs.change, runs.change_percent) == (3, 1, 50.0)
    runs_now = row(rows, date(2026, 1, 12), "run_started")
    assert (runs_now.count, runs_now.change, runs_now.change_percent) == (0, -3, -100.0)


def test_the_change_in_percent_is_empty_after_a_week_with_none(events: Database) -> None:
    with events.read() as conn:
        rows = weekly_counts(conn, weeks=2, now=NOW)

    created = row(rows, date(2026, 1, 5), "graph_created")
    assert (created.count, created.change, created.change_percent) == (1, 1, None)
    quiet = row(rows, date(2026, 1, 5), "version_published")
    assert (quiet.count, quiet.change, quiet.change_percent) == (0, 0, None)


def test_counts_are_broken_down_by_trigger_and_action_type(events: Database) -> None:
    with events.read() as conn:
        rows = weekly_counts(conn, weeks=2, now=NOW)

    assert row(rows, date(2026, 1, 5), "run_started").by_trigger == {"status": 2, "label": 1}
    assert row(rows, date(2026, 1, 5), "graph_created").by_trigger == {"label": 1, "status": 1}
    assert row(rows, date(2026, 1, 12), "action_executed").by_action == {
        "action.send_email": 2,
        "action.set_status": 1,
    }
    assert totals(rows, "action")["action_failed"] == {"action.send_email": 1}
    assert totals(rows, "trigger")["run_started"] == {"status": 2, "label": 1}


def test_weeks_are_utc_weeks_wherever_the_report_is_made(events: Database) -> None:
    sydney_monday_morning = datetime(2026, 1, 19, 5, 0, tzinfo=timezone(timedelta(hours=10)))
    with events.read() as conn:
        rows = weekly_counts(conn, weeks=1, now=sydney_monday_morning)

    assert {r.week for r in rows} == {date(2026, 1, 12)}  # still Sunday in UTC


def test_the_default_is_eight_weeks_ending_with_this_one(db: Database) -> None:
    with db.read() as conn:
        rows = weekly_counts(conn, now=NOW)

    weeks = sorted({r.week for r in rows})
    assert weeks[0] == date(2025, 11, 24) and weeks[-1] == date(2026, 1, 12)
    assert len(weeks) == 8
    assert all(r.count == 0 for r in rows)


def status_document(name: str) -> dict[str, Any]:
    g = Builder(name)
    g.line(g.node("trigger.status_entered", codes=["DEL"]), g.node("action.add_note", note="Done"))
    return g.document()


def label_document(name: str) -> dict[str, Any]:
    g = Builder(name)
    g.line(g.node("trigger.label_applied", label="VIP"), g.node("action.add_note", note="VIP"))
    return g.document()


def publish_as(db: Database, author: str, document: dict[str, Any], clock: ManualClock) -> None:
    name = graphs.create_graph(db, document, actor=author, clock=clock).name
    version = versions.submit(db, name, actor=author, clock=clock)
    versions.approve(db, version.id, actor=REVIEWER, clock=clock)
    versions.publish(db, version.id, actor=REVIEWER, clock=clock)


def test_adoption_counts_sources_and_people_with_a_published_status_graph(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)  # two sources, three draft graphs by "ana"
    publish(db, status_document("Delivered note"), clock)  # by "ana", on orders
    publish_as(db, "carl", label_document("VIP note"), clock)  # published, but not on a status
    graphs.create_graph(db, status_document("Draft only"), actor="dora", clock=clock)

    with db.read() as conn:
        assert adoption(conn) == Adoption(
            sources_total=2,
            sources_with_published_status_graph=1,
            accounts_total=3,
            accounts_with_published_status_graph=1,
        )


def test_adoption_of_an_empty_database_is_all_zero(db: Database) -> None:
    with db.read() as conn:
        assert adoption(conn) == Adoption(0, 0, 0, 0)
