"""Poll capture on each backend: what a poll sees, what it cannot, and whose change it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, text

from engine.errors import SourceError
from engine.runtime.engine import Engine
from engine.runtime.records import RecordStore
from engine.sources import polling
from engine.sources.registry import Capture, SourceInfo, add_source, remove_source
from engine.storage.database import Database
from engine.storage.tables import engine_writes, poll_snapshots, poll_states, status_events
from tests.host import as_host

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TABLES = (
    "CREATE TABLE cases (id INTEGER PRIMARY KEY, stage VARCHAR(10), owner VARCHAR(20), "
    "changed TIMESTAMP)",
    "CREATE TABLE case_tags (case_id INTEGER REFERENCES cases(id), tag VARCHAR(20))",
    "INSERT INTO cases VALUES (1, 'NEW', 'ana', '2026-12-07 08:00:00'), "
    "(2, 'NEW', NULL, '2026-12-07 08:00:00')",
    "INSERT INTO case_tags VALUES (1, 'VIP')",
)


def host(db: Database, *statements: str, **params: Any) -> None:
    with as_host(db) as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def cases(db: Database, changed_column: str | None = None) -> SourceInfo:
    host(db, *TABLES)
    return add_source(
        db,
        name="cases",
        table="cases",
        key_column="id",
        status_column="stage",
        label_table="case_tags",
        label_column="tag",
        watched_columns=("owner",),
        capture=Capture("poll", changed_column=changed_column, poll_seconds=2),
    )


def poll(db: Database, source: SourceInfo, at: datetime = T0) -> list[tuple[Any, ...]]:
    """Poll once; the events it wrote, as (key, kind, field, old, new, caused by a run)."""
    with db.write() as conn:
        first = conn.scalar(select(status_events.c.id).order_by(status_events.c.id.desc())) or 0
        polling.poll(conn, conn, source, at, RecordStore().table)
        rows = conn.execute(
            select(status_events).where(status_events.c.id > first).order_by(status_events.c.id)
        )
        return [
            (r.record_key, r.kind, r.field, r.old_value, r.new_value, r.caused_by_run_id)
            for r in rows
        ]


def test_registering_learns_the_table_so_every_later_change_is_seen(db: Database) -> None:
    source = cases(db)  # the engine has not polled yet
    assert poll(db, source) == []  # what was there before registering is no change
    host(db, "UPDATE cases SET stage = 'SNA' WHERE id = 2")
    assert poll(db, source) == [("2", "status", "stage", "NEW", "SNA", None)]


def test_each_kind_of_change_becomes_the_event_a_trigger_would_write(db: Database) -> None:
    source = cases(db)
    host(
        db,
        "UPDATE cases SET stage = 'SNA' WHERE id = 1",
        "UPDATE cases SET owner = 'bo' WHERE id = 2",
        "INSERT INTO cases VALUES (3, 'NEW', NULL, '2026-12-07 09:00:00')",
        "INSERT INTO case_tags VALUES (2, 'Express')",
        "DELETE FROM case_tags WHERE case_id = 1",
    )
    assert sorted(poll(db, source)) == [
        ("1", "label_removed", "tag", "VIP", None, None),
        ("1", "status", "stage", "NEW", "SNA", None),
        ("2", "field", "owner", None, "bo", None),
        ("2", "label", "tag", None, "Express", None),
        ("3", "created", "stage", None, "NEW", None),
    ]


def test_two_changes_between_polls_arrive_as_one(db: Database) -> None:
    source = cases(db)
    host(db, "UPDATE cases SET stage = 'SNA' WHERE id = 1", "UPDATE cases SET stage = 'ASN'")
    assert sorted(poll(db, source)) == [
        ("1", "status", "stage", "NEW", "ASN", None),
        ("2", "status", "stage", "NEW", "ASN", None),
    ]
    host(db, "UPDATE cases SET stage = 'NEW' WHERE id = 1", "UPDATE cases SET stage = 'ASN'")
    assert poll(db, source) == []  # there and back again between polls: nothing to see


def test_a_deleted_record_leaves_the_snapshot_and_returns_as_created(db: Database) -> None:
    source = cases(db)
    host(db, "DELETE FROM case_tags", "DELETE FROM cases WHERE id = 2")
    assert poll(db, source) == [("1", "label_removed", "tag", "VIP", None, None)]
    host(db, "INSERT INTO cases VALUES (2, 'DEL', NULL, NULL)")
    assert poll(db, source) == [("2", "created", "stage", None, "DEL", None)]


def test_with_a_changed_column_only_recent_rows_are_read_and_late_commits_are_seen(
    db: Database,
) -> None:
    source = cases(db, changed_column="changed")
    # a change stamped at 09:00 is read; one that committed late, stamped four minutes
    # before the newest seen, is still read; one without a new stamp is not read at all
    host(db, "UPDATE cases SET stage = 'SNA', changed = '2026-12-07 09:00:00' WHERE id = 1")
    assert poll(db, source) == [("1", "status", "stage", "NEW", "SNA", None)]
    host(db, "UPDATE cases SET stage = 'ASN', changed = '2026-12-07 08:56:00' WHERE id = 2")
    assert poll(db, source) == [("2", "status", "stage", "NEW", "ASN", None)]
    host(db, "UPDATE cases SET stage = 'CAN', changed = '2026-12-07 07:00:00' WHERE id = 2")
    assert poll(db, source) == []
    with db.read() as conn:
        assert conn.scalar(select(poll_states.c.high_water)) == "2026-12-07T09:00:00"


def test_the_engines_own_writes_are_recognised_and_consumed(db: Database) -> None:
    source = cases(db)
    store = RecordStore()
    run = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    with db.write() as conn:
        store.write_fields(conn, source, "1", {"stage": "ASN"}, run_id=run, depth=2)
        store.set_label(conn, source, "1", "Done", present=True, run_id=run, depth=2)
    host(db, "UPDATE cases SET owner = 'cy' WHERE id = 1")  # the host's own change
    assert sorted(poll(db, source)) == [
        ("1", "field", "owner", "ana", "cy", None),
        ("1", "label", "tag", None, "Done", run),
        ("1", "status", "stage", "NEW", "ASN", run),
    ]
    with db.read() as conn:
        depths = conn.execute(
            select(status_events.c.causation_depth).where(status_events.c.caused_by_run_id == run)
        ).scalars()
        assert set(depths) == {2}
        assert conn.execute(select(engine_writes)).all() == []


def moved_on(db: Database) -> SourceInfo:
    """A source polled by its changed column whose high water is past record 2's stamp,
    so a poll reads record 1 (changed at 09:00) and not record 2 (08:00)."""
    source = cases(db, changed_column="changed")
    host(db, "UPDATE cases SET stage = 'SNA', changed = '2026-12-07 09:00:00' WHERE id = 1")
    poll(db, source)
    return source


def test_an_unread_records_write_log_entry_is_forgotten_after_a_day(db: Database) -> None:
    source = moved_on(db)
    with db.write() as conn:
        polling.log_write(conn, source, "2", {"stage": "XYZ"}, run_id="r" * 36, depth=1)
    poll(db, source, datetime.now(UTC) + timedelta(hours=23))
    with db.read() as conn:
        assert len(conn.execute(select(engine_writes)).all()) == 1  # record 2 was not read
    poll(db, source, datetime.now(UTC) + timedelta(days=1, minutes=1))
    with db.read() as conn:
        assert conn.execute(select(engine_writes)).all() == []


def test_polling_is_scheduled_by_its_interval(db: Database) -> None:
    source = cases(db)
    with db.write() as conn:
        assert polling.claim_due(conn, T0) == [source.id]  # the first poll is due at once
        polling.reschedule(conn, source, T0)
        assert polling.claim_due(conn, T0 + timedelta(seconds=1)) == []
        assert polling.next_due(conn) == T0 + timedelta(seconds=2)
        assert polling.claim_due(conn, T0 + timedelta(seconds=2)) == [source.id]


@pytest.mark.parametrize(
    ("capture", "message"),
    [
        (Capture("rss"), "'rss' is not a capture mode"),
        (Capture("poll", poll_seconds=0.1), "outside 0.5–86400 s"),
        (Capture("poll", changed_column="owner"), "owner holds text values, not date-times"),
        (Capture("poll", changed_column="nope"), "has no column 'nope'"),
        (Capture("trigger", poll_seconds=3), "belong to poll capture"),
        (Capture("poll", install=False), "--install-later is for trigger capture"),
    ],
)
def test_a_capture_that_cannot_work_is_refused_plainly(
    db: Database, capture: Capture, message: str
) -> None:
    host(db, *TABLES)
    with pytest.raises(SourceError, match=message):
        add_source(
            db, name="cases", table="cases", key_column="id", status_column="stage", capture=capture
        )


def test_a_polled_source_is_removed_with_its_state(db: Database) -> None:
    cases(db)
    remove_source(db, "cases")
    with db.read() as conn:
        assert conn.execute(select(poll_states)).all() == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "true"),
        (False, "false"),
        (Decimal("5.00"), "5"),
        (5.0, "5"),
        (5, "5"),
        (Decimal("12.50"), "12.5"),
        (Decimal("1E+3"), "1000"),
        (datetime(2026, 12, 7, 9, 30), "2026-12-07T09:30:00"),
        ("DEL", "DEL"),
        (None, None),
    ],
)
def test_a_value_reads_the_same_whoever_wrote_it(value: Any, shown: str | None) -> None:
    """The engine writes 5, the column gives back 5.00: one value, so the poll knows it."""
    assert polling.as_text(value) == shown


def test_the_engine_removing_a_label_is_known_as_its_own(db: Database) -> None:
    source = cases(db)
    run = "9b2f5c1e-7425-40de-944b-e07fc1f90ae7"
    with db.write() as conn:
        RecordStore().set_label(conn, source, "1", "VIP", present=False, run_id=run, depth=1)
    assert poll(db, source) == [("1", "label_removed", "tag", "VIP", None, run)]


def test_a_logged_write_explains_nothing_once_a_poll_has_read_its_record(db: Database) -> None:
    """The engine set ASN, the host put NEW back before the poll: nothing to see. When
    the host later sets ASN itself, that change is the host's, not the old run's."""
    source = cases(db)
    run = "1d7e2c1e-7425-40de-944b-e07fc1f90ae7"
    with db.write() as conn:
        RecordStore().write_fields(conn, source, "1", {"stage": "ASN"}, run_id=run, depth=1)
    host(db, "UPDATE cases SET stage = 'NEW' WHERE id = 1")
    assert poll(db, source) == []
    host(db, "UPDATE cases SET stage = 'ASN' WHERE id = 1")
    assert poll(db, source) == [("1", "status", "stage", "NEW", "ASN", None)]


def test_the_engines_write_stamps_the_changed_column_so_the_poll_reads_it(db: Database) -> None:
    source = moved_on(db)
    run = "2a7e2c1e-7425-40de-944b-e07fc1f90ae7"
    with db.write() as conn:
        RecordStore().write_fields(conn, source, "2", {"stage": "SNA"}, run_id=run, depth=1)
    assert poll(db, source) == [("2", "status", "stage", "NEW", "SNA", run)]


def test_the_high_water_is_the_newest_stamp_whatever_the_row_order(db: Database) -> None:
    source = cases(db, changed_column="changed")
    host(
        db,
        "UPDATE cases SET stage = 'SNA', changed = '2026-12-07 09:00:00' WHERE id = 1",
        "UPDATE cases SET stage = 'ASN', changed = '2026-12-07 08:59:00' WHERE id = 2",
    )
    assert len(poll(db, source)) == 2
    host(db, "UPDATE cases SET changed = '2026-12-07 07:00:00'")  # stamps moved back
    assert poll(db, source) == []  # a poll that reads nothing keeps the high water
    with db.read() as conn:
        assert conn.scalar(select(poll_states.c.high_water)) == "2026-12-07T09:00:00"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_engines_never_poll_one_source_at_once(db: Database) -> None:
    source = cases(db)
    with db.write() as first, db.write() as second:
        assert polling.claim_due(first, T0) == [source.id]
        assert polling.claim_due(second, T0) == []  # locked by the first: skipped


def test_with_a_changed_column_a_deleted_record_stays_in_the_snapshot(db: Database) -> None:
    """Only rows changed lately are read, so a missing row is not a deleted one."""
    source = moved_on(db)
    host(db, "UPDATE cases SET stage = 'ASN', changed = '2026-12-07 09:01:00' WHERE id = 1")
    assert len(poll(db, source)) == 1  # record 2 was not read this time
    with db.read() as conn:
        keys = set(
            conn.scalars(
                select(poll_snapshots.c.record_key).where(poll_snapshots.c.source_id == source.id)
            )
        )
    assert keys == {"1", "2"}


def test_without_a_polled_source_a_wake_opens_no_transaction_for_polling(
    db: Database,
) -> None:
    worker = Engine(db)
    worker.start()
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    assert worker.poll_sources() == 0
    assert sent == []  # nothing polled: not even a look at sf_poll_states
    worker.stop()
