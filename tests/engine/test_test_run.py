"""Test runs: the graph plays on a simulated clock and nothing is sent or changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.governance.test_run import ScriptedChange, simulate
from engine.storage.database import Database
from engine.storage.tables import graph_versions, runs, status_events
from tests.engine.runtime.support import shop
from tests.host import as_host, stored

LADDER = "Salesperson not assigned → escalation ladder"


def test_scripted_changes_read_like_people_write_them() -> None:
    change = ScriptedChange.parse("+1h status becomes ASN")
    assert change == ScriptedChange(timedelta(hours=1), "status", "ASN")
    assert ScriptedChange.parse("+2 days amount = 900").after == timedelta(days=2)
    with pytest.raises(StatusFlowError, match="like '\\+1h status becomes ASN'"):
        ScriptedChange.parse("in an hour the status is ASN")


def test_escalation_ladder_with_a_change_at_one_hour_sends_nothing(
    db: Database, smtp_server
) -> None:
    clock = ManualClock()
    shop(db, clock)
    with as_host(db) as conn:
        status_before = conn.execute(text("SELECT status FROM orders WHERE id = 3")).scalar_one()

    result = simulate(
        db,
        LADDER,
        actor="ana",
        record_key="3",
        changes=[ScriptedChange.parse("+1h status becomes ASN")],
        clock=clock,
    )

    summaries = [line["summary"] for line in result.timeline]
    assert sum(s.startswith("Would email sales-team@example.com") for s in summaries) == 1
    assert not any("Would text" in s for s in summaries)
    assert result.outcome == "cancelled"
    assert "remaining steps were not executed" in result.verdict
    assert [line["after"] for line in result.timeline][:2] == ["0:00:00", "0:00:00"]
    assert smtp_server.messages == []  # rendered, never sent
    with db.read() as conn:
        query = text(f"SELECT status FROM {stored(db, 'orders')} WHERE id = 3")
        assert conn.execute(query).scalar_one() == (status_before)
        assert conn.execute(select(runs)).all() == []
        assert conn.execute(select(status_events)).all() == []


def test_without_changes_the_whole_ladder_plays_in_simulated_time(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    result = simulate(db, LADDER, actor="ana", record_key="3", clock=clock)
    summaries = [line["summary"] for line in result.timeline]
    assert sum(s.startswith("Would email") for s in summaries) == 2
    assert sum(s.startswith("Would text +15550100") for s in summaries) == 1
    assert result.verdict == "Succeeded"
    sms_line = next(line for line in result.timeline if "Would text" in line["summary"])
    assert sms_line["after"] == "6:00:00"
    assert len(result.path) == 7 and result.stopped_at == result.path[-1]


def test_the_draft_test_run_travels_with_the_submitted_version(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    simulate(db, "Delivered → confirmation email", actor="ana", record_key="7", clock=clock)
    version = versions.submit(db, "Delivered → confirmation email", actor="ana", clock=clock)
    with db.read() as conn:
        stored = conn.execute(
            select(graph_versions.c.last_test_run).where(graph_versions.c.id == version.id)
        ).scalar_one()
    assert stored["verdict"] == "Succeeded"


def test_a_record_given_as_json(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    record = {
        "id": 999,
        "customer_name": "Test Person",
        "email": "t@example.com",
        "amount": 10,
        "status": "NEW",
    }
    result = simulate(db, "Delivered → confirmation email", actor="ana", record=record, clock=clock)
    assert any("Would email t@example.com" in line["summary"] for line in result.timeline)
