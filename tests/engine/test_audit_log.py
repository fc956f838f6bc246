"""Reading the audit log: filters an auditor uses, the CSV they take away, no tampering."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.governance import audit_log
from engine.storage.database import Database

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(db: Database) -> Database:
    """Four entries over three days, by two people."""
    rows = [
        (0, "ann", "user.add", "user", "ben", "Added the user ben", None, {"roles": ["operator"]}),
        (1, "pia", "graph.publish", "graph_version", "v-1", "Published 'Delivered' V1.0",
         None, None),
        (2, "ann", "settings.set", "setting", "engine.loop_depth_limit",
         "Changed the setting 'engine.loop_depth_limit'.", 5, 8),
        (2, "pia", "graph.rollback", "graph_version", "v-0", "Rolled back 'Delivered' to V0.9",
         {"state": "superseded"}, {"state": "published", "note": "café"}),
    ]  # fmt: skip
    with db.write() as conn:
        for days, actor, action, kind, object_id, summary, before, after in rows:
            audit.record(
                conn,
                actor=actor,
                action=action,
                object_type=kind,
                object_id=object_id,
                summary=summary,
                before=before,
                after=after,
                at=MONDAY + timedelta(days=days, minutes=len(action)),
            )
    return db


def actions(db: Database, **filters) -> list[str]:
    with db.read() as conn:
        return [entry.action for entry in audit_log.query(conn, **filters)]


def test_entries_come_newest_first(history: Database) -> None:
    assert actions(history) == ["graph.rollback", "settings.set", "graph.publish", "user.add"]
    assert actions(history, limit=2) == ["graph.rollback", "settings.set"]


def test_filters_narrow_by_time_person_action_and_object(history: Database) -> None:
    tuesday = MONDAY.replace(hour=0) + timedelta(days=1)
    wednesday = tuesday + timedelta(days=1)
    assert actions(history, since=tuesday, until=wednesday) == ["graph.publish"]
    assert actions(history, since=wednesday) == ["graph.rollback", "settings.set"]
    assert actions(history, actor="ann") == ["settings.set", "user.add"]
    assert actions(history, action="graph.") == ["graph.rollback", "graph.publish"]
    assert actions(history, action="graph.publish") == ["graph.publish"]
    assert actions(history, object_type="graph_version", object_id="v-0") == ["graph.rollback"]


def test_the_action_prefix_is_taken_literally(history: Database) -> None:
    assert actions(history, action="user_") == []
    assert actions(history, action="%") == []


def test_csv_holds_every_column_an_auditor_needs(history: Database) -> None:
    with history.read() as conn:
        entries = audit_log.query(conn, since=MONDAY + timedelta(days=2))
    file = io.StringIO()
    audit_log.to_csv(entries, file)
    rows = list(csv.reader(io.StringIO(file.getvalue())))
    assert rows[0] == [
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "summary",
        "before",
        "after",
    ]
    assert rows[1] == [
        "2026-01-07T09:14:00+00:00",
        "pia",
        "graph.rollback",
        "graph_version",
        "v-0",
        "Rolled back 'Delivered' to V0.9",
        '{"state":"superseded"}',
        '{"note":"café","state":"published"}',
    ]
    assert rows[2][0] == "2026-01-07T09:12:00+00:00" and rows[2][6:] == ["5", "8"]
    assert len(rows) == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE sf_audit_entries SET summary = 'nothing happened'", "DELETE FROM sf_audit_entries"],
)
def test_entries_cannot_be_changed_or_removed(history: Database, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), history.write() as conn:
        conn.execute(text(statement))
    assert len(actions(history)) == 4
